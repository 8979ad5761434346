package dev.railyard.proxy.render.nftables;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The tracer on hand-written rules in kube-proxy's style (not upstream data), one behaviour per test, so that a broken
 * tracer cannot make the vectors pass by accident.
 */
class KubeProxyNftTracerTest {
    static final List<String> NODE_IPS = List.of("192.168.0.2", "192.168.1.2", "2001:db8::1");

    static final String RULES = """
            add table ip kube-proxy { comment "rules for kube-proxy" ; }
            add chain ip kube-proxy filter-prerouting-pre-dnat { type filter hook prerouting priority -110 ; }
            add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }
            add chain ip kube-proxy filter-forward { type filter hook forward priority 0 ; }
            add chain ip kube-proxy filter-input { type filter hook input priority 0 ; }
            add chain ip kube-proxy mark-for-masquerade
            add chain ip kube-proxy services
            add chain ip kube-proxy firewall-check
            add chain ip kube-proxy fw-svc1
            add chain ip kube-proxy svc1
            add chain ip kube-proxy ext1
            add chain ip kube-proxy ep-a
            add chain ip kube-proxy ep-b
            add chain ip kube-proxy reject-chain
            add chain ip kube-proxy forward-checks
            add chain ip kube-proxy input-checks
            add set ip kube-proxy cluster-ips { type ipv4_addr ; }
            add set ip kube-proxy nodeport-ips { type ipv4_addr ; }
            add set ip kube-proxy allowed { type ipv4_addr . inet_proto . inet_service . ipv4_addr ; flags interval ; }
            add set ip kube-proxy watched { type ipv4_addr . inet_proto . inet_service ; }
            add set ip kube-proxy watched-ports { type inet_proto . inet_service ; }
            add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; }
            add map ip kube-proxy service-nodeports { type inet_proto . inet_service : verdict ; }
            add map ip kube-proxy firewall-ips { type ipv4_addr . inet_proto . inet_service : verdict ; }
            add map ip kube-proxy no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; }
            add rule ip kube-proxy filter-prerouting-pre-dnat ct state new jump firewall-check
            add rule ip kube-proxy firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips
            add rule ip kube-proxy fw-svc1 ip saddr != { 203.0.113.0/25, 192.168.0.0/24 } drop
            add rule ip kube-proxy nat-prerouting jump services
            add rule ip kube-proxy nat-prerouting ip daddr 5.5.5.5 meta l4proto tcp dnat to 10.9.9.9:5
            add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips
            add rule ip kube-proxy services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports
            add rule ip kube-proxy services ip daddr 5.5.5.5 meta l4proto tcp dnat to 10.8.8.8:5
            add rule ip kube-proxy svc1 ip daddr 172.30.0.41 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
            add rule ip kube-proxy svc1 numgen random mod 2 vmap { 0 : goto ep-a , 1 : goto ep-b }
            add rule ip kube-proxy ext1 ip saddr 10.0.0.0/8 goto svc1 comment "short-circuit pod traffic"
            add rule ip kube-proxy ext1 fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"
            add rule ip kube-proxy ext1 fib saddr type local goto svc1 comment "short-circuit local traffic"
            add rule ip kube-proxy ep-a ip saddr 10.180.0.1 jump mark-for-masquerade
            add rule ip kube-proxy ep-a meta l4proto tcp dnat to 10.180.0.1:80
            add rule ip kube-proxy ep-b meta l4proto tcp dnat to 10.180.2.1:80
            add rule ip kube-proxy reject-chain reject
            add rule ip kube-proxy filter-forward ct state new jump forward-checks
            add rule ip kube-proxy forward-checks ip daddr . meta l4proto . th dport vmap @no-endpoint-services
            add rule ip kube-proxy forward-checks ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"
            add rule ip kube-proxy forward-checks ip daddr { 172.30.0.0/16 } drop comment "Drop traffic to unallocated ClusterIPs"
            add rule ip kube-proxy forward-checks ip daddr { 10.9.0.0/16, 10.8.0.0/16 } drop
            add rule ip kube-proxy filter-input ct state new jump input-checks
            add rule ip kube-proxy input-checks ip daddr 10.180.2.1 tcp dport 80 return
            add rule ip kube-proxy input-checks ip daddr . meta l4proto . th dport . ip saddr @allowed return
            add rule ip kube-proxy input-checks ip daddr . meta l4proto . th dport @watched drop
            add rule ip kube-proxy input-checks meta l4proto . th dport @watched-ports fib daddr type local reject
            add element ip kube-proxy cluster-ips { 172.30.0.41 }
            add element ip kube-proxy cluster-ips { 172.30.0.42 }
            add element ip kube-proxy nodeport-ips { 192.168.0.2 }
            add element ip kube-proxy allowed { 10.180.0.1 . tcp . 80 . 10.0.0.0/8 }
            add element ip kube-proxy allowed { 10.180.0.1 . tcp . 80 . 192.168.0.0/24 }
            add element ip kube-proxy watched { 10.180.0.1 . tcp . 80 }
            add element ip kube-proxy watched-ports { udp . 53 }
            add element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 : goto svc1 }
            add element ip kube-proxy service-ips { 1.2.3.4 . tcp . 80 : goto ext1 }
            add element ip kube-proxy service-ips { 5.5.5.5 . tcp . 6 : goto ext1 }
            add element ip kube-proxy service-nodeports { tcp . 3001 : goto ext1 }
            add element ip kube-proxy firewall-ips { 1.2.3.4 . tcp . 80 : goto fw-svc1 }
            add element ip kube-proxy no-endpoint-services { 172.30.0.42 . tcp . 80 comment "ns2/svc2:p80" : goto reject-chain }
            """;

    private static KubeProxyNftTracer.Result trace(String rules, String src, String proto, String dst, String port) {
        return KubeProxyNftTracer.trace(NftFakeTable.fromDump(rules), NODE_IPS, src, proto, dst, port);
    }

    private static KubeProxyNftTracer.Result trace(String src, String proto, String dst, String port) {
        return trace(RULES, src, proto, dst, port);
    }

    @Test
    void clusterIpRunsEveryEndpointOfTheNumgenVmapInOrder() {
        var result = trace("10.0.0.2", "tcp", "172.30.0.41", "80");
        assertThat(result.outputs()).containsExactly("10.180.0.1:80", "10.180.2.1:80");
        assertThat(result.output()).isEqualTo("10.180.0.1:80, 10.180.2.1:80");
        assertThat(result.masq()).isFalse();
        assertThat(result.errors()).isEmpty();
    }

    @Test
    void negatedSourceAndHairpinSetTheMasqueradeFlag() {
        assertThat(trace("203.0.113.2", "tcp", "172.30.0.41", "80").masq()).isTrue();
        // the hairpin rule in ep-a sees the pod's own address
        assertThat(trace("10.180.0.1", "tcp", "172.30.0.41", "80").masq()).isTrue();
        // ep-b has no hairpin rule, but ep-a (also traced) does
        assertThat(trace("10.180.2.1", "tcp", "172.30.0.41", "80").masq()).isFalse();
    }

    @Test
    void unknownPortOfAClusterIpIsRejectedAndAnUnallocatedClusterIpDropped() {
        assertThat(trace("10.0.0.2", "tcp", "172.30.0.41", "443").output()).isEqualTo("REJECT");
        assertThat(trace("10.0.0.2", "udp", "172.30.0.41", "80").output()).isEqualTo("REJECT");
        assertThat(trace("10.0.0.2", "tcp", "172.30.9.9", "80").output()).isEqualTo("DROP");
        // no endpoints: the vmap value "goto reject-chain" runs the chain's reject
        assertThat(trace("10.0.0.2", "tcp", "172.30.0.42", "80").output()).isEqualTo("REJECT");
    }

    @Test
    void preDnatFirewallDropEndsTheTraceBeforeNat() {
        var blocked = trace("203.0.113.130", "tcp", "1.2.3.4", "80");
        assertThat(blocked.output()).isEqualTo("DROP");
        assertThat(blocked.masq()).isFalse();
        assertThat(blocked.matches()).containsExactly("ct state new jump firewall-check",
                "ip daddr . meta l4proto . th dport vmap @firewall-ips",
                "ip saddr != { 203.0.113.0/25, 192.168.0.0/24 } drop");
    }

    @Test
    void notEqualToAnAnonymousSetMeansNoMemberMatches() {
        // allowed by 203.0.113.0/25; ext1 then has nothing for an external source (no local endpoints in this sketch)
        var allowed = trace("203.0.113.2", "tcp", "1.2.3.4", "80");
        assertThat(allowed.output()).isEmpty();
        assertThat(allowed.errors()).isEmpty();
        var node = trace("192.168.0.2", "tcp", "1.2.3.4", "80");
        assertThat(node.output()).isEqualTo("10.180.0.1:80, 10.180.2.1:80");
        assertThat(node.masq()).isTrue();
    }

    @Test
    void anAnonymousSetWithoutNotEqualMatchesOnlyIfEveryMemberMatches() {
        // upstream's addressMatchesSet: "ip daddr { 10.9.0.0/16, 10.8.0.0/16 }" can never match one address
        var result = trace("10.0.0.2", "tcp", "5.5.5.5", "5");
        assertThat(result.outputs()).containsExactly("10.8.8.8:5");
        assertThat(result.output()).doesNotContain("DROP");
    }

    @Test
    void gotoReturnsToTheCallerButAVerdictEndsTheChain() {
        // port 5: not in service-ips, so the services chain goes on to its third rule
        assertThat(trace("10.0.0.2", "tcp", "5.5.5.5", "5").output()).isEqualTo("10.8.8.8:5");
        // port 6: service-ips sends it to ext1, which falls through; after that goto the services chain returns (its
        // third rule is not reached) and nat-prerouting, which jumped to it, goes on to its own second rule
        var fallThrough = trace("203.0.113.2", "tcp", "5.5.5.5", "6");
        assertThat(fallThrough.output()).isEqualTo("10.9.9.9:5");
        assertThat(fallThrough.errors()).isEmpty();
        // the node to the LB IP: ext1's "goto svc1" ends in a dnat, so nothing after it runs
        var node = trace("192.168.0.2", "tcp", "1.2.3.4", "80");
        assertThat(node.output()).isEqualTo("10.180.0.1:80, 10.180.2.1:80");
        assertThat(node.masq()).isTrue();
        // a pod is outside the LB's source ranges: dropped before NAT
        assertThat(trace("10.0.0.2", "tcp", "1.2.3.4", "80").output()).isEqualTo("DROP");
    }

    @Test
    void nodePortsNeedANodePortIpAndFibLocalUsesOnlyTheGivenNodeIps() {
        assertThat(trace("192.168.0.2", "tcp", "192.168.0.2", "3001").output())
                .isEqualTo("10.180.0.1:80, 10.180.2.1:80");
        assertThat(trace("192.168.0.2", "tcp", "192.168.1.2", "3001").output()).isEmpty();
        // 127.0.0.1 is not among the node IPs the tracer was given, so it is not "fib saddr type local"
        assertThat(trace("127.0.0.1", "tcp", "192.168.0.2", "3001").output()).isEmpty();
        // "meta l4proto . th dport @set fib daddr type local reject" in filter-input
        assertThat(trace("203.0.113.2", "udp", "192.168.1.2", "53").output()).isEqualTo("REJECT");
        assertThat(trace("203.0.113.2", "udp", "192.168.9.9", "53").output()).isEmpty();
    }

    @Test
    void filterChainsSeeTheDnattedDestination() {
        // after DNAT to 10.180.0.1:80, filter-input's "@watched drop" applies to the new destination...
        var result = trace("10.0.0.2", "tcp", "172.30.0.41", "80");
        assertThat(result.outputs()).containsExactly("10.180.0.1:80", "10.180.2.1:80");
        // ...unless the source is allowed: the "ip daddr . ... . ip saddr @allowed return" rule matches 10/8 sources
        var external = trace("203.0.113.2", "tcp", "172.30.0.41", "80");
        assertThat(external.outputs()).containsExactly("10.180.0.1:80", "10.180.2.1:80", "DROP");
    }

    @Test
    void literalPortsCompareProtocolAndPort() {
        String rules = RULES.replace("ip daddr 10.180.2.1 tcp dport 80 return", "ip daddr 10.180.0.1 tcp dport 80 return");
        assertThat(trace(rules, "203.0.113.2", "tcp", "172.30.0.41", "80").output())
                .isEqualTo("10.180.0.1:80, 10.180.2.1:80");
    }

    @Test
    void ipv6RulesAndBracketedDnatDestinations() {
        String rules = """
                add table ip6 kube-proxy
                add chain ip6 kube-proxy filter-prerouting-pre-dnat { type filter hook prerouting priority -110 ; }
                add chain ip6 kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }
                add chain ip6 kube-proxy filter-forward { type filter hook forward priority 0 ; }
                add chain ip6 kube-proxy filter-input { type filter hook input priority 0 ; }
                add chain ip6 kube-proxy ep
                add rule ip6 kube-proxy nat-prerouting ip6 daddr fd00:172:30::41 ip6 saddr != fd00:10::/64 jump mark-for-masquerade
                add rule ip6 kube-proxy nat-prerouting ip6 daddr fd00:172:30::41 goto ep
                add rule ip6 kube-proxy ep meta l4proto tcp dnat to [fd00:10:180::1]:80
                add rule ip6 kube-proxy filter-forward ip6 daddr fd00:10:180::1 tcp dport 80 reject
                add chain ip6 kube-proxy mark-for-masquerade
                """;
        var result = trace(rules, "2600:5200::1", "tcp", "fd00:172:30:0::41", "80");
        // "fd00:172:30:0::41" is the same address, but a different string: address rules compare as addresses
        assertThat(result.outputs()).containsExactly("[fd00:10:180::1]:80", "REJECT");
        assertThat(result.masq()).isTrue();
        assertThat(result.errors()).isEmpty();
    }

    @Test
    void setLookupsCompareKeysAsStrings() {
        // an element key "172.030.0.41" is the same address as 172.30.0.41, but not the same string
        String rules = RULES.replace("service-ips { 172.30.0.41 . tcp", "service-ips { 172.030.0.41 . tcp");
        assertThat(trace(rules, "10.0.0.2", "tcp", "172.30.0.41", "80").output()).isEqualTo("REJECT");
    }

    @Test
    void rulesTheTracerDoesNotKnowAreErrors() {
        String rules = RULES.replace("add rule ip kube-proxy ep-b meta l4proto tcp dnat to 10.180.2.1:80",
                "add rule ip kube-proxy ep-b counter meta l4proto tcp dnat to 10.180.2.1:80");
        var result = trace(rules, "10.0.0.2", "tcp", "172.30.0.41", "80");
        assertThat(result.errors()).containsExactly(
                "unmatched rule: counter meta l4proto tcp dnat to 10.180.2.1:80");
        assertThat(result.outputs()).containsExactly("10.180.0.1:80");
    }

    @Test
    void sessionAffinityRulesCannotBeTracedUpstreamEither() {
        String rules = RULES.replace("add set ip kube-proxy cluster-ips { type ipv4_addr ; }",
                "add set ip kube-proxy cluster-ips { type ipv4_addr ; }\n"
                        + "add set ip kube-proxy affinity-a { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; }")
                .replace("add rule ip kube-proxy svc1 numgen",
                        "add rule ip kube-proxy svc1 ip saddr @affinity-a goto ep-a\nadd rule ip kube-proxy svc1 numgen");
        var result = trace(rules, "10.0.0.2", "tcp", "172.30.0.41", "80");
        // "ip saddr @affinity-a" is read as an address comparison with "@affinity-a"
        assertThat(result.errors()).containsExactly("Bad IP/CIDR in kube-proxy output: @affinity-a");
    }

    @Test
    void aMissingBaseChainIsAnErrorThatEndsTheTrace() {
        String rules = RULES.replace(
                "add chain ip kube-proxy filter-prerouting-pre-dnat { type filter hook prerouting priority -110 ; }\n",
                "").replace("add rule ip kube-proxy filter-prerouting-pre-dnat ct state new jump firewall-check\n", "");
        var result = trace(rules, "10.0.0.2", "tcp", "172.30.0.41", "80");
        assertThat(result.errors()).containsExactly("unknown chain \"filter-prerouting-pre-dnat\"");
        assertThat(result.outputs()).isEmpty();
    }

    @Test
    void aBadAddressInTheTestCaseEndsTheTrace() {
        var result = trace("not-an-ip", "tcp", "1.2.3.4", "80");
        assertThat(result.errors()).containsExactly("Bad IP in test case: not-an-ip");
    }

    @Test
    void runPacketFlowTestsReportsOutputMasqueradeAndErrors() {
        NftFakeTable table = NftFakeTable.fromDump(RULES);
        var good = new KubeProxyNftTracer.Flow("pod to svc1", "10.0.0.2", "", "172.30.0.41", 80,
                "10.180.0.1:80, 10.180.2.1:80", false);
        var wrongOutput = new KubeProxyNftTracer.Flow("wrong output", "10.0.0.2", "TCP", "172.30.0.41", 80,
                "10.180.0.1:80", false);
        var wrongMasq = new KubeProxyNftTracer.Flow("wrong masq", "10.0.0.2", "tcp", "172.30.0.41", 80,
                "10.180.0.1:80, 10.180.2.1:80", true);

        assertThat(KubeProxyNftTracer.runPacketFlowTests(table, NODE_IPS, List.of(good))).isEmpty();
        List<String> failures = KubeProxyNftTracer.runPacketFlowTests(table, NODE_IPS,
                List.of(good, wrongOutput, wrongMasq));
        assertThat(failures).hasSize(2);
        assertThat(failures.get(0)).contains("Test \"wrong output\"",
                "wrong output: expected \"10.180.0.1:80\" got \"10.180.0.1:80, 10.180.2.1:80\"");
        assertThat(failures.get(1)).contains("wrong masq: expected true got false");
    }
}
