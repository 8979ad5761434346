package dev.railyard.proxy.inspect.nftables;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.inspect.Affinity;
import dev.railyard.proxy.inspect.EndpointShare;
import dev.railyard.proxy.inspect.LocalAddresses;
import dev.railyard.proxy.inspect.Origin;
import dev.railyard.proxy.inspect.Packet;
import dev.railyard.proxy.inspect.PacketEvaluator;
import dev.railyard.proxy.inspect.RulesetDiff;
import dev.railyard.proxy.inspect.Step;
import dev.railyard.proxy.inspect.Trace;
import dev.railyard.proxy.inspect.Verdict;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The evaluator on real {@code nft list ruleset} output of node-a (src/test/resources/inspect-nftables): kube-proxy's
 * table for examples/cluster.yaml in either layout, plus two tables of other programs whose base chains sit
 * before, between and after kube-proxy's.
 */
class NftablesEvaluatorTest {
    static final String KUBE_PROXY_LAYOUT = "node-a-kube-proxy-layout.nft";
    static final String FLAT_LAYOUT = "node-a-flat-layout-with-handles.nft";
    /** Railyard's flat layout before the shared endpoint maps: one endpoint map per service port. */
    static final String FLAT_LAYOUT_V1 = "node-a-flat-layout-v1-with-handles.nft";
    private static final LocalAddresses NODE_A = LocalAddresses.of(List.of("192.168.10.11"));

    @ParameterizedTest
    @ValueSource(strings = {KUBE_PROXY_LAYOUT, FLAT_LAYOUT, FLAT_LAYOUT_V1})
    void aClientInsideTheSourceRangeIsSpreadOverEveryEndpointWithAffinityReported(String listing) throws Exception {
        Trace trace = trace(listing, packet("203.0.113.7", "198.51.100.20", 443, Protocol.TCP, Origin.EXTERNAL));

        assertThat(trace.verdicts()).containsOnlyKeys(Verdict.DNAT);
        assertThat(trace.endpoints()).extracting(EndpointShare::address)
                .containsExactly("10.244.0.31:8443", "10.244.1.32:8443", "10.244.1.33:8443");
        assertThat(trace.endpoints()).allSatisfy(e -> {
            assertThat(e.probability()).isCloseTo(1.0 / 3, Offset.offset(1e-12));
            assertThat(e.masquerade()).as("the load balancer's external chain marks for masquerade").isTrue();
        });
        assertThat(trace.affinity()).extracting(Affinity::seconds).containsOnly(600L);
        assertThat(trace.affinity()).extracting(Affinity::endpoint)
                .containsExactly("10.244.0.31:8443", "10.244.1.32:8443", "10.244.1.33:8443");
        assertThat(trace.unevaluated()).isEmpty();
        assertThat(trace.path()).anySatisfy(step -> {
            assertThat(step.table()).isEqualTo("ip kube-proxy");
            assertThat(step.rule()).startsWith("numgen random mod 3 vmap {");
            assertThat(step.why()).startsWith("random choice 2 of 3 (33.3% of the packets that get here)");
            assertThat(step.reach()).isCloseTo(1.0 / 3, Offset.offset(1e-12));
        });
    }

    @Test
    void aClientOutsideTheSourceRangeIsDroppedBeforeDnat() throws Exception {
        Trace trace = trace(KUBE_PROXY_LAYOUT, packet("192.0.2.50", "198.51.100.20", 443, Protocol.TCP,
                Origin.EXTERNAL));

        assertThat(trace.verdicts()).containsOnlyKeys(Verdict.DROP);
        assertThat(trace.outcomes().get(0).decidedBy()).isEqualTo("ip kube-proxy firewall-2FHNLMWZ-shop/checkout/tcp/"
                + "https: ip saddr != 203.0.113.0/24 drop");
        assertThat(trace.path()).extracting(Step::chain).doesNotContain("nat-prerouting");
    }

    @ParameterizedTest
    @ValueSource(strings = {KUBE_PROXY_LAYOUT, FLAT_LAYOUT, FLAT_LAYOUT_V1})
    void anotherTablesDropAtAnEarlierPriorityOfTheSameHookDecides(String listing) throws Exception {
        // DNATed to a pod, then forwarded: inet firewall's forward chain (filter - 5) runs before filter-forward.
        Trace trace = trace(listing, packet("198.51.100.7", "10.96.0.10", 53, Protocol.UDP, Origin.EXTERNAL));

        assertThat(trace.verdicts()).containsOnlyKeys(Verdict.DROP);
        assertThat(trace.outcomes()).hasSize(2).allSatisfy(o -> assertThat(o.decidedBy()).isEqualTo("inet firewall "
                + "forward: ip saddr 198.51.100.0/24 counter packets 0 bytes 0 drop comment \"blocked clients\""));
    }

    @Test
    void aFilterChainBeforeTheNatCoreSeesTheOriginalDestinationWhateverTheNatChainsPriority() throws Exception {
        // inet firewall pre (-120) runs before NAT, which the kernel does at -100 even for edge's chain at -150.
        Trace trace = trace(KUBE_PROXY_LAYOUT, packet("203.0.113.9", "10.96.0.10", 53, Protocol.UDP,
                Origin.EXTERNAL));

        assertThat(trace.verdicts()).containsOnlyKeys(Verdict.DROP);
        assertThat(trace.outcomes().get(0).decidedBy()).startsWith("inet firewall pre: ");
    }

    @Test
    void natChainsRunInPriorityOrderAndTheFirstDnatEndsNatForTheHook() throws Exception {
        Trace trace = trace(KUBE_PROXY_LAYOUT, packet("192.0.2.53", "10.96.0.10", 53, Protocol.UDP,
                Origin.EXTERNAL));

        assertThat(trace.endpoints()).extracting(EndpointShare::address).containsExactly("10.244.0.99:53");
        assertThat(trace.endpoints().get(0).probability()).isEqualTo(1.0);
        assertThat(trace.path()).extracting(Step::chain).doesNotContain("nat-prerouting", "services");
    }

    @Test
    void anUntrackedPacketIsNeitherNatedNorNew() throws Exception {
        Trace trace = trace(KUBE_PROXY_LAYOUT, packet("192.0.2.77", "10.96.0.10", 53, Protocol.UDP,
                Origin.EXTERNAL));

        assertThat(trace.verdicts()).containsOnlyKeys(Verdict.ACCEPT);
        assertThat(trace.endpoints()).isEmpty();
        assertThat(trace.path()).extracting(Step::chain).doesNotContain("services", "cluster-ips-check");
    }

    @Test
    void anInterfaceTestIsNotGuessedWithoutTheInterface() throws Exception {
        // 10.96.0.1:443 -> 192.168.10.11:6443 is local: firewall input runs "iifname "lo" accept".
        Packet unknown = packet("203.0.113.7", "10.96.0.1", 443, Protocol.TCP, Origin.EXTERNAL);
        Trace withoutInterface = trace(KUBE_PROXY_LAYOUT, unknown);
        Trace onEth0 = trace(KUBE_PROXY_LAYOUT, new Packet("203.0.113.7", 0, "10.96.0.1", 443, Protocol.TCP,
                Origin.EXTERNAL, "eth0"));

        assertThat(withoutInterface.unevaluated()).extracting(Step::rule).containsExactly("iifname \"lo\" accept");
        assertThat(withoutInterface.unevaluated().get(0).why()).contains("iifname is not known");
        assertThat(onEth0.unevaluated()).isEmpty();
        // The API server's port is accepted on the node; the other endpoint is forwarded.
        assertThat(onEth0.verdicts()).containsOnlyKeys(Verdict.DNAT);
        assertThat(onEth0.endpoints()).extracting(EndpointShare::address)
                .containsExactly("192.168.10.11:6443", "192.168.10.12:6443");
    }

    @Test
    void aBaseChainsPolicyDropEndsTheTrace() throws Exception {
        Trace trace = trace(KUBE_PROXY_LAYOUT, new Packet("203.0.113.7", 0, "192.168.10.11", 8080, Protocol.TCP,
                Origin.EXTERNAL, "eth0"));
        Trace fromTheNode = trace(KUBE_PROXY_LAYOUT, packet("192.168.10.11", "192.168.10.11", 8080, Protocol.TCP,
                Origin.NODE));

        assertThat(trace.verdicts()).containsOnlyKeys(Verdict.DROP);
        assertThat(trace.outcomes().get(0).decidedBy()).isEqualTo("inet firewall input policy drop");
        // The node's own connection comes back in over lo, which the firewall accepts.
        assertThat(fromTheNode.verdicts()).containsOnlyKeys(Verdict.ACCEPT);
        assertThat(fromTheNode.unevaluated()).isEmpty();
    }

    @Test
    void aRuleWithAPartNotModelledIsReportedOnlyWhenItsEarlierTestsHold() throws Exception {
        Trace limited = trace(KUBE_PROXY_LAYOUT, packet("192.0.2.66", "10.96.0.10", 53, Protocol.UDP,
                Origin.EXTERNAL));
        Trace other = trace(KUBE_PROXY_LAYOUT, packet("192.0.2.67", "10.96.0.10", 53, Protocol.UDP, Origin.EXTERNAL));

        assertThat(limited.unevaluated()).extracting(Step::rule)
                .containsExactly("ip saddr 192.0.2.66 limit rate 10/second accept");
        assertThat(limited.unevaluated().get(0).why()).isEqualTo("cannot evaluate: a rate limit depends on the "
                + "traffic before this packet; treated as not matching");
        assertThat(limited.outcomes()).allSatisfy(o -> assertThat(o.unevaluated()).isEqualTo(1));
        assertThat(other.unevaluated()).isEmpty();
        assertThat(other.endpoints()).extracting(EndpointShare::address)
                .containsExactly("10.244.0.5:53", "10.244.1.7:53");
    }

    @Test
    void anInetTablesRulesForTheOtherFamilyDoNotMatch() throws Exception {
        Trace v6 = trace(KUBE_PROXY_LAYOUT, packet("2001:db8:bad::1", "2001:db8:1::5", 80, Protocol.TCP,
                Origin.EXTERNAL));
        Trace v6Allowed = trace(KUBE_PROXY_LAYOUT, packet("2001:db8:900::1", "2001:db8:1::5", 80, Protocol.TCP,
                Origin.EXTERNAL));

        assertThat(v6.verdicts()).containsOnlyKeys(Verdict.DROP);
        assertThat(v6.outcomes().get(0).decidedBy()).isEqualTo("inet firewall forward: ip6 saddr 2001:db8:bad::/48 "
                + "drop");
        assertThat(v6Allowed.verdicts()).containsOnlyKeys(Verdict.ACCEPT);
        assertThat(v6Allowed.path()).extracting(Step::table).doesNotContain("ip kube-proxy", "ip edge");
    }

    @Test
    void hairpinTrafficIsMasqueradedInBothLayouts() throws Exception {
        for (String listing : List.of(KUBE_PROXY_LAYOUT, FLAT_LAYOUT, FLAT_LAYOUT_V1)) {
            Trace trace = trace(listing, packet("10.244.0.5", "10.96.0.10", 53, Protocol.UDP, Origin.POD));

            assertThat(trace.endpoints()).as(listing).containsExactly(
                    new EndpointShare("10.244.0.5:53", 0.5, true), new EndpointShare("10.244.1.7:53", 0.5, false));
        }
    }

    @Test
    void onlyOutcomesLeavesThePathOutButFindsTheSameOutcomes() throws Exception {
        NftablesServiceRuleset rules = rules(FLAT_LAYOUT);
        Packet packet = packet("203.0.113.7", "198.51.100.20", 443, Protocol.TCP, Origin.EXTERNAL);

        Trace outcomes = rules.trace(packet, PacketEvaluator.Detail.OUTCOMES);

        assertThat(outcomes.path()).isEmpty();
        assertThat(outcomes.outcomes()).isEqualTo(rules.trace(packet).outcomes());
    }

    @ParameterizedTest
    @ValueSource(strings = {FLAT_LAYOUT, FLAT_LAYOUT_V1})
    void bothLayoutsListedByNftMeanTheSame(String flat) throws Exception {
        RulesetDiff.Report report = RulesetDiff.compare(rules(KUBE_PROXY_LAYOUT), rules(flat),
                new RulesetDiff.Settings(IpFamily.V4, "10.244.0.0/16"));

        assertThat(report.differing()).isEmpty();
        assertThat(report.frontends()).hasSize(13);
        assertThat(report.notes()).anyMatch(n -> n.contains("probes met rules of A that cannot be evaluated"));
    }

    @Test
    void aFlatDispatchRuleReadsOnlyItsOwnBlockOfTheSharedEndpointMap() throws Exception {
        // shop/web's cluster chain reads keys 40 and 41 of endpoints-tcp; key 44 (its local chain's block) holds
        // 10.244.0.21 again, and the map holds every other TCP service's endpoints too.
        Trace trace = trace(FLAT_LAYOUT, packet("10.244.1.5", "10.101.22.7", 80, Protocol.TCP, Origin.POD));

        assertThat(trace.verdicts()).containsOnlyKeys(Verdict.DNAT);
        assertThat(trace.endpoints()).containsExactly(new EndpointShare("10.244.0.21:8080", 0.5, false),
                new EndpointShare("10.244.1.22:8080", 0.5, false));
        assertThat(trace.path()).filteredOn(step -> step.rule().endsWith("map @endpoints-tcp"))
                .extracting(Step::why).containsExactly(
                        "random choice 0 of 2, key 40 (50% of the packets that get here); DNAT to 10.244.0.21:8080",
                        "random choice 1 of 2, key 41 (50% of the packets that get here); DNAT to 10.244.1.22:8080");
    }

    @Test
    void aKeyMissingFromTheSharedMapIsAChoiceThatDoesNotMatch() throws Exception {
        // As the kernel does: the map lookup finds nothing, so the dnat rule does not match and the chain ends.
        String listing = resource(FLAT_LAYOUT).replace(" 40 : 10.244.0.21 . 8080,", "");
        assertThat(listing).isNotEqualTo(resource(FLAT_LAYOUT));
        NftablesServiceRuleset rules = NftablesServiceRuleset.fromText("edited", "edited", listing, NODE_A);

        Trace trace = rules.trace(packet("10.244.1.5", "10.101.22.7", 80, Protocol.TCP, Origin.POD));

        assertThat(trace.endpoints()).containsExactly(new EndpointShare("10.244.1.22:8080", 0.5, false));
        assertThat(trace.path()).extracting(Step::why).contains("random choice 0 of 2, key 40 (50% of the packets "
                + "that get here) has no element: the rule does not match");
    }

    @Test
    void numgenKeysWrapAt32BitsAsTheKernelsRegisterDoes() throws Exception {
        NftablesServiceRuleset rules = NftablesServiceRuleset.fromText("wrap", "wrap", """
                table ip t {
                	map m {
                		typeof numgen random mod 1 : ip daddr . tcp dport
                		elements = { 4294967295 : 10.0.0.1 . 80, 0 : 10.0.0.2 . 80 }
                	}

                	chain pre {
                		type nat hook prerouting priority dstnat; policy accept;
                		ip daddr 10.96.0.1 meta l4proto tcp dnat ip to numgen random mod 2 offset 4294967295 map @m
                	}
                }
                """, NODE_A);

        Trace trace = rules.trace(packet("192.0.2.1", "10.96.0.1", 80, Protocol.TCP, Origin.EXTERNAL));

        assertThat(trace.endpoints()).extracting(EndpointShare::address).containsExactly("10.0.0.1:80",
                "10.0.0.2:80");
        assertThat(trace.unevaluated()).isEmpty();
    }

    // ---------------------------------------------------------------------------------------------------------

    static NftablesServiceRuleset rules(String resource) throws Exception {
        return NftablesServiceRuleset.fromText(resource, resource, resource(resource), NODE_A);
    }

    static String resource(String name) throws IOException {
        try (InputStream in = NftablesEvaluatorTest.class.getResourceAsStream("/inspect-nftables/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static Trace trace(String listing, Packet packet) throws Exception {
        return rules(listing).trace(packet);
    }

    private static Packet packet(String source, String destination, int port, Protocol protocol, Origin origin) {
        return Packet.of(source, destination, port, protocol, origin);
    }
}
