package dev.railyard.proxy.render;

import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * kube-proxy's packet-flow tests ({@code runPacketFlowTests}) and large-cluster line checks, run against OUR rendered
 * rules for kube-proxy's own test inputs (see src/test/resources/kubeproxy-compat/README.md).
 */
class KubeProxyPacketFlowTest {

    /** One line of a flows.tsv. */
    record Flow(String name, String sourceIp, String protocol, String destIp, String destPort, String output,
            boolean masq) {
    }

    static List<Flow> flows(CompatCase testCase) throws Exception {
        List<Flow> flows = new ArrayList<>();
        for (String line : testCase.file("flows.tsv").split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\t", -1);
            if (f.length != 7) {
                throw new IllegalArgumentException(testCase + ": flows.tsv line has " + f.length + " fields: " + line);
            }
            if (!f[6].equals("true") && !f[6].equals("false")) {
                throw new IllegalArgumentException(testCase + ": bad masq flag in flows.tsv line: " + line);
            }
            flows.add(new Flow(f[0], f[1], f[2], f[3], f[4], f[5], Boolean.parseBoolean(f[6])));
        }
        return flows;
    }

    @TestFactory
    List<DynamicNode> packetFlowsMatchKubeProxys() throws Exception {
        List<DynamicNode> containers = new ArrayList<>();
        List<CompatCase> cases = CompatCase.having("flows.tsv");
        assertThat(cases).as("cases with flows.tsv").isNotEmpty();
        for (CompatCase testCase : cases) {
            List<Flow> flows = flows(testCase);
            assertThat(flows).as(testCase + " flows").isNotEmpty();
            Set<String> local = PacketTracer.localIps(testCase.list("nodeInterfaceAddresses"));
            // Render lazily, once per case; a render failure fails every flow of that case.
            String[] rendered = new String[1];
            List<DynamicTest> tests = new ArrayList<>();
            for (Flow flow : flows) {
                tests.add(DynamicTest.dynamicTest(testCase + ": " + flow.name(), () -> {
                    if (rendered[0] == null) {
                        rendered[0] = testCase.render();
                    }
                    PacketTracer.Result result = PacketTracer.trace(rendered[0], local, flow.sourceIp(),
                            flow.protocol(), flow.destIp(), flow.destPort());
                    String description = String.format("%s: %s (%s %s -> %s:%s); matched rules:%n  %s", testCase,
                            flow.name(), flow.protocol(), flow.sourceIp(), flow.destIp(), flow.destPort(),
                            String.join("\n  ", result.matchedRules()));
                    assertThat(result.output()).as(description + "\noutput").isEqualTo(flow.output());
                    assertThat(result.masq()).as(description + "\nmasq").isEqualTo(flow.masq());
                }));
            }
            containers.add(DynamicContainer.dynamicContainer(testCase.name, tests));
        }
        return containers;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // expected-lines.txt (large-cluster mode)

    @TestFactory
    List<DynamicTest> largeClusterLinesMatchKubeProxys() {
        List<CompatCase> cases = CompatCase.having("expected-lines.txt");
        assertThat(cases).as("cases with expected-lines.txt").isNotEmpty();
        List<DynamicTest> tests = new ArrayList<>();
        for (CompatCase testCase : cases) {
            tests.add(DynamicTest.dynamicTest(testCase.name, () -> checkLines(testCase)));
        }
        return tests;
    }

    /**
     * Header: "Lines considered: those starting with '-A KUBE-SEP-' and containing '-j DNAT'". {@code count_dnat_lines}
     * is how many such lines there are, {@code count_dnat_lines_with_comment} how many of them have a
     * {@code --comment}, and {@code line_matching_<IP>} is the exact (single) considered line containing that IP.
     */
    private static void checkLines(CompatCase testCase) throws Exception {
        Map<String, String> expected = new LinkedHashMap<>();
        for (String line : testCase.file("expected-lines.txt").split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int eq = line.indexOf('=');
            expected.put(line.substring(0, eq), line.substring(eq + 1));
        }
        assertThat(expected).containsKeys("count_dnat_lines", "count_dnat_lines_with_comment");

        List<String> dnatLines = testCase.render().lines()
                .filter(l -> l.startsWith("-A KUBE-SEP-") && l.contains("-j DNAT"))
                .collect(Collectors.toList());

        assertThat(dnatLines).as(testCase + ": count_dnat_lines")
                .hasSize(Integer.parseInt(expected.get("count_dnat_lines")));
        assertThat(dnatLines.stream().filter(l -> l.contains("--comment")).count())
                .as(testCase + ": count_dnat_lines_with_comment")
                .isEqualTo(Long.parseLong(expected.get("count_dnat_lines_with_comment")));
        int checked = 0;
        for (Map.Entry<String, String> entry : expected.entrySet()) {
            if (!entry.getKey().startsWith("line_matching_")) {
                continue;
            }
            String ip = entry.getKey().substring("line_matching_".length());
            List<String> matching = dnatLines.stream().filter(l -> l.contains(ip)).collect(Collectors.toList());
            assertThat(matching).as(testCase + ": " + entry.getKey()).containsExactly(entry.getValue());
            checked++;
        }
        assertThat(checked).as(testCase + ": line_matching_ entries").isPositive();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The tracer itself, on hand-written rules, so that a broken tracer cannot make the flows pass vacuously.

    @Nested
    class TracerSelfTest {
        static final Set<String> LOCAL = PacketTracer.localIps(
                List.of("127.0.0.1/8", "::1/128", "192.168.0.2/24", "2001:db8::1/64"));

        static final String RULES = String.join("\n",
                "*filter",
                ":KUBE-SERVICES - [0:0]",
                ":KUBE-EXTERNAL-SERVICES - [0:0]",
                ":KUBE-NODEPORTS - [0:0]",
                ":KUBE-PROXY-FIREWALL - [0:0]",
                ":KUBE-FORWARD - [0:0]",
                "-A KUBE-SERVICES -m comment --comment \"ns9/none:p80 has no endpoints\" -m tcp -p tcp -d 172.30.0.99 --dport 80 -j REJECT",
                "-A KUBE-SERVICES -m comment --comment \"ctstate never matches\" -m conntrack --ctstate NEW -d 10.9.9.9 -j REJECT",
                "-A KUBE-EXTERNAL-SERVICES -m comment --comment \"matches the DNAT result\" -m tcp -p tcp -d 10.180.0.9 --dport 80 -j DROP",
                "-A KUBE-PROXY-FIREWALL -m comment --comment \"original destination is gone after DNAT\" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j DROP",
                "-A KUBE-NODEPORTS -m comment --comment \"ns1/svc1:p80 health check node port\" -m tcp -p tcp --dport 30000 -j ACCEPT",
                "-A KUBE-PROXY-FIREWALL -m comment --comment \"ns7/fw:p80 traffic not accepted by KUBE-FW\" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j DROP",
                "-A KUBE-FORWARD -m comment --comment \"not traced\" -j DROP",
                "COMMIT",
                "*nat",
                ":KUBE-SERVICES - [0:0]",
                ":KUBE-NODEPORTS - [0:0]",
                ":KUBE-MARK-MASQ - [0:0]",
                ":KUBE-SVC-ONE - [0:0]",
                ":KUBE-SVC-TWO - [0:0]",
                ":KUBE-SEP-A - [0:0]",
                ":KUBE-SEP-B - [0:0]",
                ":KUBE-SEP-C - [0:0]",
                ":KUBE-SVC-AFF - [0:0]",
                ":KUBE-SEP-AFF - [0:0]",
                ":KUBE-FW-FW - [0:0]",
                "-A KUBE-SERVICES -m comment --comment \"ns1/svc1:p80 cluster IP\" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-ONE",
                "-A KUBE-SERVICES -m comment --comment \"ns2/svc2:p80 cluster IP\" -m tcp -p tcp -d 172.30.0.42 --dport 80 -j KUBE-SVC-TWO",
                "-A KUBE-SERVICES -m comment --comment \"ns6/v6:p80 cluster IP\" -m tcp -p tcp -d fd00:172:30::41 --dport 80 -j KUBE-SVC-ONE",
                "-A KUBE-SERVICES -m comment --comment \"ns3/aff:p80 cluster IP\" -m tcp -p tcp -d 172.30.0.43 --dport 80 -j KUBE-SVC-AFF",
                "-A KUBE-SERVICES -m comment --comment \"ns7/fw:p80 loadbalancer IP\" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j KUBE-FW-FW",
                "-A KUBE-SERVICES -m comment --comment \"ns8/nomark:p80 cluster IP\" -m tcp -p tcp -d 172.30.0.44 --dport 80 -m mark --mark 0x4000/0x4000 -j KUBE-SVC-ONE",
                "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS",
                "-A KUBE-NODEPORTS -m comment --comment ns1/svc1:p80 -m tcp -p tcp --dport 3001 -j KUBE-SVC-ONE",
                "-A KUBE-NODEPORTS -m comment --comment \"local only\" -m addrtype --src-type LOCAL -m tcp -p tcp --dport 3002 -j KUBE-SVC-ONE",
                "-A KUBE-SVC-ONE -m comment --comment \"ns1/svc1:p80 cluster IP\" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ",
                "-A KUBE-SVC-ONE -m comment --comment \"ns1/svc1:p80 -> 10.180.0.1:80\" -j KUBE-SEP-A",
                "-A KUBE-SVC-TWO -m comment --comment \"ns2/svc2:p80 -> 10.180.0.2:80\" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-B",
                "-A KUBE-SVC-TWO -m comment --comment \"ns2/svc2:p80 -> 10.180.0.3:80\" -j KUBE-SEP-C",
                "-A KUBE-SVC-AFF -m comment --comment \"ns3/aff:p80 -> 10.180.0.9:80\" -m recent --name KUBE-SEP-AFF --rcheck --seconds 10800 --reap -j KUBE-SEP-A",
                "-A KUBE-SVC-AFF -m comment --comment \"ns3/aff:p80 -> 10.180.0.9:80\" -j KUBE-SEP-AFF",
                "-A KUBE-SEP-A -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ",
                "-A KUBE-SEP-A -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80",
                "-A KUBE-SEP-A -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.111:80",
                "-A KUBE-SEP-B -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80",
                "-A KUBE-SEP-C -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80",
                "-A KUBE-SEP-AFF -m comment --comment ns3/aff:p80 -m recent --name KUBE-SEP-AFF --set -m tcp -p tcp -j DNAT --to-destination 10.180.0.9:80",
                "-A KUBE-FW-FW -m comment --comment \"ns7/fw:p80 loadbalancer IP\" -s 203.0.113.0/25 -j KUBE-SVC-ONE",
                "-A KUBE-FW-FW -m comment --comment \"ns7/fw:p80 other\" ! -s 203.0.113.0/25 -j KUBE-MARK-MASQ",
                "-A KUBE-FW-FW -m comment --comment \"no jump here\" -s 203.0.113.130",
                "COMMIT",
                "");

        private PacketTracer.Result trace(String src, String proto, String dst, String port) {
            return PacketTracer.trace(RULES, LOCAL, src, proto, dst, port);
        }

        @Test
        void clusterIpIsDnattedAndStopsAtTheFirstEndpoint() {
            var result = trace("10.1.2.3", "tcp", "172.30.0.41", "80");
            // the second DNAT in KUBE-SEP-A is never reached; "! -s 10.0.0.0/8" does not match a pod source
            assertThat(result.output()).isEqualTo("10.180.0.1:80");
            assertThat(result.masq()).isFalse();
        }

        @Test
        void negatedSourceMatchesOnlyOutsideTheCidr() {
            var result = trace("192.0.2.7", "tcp", "172.30.0.41", "80");
            assertThat(result.output()).isEqualTo("10.180.0.1:80");
            assertThat(result.masq()).isTrue();
        }

        @Test
        void exactSourceAddressMatchesHairpin() {
            var result = trace("10.180.0.1", "tcp", "172.30.0.41", "80");
            assertThat(result.output()).isEqualTo("10.180.0.1:80");
            assertThat(result.masq()).isTrue();
        }

        @Test
        void probabilityChainListsEveryEndpointInOrder() {
            var result = trace("10.1.2.3", "", "172.30.0.42", "80");
            assertThat(result.outputs()).containsExactly("10.180.0.2:80", "10.180.0.3:80");
            assertThat(result.output()).isEqualTo("10.180.0.2:80, 10.180.0.3:80");
            assertThat(result.masq()).isFalse();
        }

        @Test
        void protocolPortAndDestinationMustAllMatch() {
            assertThat(trace("10.1.2.3", "udp", "172.30.0.41", "80").output()).isEmpty();
            assertThat(trace("10.1.2.3", "tcp", "172.30.0.41", "81").output()).isEmpty();
            assertThat(trace("10.1.2.3", "tcp", "172.30.0.40", "80").output()).isEmpty();
        }

        @Test
        void ipv6DestinationsMatch() {
            var result = trace("fd00:10::2", "tcp", "fd00:172:30:0::41", "80");
            assertThat(result.output()).isEqualTo("10.180.0.1:80");
            // the masquerade rule wants -d 172.30.0.41, which an IPv6 destination is not
            assertThat(result.masq()).isFalse();
            // an IPv6 address is never inside 10.0.0.0/8, so "! -s 10.0.0.0/8" matches it
            String rules = String.join("\n", "*nat", ":KUBE-SERVICES - [0:0]",
                    "-A KUBE-SERVICES ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ",
                    "-A KUBE-SERVICES -s 10.0.0.0/8 -j DNAT --to-destination 10.1.1.1:80",
                    "-A KUBE-SERVICES -s fd00:10::/64 -j DNAT --to-destination 10.2.2.2:80", "COMMIT", "");
            var v6 = PacketTracer.trace(rules, LOCAL, "fd00:10::2", "tcp", "fd00:172:30::41", "80");
            assertThat(v6.output()).isEqualTo("10.2.2.2:80");
            assertThat(v6.masq()).isTrue();
            var v4 = PacketTracer.trace(rules, LOCAL, "10.3.3.3", "tcp", "fd00:172:30::41", "80");
            assertThat(v4.output()).isEqualTo("10.1.1.1:80");
            assertThat(v4.masq()).isFalse();
        }

        @Test
        void nodePortsOnlyForLocalDestinations() {
            assertThat(trace("203.0.113.2", "tcp", "192.168.0.2", "3001").output()).isEqualTo("10.180.0.1:80");
            assertThat(trace("203.0.113.2", "tcp", "2001:db8::1", "3001").output()).isEqualTo("10.180.0.1:80");
            assertThat(trace("203.0.113.2", "tcp", "192.168.0.3", "3001").output()).isEmpty();
            // --src-type LOCAL
            assertThat(trace("203.0.113.2", "tcp", "192.168.0.2", "3002").output()).isEmpty();
            assertThat(trace("192.168.0.2", "tcp", "192.168.0.2", "3002").output()).isEqualTo("10.180.0.1:80");
            assertThat(trace("::1", "tcp", "2001:db8::1", "3002").output()).isEqualTo("10.180.0.1:80");
        }

        @Test
        void affinityCheckNeverMatchesButAffinitySetDoes() {
            // (filter KUBE-EXTERNAL-SERVICES then drops the DNAT result 10.180.0.9:80)
            var result = trace("10.1.2.3", "tcp", "172.30.0.43", "80");
            assertThat(result.output()).isEqualTo("10.180.0.9:80, DROP");
        }

        @Test
        void markCheckNeverMatches() {
            assertThat(trace("10.1.2.3", "tcp", "172.30.0.44", "80").output()).isEmpty();
        }

        @Test
        void sourceRangesAndRulesWithoutJump() {
            var allowed = trace("203.0.113.2", "tcp", "5.6.7.8", "80");
            assertThat(allowed.output()).isEqualTo("10.180.0.1:80");
            assertThat(allowed.masq()).isFalse(); // KUBE-SVC-ONE's masquerade rule wants -d 172.30.0.41
            // blocked: falls through KUBE-FW-FW (masq), then filter KUBE-PROXY-FIREWALL drops it on the original IP
            var blocked = trace("203.0.113.130", "tcp", "5.6.7.8", "80");
            assertThat(blocked.output()).isEqualTo("DROP");
            assertThat(blocked.masq()).isTrue();
        }

        @Test
        void filterChainsUseTheDnattedDestination() {
            // KUBE-PROXY-FIREWALL drops 172.30.0.41:80, but the packet now goes to 10.180.0.1
            var result = trace("10.1.2.3", "tcp", "172.30.0.41", "80");
            assertThat(result.output()).isEqualTo("10.180.0.1:80");
            // KUBE-EXTERNAL-SERVICES drops traffic to 10.180.0.9 (the DNAT result), so both outputs are listed
            assertThat(trace("10.1.2.3", "tcp", "172.30.0.43", "80").outputs())
                    .containsExactly("10.180.0.9:80", "DROP");
            // only the FIRST nat output decides the destination
            var both = PacketTracer.trace(RULES.replace("-d 10.180.0.9 --dport 80 -j DROP", "-d 10.180.0.3 -j DROP"),
                    LOCAL, "10.1.2.3", "tcp", "172.30.0.42", "80");
            assertThat(both.output()).isEqualTo("10.180.0.2:80, 10.180.0.3:80");
        }

        @Test
        void filterChainsRunEvenWithoutNat() {
            assertThat(trace("10.1.2.3", "tcp", "172.30.0.99", "80").output()).isEqualTo("REJECT");
            assertThat(trace("10.1.2.3", "tcp", "10.9.9.9", "30000").output()).isEqualTo("ACCEPT");
            // the --ctstate rule in filter KUBE-SERVICES never matches, and KUBE-FORWARD is not traced
            assertThat(trace("10.1.2.3", "tcp", "10.9.9.9", "1").output()).isEmpty();
            // the blocked source of the LB firewall, without NAT output: the DROP comes from the original destination
            assertThat(trace("10.1.2.3", "tcp", "172.30.0.41", "80").matchedRules())
                    .noneMatch(r -> r.contains("original destination is gone"));
        }

        @Test
        void wordsKeepQuotedCommentsTogether() {
            assertThat(PacketTracer.words("-A X -m comment --comment \"a b: c\" -j Y"))
                    .containsExactly("-A", "X", "-m", "comment", "--comment", "a b: c", "-j", "Y");
            PacketTracer.Rule rule = PacketTracer.parseRule(
                    "-A X -m comment --comment \"-d 1.2.3.4 -j DROP\" ! -d 10.0.0.0/8 -j Y");
            assertThat(rule.destinationAddress).isEqualTo(new PacketTracer.Value(true, "10.0.0.0/8"));
            assertThat(rule.jump).isEqualTo(new PacketTracer.Value(false, "Y"));
        }

        @Test
        void badDestinationAfterIpv6DnatFailsLikeKubeProxysTracer() {
            String rules = String.join("\n", "*filter", ":KUBE-SERVICES - [0:0]",
                    "-A KUBE-SERVICES -d fd00::1 -j REJECT", "COMMIT", "*nat", ":KUBE-SERVICES - [0:0]",
                    "-A KUBE-SERVICES -d fd00:172:30::41 -j DNAT --to-destination [fd00:10:180::1]:80", "COMMIT", "");
            assertThatThrownBy(() -> PacketTracer.trace(rules, LOCAL, "fd00:10::2", "tcp", "fd00:172:30::41", "80"))
                    .hasMessageContaining("Bad IP in test case: [fd00");
        }
    }
}
