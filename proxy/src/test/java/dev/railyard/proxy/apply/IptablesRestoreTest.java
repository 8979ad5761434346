package dev.railyard.proxy.apply;

import dev.railyard.proxy.model.IpFamily;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.RequiresPrivileges;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Real iptables-restore against the kernel, inside a fresh namespace per test. */
@RequiresPrivileges(commands = {"iptables-restore", "iptables-save", "ip6tables-restore", "ip6tables-save"})
class IptablesRestoreTest {

    private static final String VALID = String.join("\n",
            "*nat",
            ":KUBE-SERVICES - [0:0]",
            ":KUBE-SVC-TEST - [0:0]",
            "-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment \"default/web:http cluster IP\" -m tcp --dport 80 -j KUBE-SVC-TEST",
            "-A KUBE-SVC-TEST -p tcp -m tcp -j DNAT --to-destination 10.244.1.5:8080",
            "COMMIT",
            "*filter",
            ":KUBE-FORWARD - [0:0]",
            "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP",
            "COMMIT",
            "");

    private NetworkNamespace ns;
    private IptablesRestore ipv4;
    private IptablesRestore ipv6;

    @BeforeEach
    void setUp() {
        ns = NetworkNamespace.create();
        ipv4 = IptablesRestore.of(IpFamily.V4).withCommandPrefix(ns.commandPrefix());
        ipv6 = IptablesRestore.of(IpFamily.V6).withCommandPrefix(ns.commandPrefix());
    }

    @AfterEach
    void tearDown() {
        ns.close();
    }

    @Test
    void commandIsKubeProxys() {
        assertThat(IptablesRestore.of(IpFamily.V4).command(false))
                .containsExactly("iptables-restore", "-w", "5", "--noflush", "--counters");
        assertThat(IptablesRestore.of(IpFamily.V6).command(true))
                .containsExactly("ip6tables-restore", "-w", "5", "--noflush", "--counters", "--test");
    }

    @Test
    void restoredRulesAreInTheKernel() throws Exception {
        ipv4.restore(bytes(VALID));

        String saved = save("iptables-save");
        assertThat(saved)
                .contains(":KUBE-SVC-TEST - [0:0]")
                .contains("-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment \"default/web:http cluster IP\" -m tcp --dport 80 -j KUBE-SVC-TEST")
                .contains("-A KUBE-SVC-TEST -p tcp -m tcp -j DNAT --to-destination 10.244.1.5:8080")
                .contains("-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP");
    }

    @Test
    void noflushLeavesChainsNotInTheInputAlone() throws Exception {
        ns.execChecked("iptables", "-w", "5", "-t", "filter", "-N", "SOMEONE-ELSES");
        ns.execChecked("iptables", "-w", "5", "-t", "filter", "-A", "SOMEONE-ELSES", "-j", "RETURN");
        ns.execChecked("iptables", "-w", "5", "-t", "filter", "-A", "INPUT", "-p", "udp", "--dport", "53", "-j", "ACCEPT");

        ipv4.restore(bytes(VALID));
        // A second restore replaces the chains it declares rather than appending to them.
        ipv4.restore(bytes(VALID));

        String saved = save("iptables-save");
        assertThat(saved).contains("-A SOMEONE-ELSES -j RETURN").contains("-A INPUT -p udp -m udp --dport 53 -j ACCEPT");
        assertThat(saved.lines().filter(l -> l.startsWith("-A KUBE-SVC-TEST ")).count()).isEqualTo(1);
    }

    @Test
    void lengthVariantsIgnoreBytesBeyondTheValidPart() throws Exception {
        byte[] buffer = bytes(VALID + "this is not iptables syntax\n");
        int validLength = bytes(VALID).length;

        ipv4.test(buffer, validLength);
        ipv4.restore(buffer, validLength);

        assertThat(save("iptables-save")).contains("-A KUBE-SVC-TEST");
    }

    @Test
    void testModeAcceptsAValidRulesetWithoutApplyingIt() throws Exception {
        ipv4.test(bytes(VALID));

        assertThat(save("iptables-save")).doesNotContain("KUBE-SVC-TEST");
    }

    @Test
    void testModeRejectsASyntaxErrorNamingTheLine() {
        String invalid = String.join("\n",
                "*filter",
                ":KUBE-FORWARD - [0:0]",
                "-A KUBE-FORWARD -j ACCEPT",
                "-A KUBE-FORWARD --no-such-option",
                "-A KUBE-FORWARD -j DROP",
                "COMMIT",
                "");

        assertThatThrownBy(() -> ipv4.test(bytes(invalid)))
                .isInstanceOfSatisfying(IptablesRestoreException.class, e -> {
                    assertThat(e.failedLine()).hasValue(4);
                    assertThat(e.excerpt()).containsExactly(
                            new InputLine(3, "-A KUBE-FORWARD -j ACCEPT"),
                            new InputLine(4, "-A KUBE-FORWARD --no-such-option"),
                            new InputLine(5, "-A KUBE-FORWARD -j DROP"));
                    assertThat(e.exitCode()).isNotZero();
                    assertThat(e.stderr()).contains("no-such-option");
                    assertThat(e.getMessage()).contains("line 4").contains("> 4: -A KUBE-FORWARD --no-such-option");
                });
    }

    @Test
    void failedRestoreReportsTheLineAndAppliesNothing() {
        String undeclaredChain = String.join("\n",
                "*filter",
                ":KUBE-FORWARD - [0:0]",
                "-A KUBE-FORWARD -j ACCEPT",
                "-A KUBE-CHAIN-NOBODY-DECLARED -j ACCEPT",
                "COMMIT",
                "");

        assertThatThrownBy(() -> ipv4.restore(bytes(undeclaredChain)))
                .isInstanceOfSatisfying(IptablesRestoreException.class, e -> {
                    assertThat(e.failedLine()).hasValue(4);
                    assertThat(e.excerpt()).extracting(InputLine::number).containsExactly(3, 4, 5);
                    assertThat(e.stderr()).contains("line 4 failed");
                });
        assertThat(save("iptables-save")).doesNotContain("KUBE-FORWARD");
    }

    @Test
    void ipv6RulesGoThroughIp6tablesRestore() throws Exception {
        String rules = String.join("\n",
                "*nat",
                ":KUBE-SERVICES - [0:0]",
                "-A KUBE-SERVICES -d fd00:10:96::a/128 -p tcp -m tcp --dport 53 -j DNAT --to-destination [fd00:10:244::5]:53",
                "COMMIT",
                "");

        ipv6.test(bytes(rules));
        ipv6.restore(bytes(rules));

        assertThat(save("ip6tables-save"))
                .contains("-A KUBE-SERVICES -d fd00:10:96::a/128 -p tcp -m tcp --dport 53 -j DNAT --to-destination [fd00:10:244::5]:53");
        assertThat(save("iptables-save")).doesNotContain("KUBE-SERVICES");
    }

    @Test
    void ipv4SyntaxIsRejectedByTheIpv6Restorer() {
        assertThatThrownBy(() -> ipv6.restore(bytes(VALID)))
                .isInstanceOfSatisfying(IptablesRestoreException.class, e -> {
                    assertThat(e.failedLine()).isPresent();
                    assertThat(e.command()).contains("ip6tables-restore");
                });
    }

    private String save(String command) {
        return ns.execChecked(command).stdout();
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
