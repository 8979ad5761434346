package dev.railyard.proxy.apply;

import dev.railyard.proxy.model.IpFamily;
import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.RequiresPrivileges;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Real iptables in a fresh namespace per test. */
@RequiresPrivileges(commands = {"iptables", "ip6tables"})
class JumpRulesTest {

    private NetworkNamespace ns;

    @BeforeEach
    void setUp() {
        ns = NetworkNamespace.create();
    }

    @AfterEach
    void tearDown() {
        ns.close();
    }

    @Test
    void ruleSpecsMatchKubeProxy() {
        assertThat(JumpRules.ALL).hasSize(14);
        assertThat(JumpRules.KUBE_PROXY.get(0).spec()).containsExactly("-m", "conntrack", "--ctstate", "NEW",
                "-m", "comment", "--comment", "kubernetes externally-visible service portals", "-j", "KUBE-EXTERNAL-SERVICES");
        assertThat(JumpRules.KUBELET.get(1).spec()).containsExactly("-j", "KUBE-FIREWALL");
        assertThat(JumpRules.KUBE_PROXY.get(11).toSaveFormat())
                .isEqualTo("-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING");
    }

    @Test
    void ensureTwiceLeavesEachRuleExactlyOnce() throws Exception {
        ensureTwiceLeavesEachRuleExactlyOnce(IpFamily.V4, "iptables");
    }

    @Test
    void ensureTwiceLeavesEachRuleExactlyOnceForIpv6() throws Exception {
        ensureTwiceLeavesEachRuleExactlyOnce(IpFamily.V6, "ip6tables");
    }

    @Test
    void removeDeletesExactlyTheJumpRules() throws Exception {
        removeDeletesExactlyTheJumpRules(IpFamily.V4, "iptables");
    }

    @Test
    void removeDeletesExactlyTheJumpRulesForIpv6() throws Exception {
        removeDeletesExactlyTheJumpRules(IpFamily.V6, "ip6tables");
    }

    @Test
    void removeWhenNothingWasInstalledIsANoOp() throws Exception {
        assertThat(jumpRules(IpFamily.V4).remove()).isEmpty();
    }

    @Test
    void ruleWhoseTargetChainIsMissingDoesNotExist() throws Exception {
        assertThat(jumpRules(IpFamily.V4).exists(JumpRules.KUBE_PROXY.get(0))).isFalse();
    }

    @Test
    void ensureKeepsRulesAlreadyInOurChains() throws Exception {
        ns.execChecked("iptables", "-w", "5", "-t", "nat", "-N", "KUBE-SERVICES");
        ns.execChecked("iptables", "-w", "5", "-t", "nat", "-A", "KUBE-SERVICES", "-d", "10.96.0.1/32", "-j", "RETURN");

        jumpRules(IpFamily.V4).ensure();

        assertThat(rules("iptables", "nat")).contains("-A KUBE-SERVICES -d 10.96.0.1/32 -j RETURN");
    }

    private void ensureTwiceLeavesEachRuleExactlyOnce(IpFamily family, String iptables) throws Exception {
        JumpRules jumps = jumpRules(family);

        List<JumpRule> first = jumps.ensure();
        List<JumpRule> second = jumps.ensure();

        assertThat(first).containsExactlyElementsOf(JumpRules.ALL);
        assertThat(second).isEmpty();
        for (JumpRule rule : JumpRules.ALL) {
            List<String> lines = rules(iptables, rule.table());
            assertThat(lines).as("%s in %s", rule, iptables).containsOnlyOnce(rule.toSaveFormat());
            assertThat(lines.stream().filter(rule.toSaveFormat()::equals).count()).as(rule.toString()).isEqualTo(1);
            assertThat(lines).contains("-N " + rule.target());
            assertThat(jumps.exists(rule)).isTrue();
        }
        // Prepended (-I), so they come before rules that were there already.
        assertThat(rules(iptables, "filter").stream().filter(l -> l.startsWith("-A INPUT")).findFirst().orElseThrow())
                .contains("-j KUBE-");
    }

    private void removeDeletesExactlyTheJumpRules(IpFamily family, String iptables) throws Exception {
        ns.execChecked(iptables, "-w", "5", "-t", "filter", "-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "ACCEPT");
        ns.execChecked(iptables, "-w", "5", "-t", "nat", "-N", "UNRELATED");
        ns.execChecked(iptables, "-w", "5", "-t", "nat", "-A", "PREROUTING", "-j", "UNRELATED");
        List<String> filterBefore = rules(iptables, "filter");
        List<String> natBefore = rules(iptables, "nat");
        JumpRules jumps = jumpRules(family);
        jumps.ensure();
        // A duplicate someone else added must go too: remove() promises the rule is gone.
        ns.execChecked(iptables, "-w", "5", "-t", "nat", "-A", "POSTROUTING", "-m", "comment", "--comment",
                "kubernetes postrouting rules", "-j", "KUBE-POSTROUTING");

        List<JumpRule> removed = jumps.remove();

        assertThat(removed).containsExactlyElementsOf(JumpRules.ALL);
        for (JumpRule rule : JumpRules.ALL) {
            assertThat(rules(iptables, rule.table())).doesNotContain(rule.toSaveFormat());
        }
        // Everything else is as before, except our (now unreferenced) chains, which are left in place.
        assertThat(withoutKubeChains(rules(iptables, "filter"))).isEqualTo(filterBefore);
        assertThat(withoutKubeChains(rules(iptables, "nat"))).isEqualTo(natBefore);
        assertThat(rules(iptables, "filter")).contains("-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT");
        assertThat(rules(iptables, "nat")).contains("-A PREROUTING -j UNRELATED");
        assertThat(jumps.remove()).isEmpty();
    }

    private JumpRules jumpRules(IpFamily family) {
        return JumpRules.of(family).withCommandPrefix(ns.commandPrefix());
    }

    private List<String> rules(String iptables, String table) {
        return ns.execChecked(iptables, "-w", "5", "-t", table, "-S").stdout().lines().toList();
    }

    private static List<String> withoutKubeChains(List<String> lines) {
        return lines.stream().filter(l -> !l.startsWith("-N KUBE-")).toList();
    }
}
