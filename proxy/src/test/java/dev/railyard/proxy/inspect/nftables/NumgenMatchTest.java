package dev.railyard.proxy.inspect.nftables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import dev.railyard.proxy.inspect.DiffReports;
import dev.railyard.proxy.inspect.EndpointShare;
import dev.railyard.proxy.inspect.Frontend;
import dev.railyard.proxy.inspect.LocalAddresses;
import dev.railyard.proxy.inspect.Origin;
import dev.railyard.proxy.inspect.Outcome;
import dev.railyard.proxy.inspect.Packet;
import dev.railyard.proxy.inspect.PacketEvaluator;
import dev.railyard.proxy.inspect.RulesetDiff;
import dev.railyard.proxy.inspect.Step;
import dev.railyard.proxy.inspect.Trace;
import dev.railyard.proxy.inspect.Verdict;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.testkit.RequiresPrivileges;
import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The flat layout's dispatch without anonymous sets: an iptables-style cascade of comparisons of a random number
 * ({@code numgen random mod 3 0 goto A}, {@code numgen random mod 2 0 goto B}, {@code goto C}: each rule takes
 * 1/(rules left) of the packets that reach it) instead of {@code numgen random mod 3 vmap { ... }}, and a source
 * range firewall of {@code ip saddr X return} rules and a {@code drop} instead of {@code ip saddr != { ... } drop}.
 * Trace splits on each comparison by the share of values that match; diff finds either form of the same service
 * the same, and a cascade of other shares different. Run on node-a's real flat-layout listing, edited.
 */
class NumgenMatchTest {
    private static final LocalAddresses NODE_A = LocalAddresses.of(List.of("192.168.10.11"));
    private static final RulesetDiff.Settings SETTINGS = new RulesetDiff.Settings(IpFamily.V4, "10.244.0.0/16");
    private static final String A = "endpoint-H2O5H4NC-shop/checkout/tcp/https__10.244.0.31/8443";
    private static final String B = "endpoint-IXTNODKI-shop/checkout/tcp/https__10.244.1.32/8443";
    private static final String C = "endpoint-QPALKZTE-shop/checkout/tcp/https__10.244.1.33/8443";
    private static final String VMAP = "\t\tnumgen random mod 3 vmap { 0 : goto " + A + ", 1 : goto " + B + ", 2 : goto "
            + C + " } # handle 89\n";
    private static final String CASCADE = "\t\tnumgen random mod 3 0 goto " + A + " # handle 89\n"
            + "\t\tnumgen random mod 2 0 goto " + B + " # handle 120\n"
            + "\t\tgoto " + C + " # handle 121\n";
    private static final String FIREWALL = "\t\tip saddr != 203.0.113.0/24 drop # handle 81\n";
    /** The load balancer 198.51.100.20:443 (shop/checkout) from a client in its source range. */
    private static final Packet INSIDE = Packet.of("203.0.113.7", "198.51.100.20", 443, Protocol.TCP,
            Origin.EXTERNAL);
    private static final List<String> ENDPOINTS = List.of("10.244.0.31:8443", "10.244.1.32:8443",
            "10.244.1.33:8443");

    @Test
    void aCascadeOfThreeEndpointsGivesEachAThird() throws Exception {
        NftablesServiceRuleset rules = flat(CASCADE, FIREWALL);

        Trace trace = rules.trace(INSIDE);

        assertThat(trace.verdicts()).containsOnlyKeys(Verdict.DNAT);
        assertThat(trace.endpoints()).extracting(EndpointShare::address).containsExactlyElementsOf(ENDPOINTS);
        assertThat(trace.endpoints()).allSatisfy(e -> {
            assertThat(e.probability()).isCloseTo(1.0 / 3, Offset.offset(1e-12));
            assertThat(e.masquerade()).isTrue();
        });
        assertThat(trace.outcomes()).extracting(Outcome::probability).hasSize(3)
                .allSatisfy(p -> assertThat(p).isCloseTo(1.0 / 3, Offset.offset(1e-12)));
        assertThat(trace.unevaluated()).isEmpty();
        assertThat(trace.affinity()).hasSize(3);
        assertThat(trace.path()).filteredOn(s -> s.chain().equals("service-2FHNLMWZ-shop/checkout/tcp/https")
                        && (s.rule().startsWith("numgen") || s.rule().startsWith("goto")))
                .extracting(Step::rule, Step::result, Step::why, s -> Math.round(s.reach() * 1e9) / 1e9)
                .containsExactly(
                        tuple("numgen random mod 3 0 goto " + A, Step.Result.MATCH, "random choice: numgen random "
                                + "mod 3 gives 0 (1 of its 3 values: 33.3% of the packets that get here); go to "
                                + A, 0.333333333),
                        tuple("numgen random mod 3 0 goto " + A, Step.Result.NO_MATCH, "random choice: numgen "
                                + "random mod 3 gives 1 or 2 (2 of its 3 values: 66.7% of the packets that get "
                                + "here), which does not match \"numgen random mod 3 0\"", 0.666666667),
                        tuple("numgen random mod 2 0 goto " + B, Step.Result.MATCH, "random choice: numgen random "
                                + "mod 2 gives 0 (1 of its 2 values: 50% of the packets that get here); go to " + B,
                                0.333333333),
                        tuple("numgen random mod 2 0 goto " + B, Step.Result.NO_MATCH, "random choice: numgen "
                                + "random mod 2 gives 1 (1 of its 2 values: 50% of the packets that get here), "
                                + "which does not match \"numgen random mod 2 0\"", 0.333333333),
                        tuple("goto " + C, Step.Result.MATCH, "go to " + C, 0.333333333));
        assertThat(rules.trace(INSIDE, PacketEvaluator.Detail.OUTCOMES).outcomes())
                .as("the shares do not depend on recording the path").isEqualTo(trace.outcomes());
    }

    @Test
    void aCascadeAndTheVerdictMapItReplacesMeanTheSame() throws Exception {
        RulesetDiff.Report report = RulesetDiff.compare(flat(VMAP, FIREWALL), flat(CASCADE, FIREWALL), SETTINGS);

        assertThat(report.differing()).isEmpty();
        assertThat(report.frontends()).hasSize(13).allSatisfy(f -> assertThat(f.inA() && f.inB()).isTrue());
        assertThat(report.frontends()).filteredOn(f -> f.frontend().describe().equals("10.101.22.9:443/tcp"))
                .singleElement().satisfies(f -> assertThat(f.probes()).isPositive());
        assertThat(unevaluatedNotes(report)).as("the cascade is evaluated as fully as the verdict map")
                .isEqualTo(unevaluatedNotes(RulesetDiff.compare(flat(VMAP, FIREWALL), flat(VMAP, FIREWALL),
                        SETTINGS)));
    }

    @Test
    void aCascadeWithAWrongShareIsAnEndpointsDifference() throws Exception {
        String wrong = CASCADE.replace("numgen random mod 3 0 goto", "numgen random mod 2 0 goto");

        RulesetDiff.Report report = RulesetDiff.compare(flat(VMAP, FIREWALL), flat(wrong, FIREWALL), SETTINGS);

        assertThat(DiffReports.frontendsDiffering(report)).containsExactlyInAnyOrder("10.101.22.9:443/tcp",
                "198.51.100.20:443/tcp", "node port 31443/tcp");
        RulesetDiff.Difference difference = DiffReports.difference(report, "10.101.22.9:443/tcp", "endpoints");
        assertThat(difference.a()).isEqualTo("{10.244.0.31:8443 0.3333, 10.244.1.32:8443 0.3333, "
                + "10.244.1.33:8443 0.3333}");
        assertThat(difference.b()).isEqualTo("{10.244.0.31:8443 0.5, 10.244.1.32:8443 0.25, "
                + "10.244.1.33:8443 0.25}");
    }

    @Test
    void aCascadeMissingItsLastRuleLeavesPacketsUndispatched() throws Exception {
        String shortened = CASCADE.replace("\t\tgoto " + C + " # handle 121\n", "");

        Trace trace = flat(shortened, FIREWALL).trace(INSIDE);

        assertThat(trace.endpoints()).extracting(EndpointShare::address).containsExactly("10.244.0.31:8443",
                "10.244.1.32:8443");
        assertThat(trace.endpoints()).allSatisfy(e -> assertThat(e.probability()).isCloseTo(1.0 / 3,
                Offset.offset(1e-12)));
        assertThat(trace.verdicts().get(Verdict.ACCEPT)).isCloseTo(1.0 / 3, Offset.offset(1e-12));
    }

    @Test
    void theFrontendsFindTheEndpointsTheCascadeGoesTo() throws Exception {
        NftablesServiceRuleset vmap = flat(VMAP, FIREWALL);
        NftablesServiceRuleset cascade = flat(CASCADE, FIREWALL);

        Frontend clusterIp = cascade.frontends().stream()
                .filter(f -> f.describe().equals("10.101.22.9:443/tcp")).findFirst().orElseThrow();

        assertThat(cascade.frontends()).isEqualTo(vmap.frontends());
        assertThat(cascade.sourceCidrs(clusterIp)).as("the endpoints, whose traffic to themselves is hairpin")
                .contains("10.244.0.31", "10.244.1.32", "10.244.1.33")
                .isEqualTo(vmap.sourceCidrs(clusterIp));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "numgen random mod 4 != 0        | 0.75",
            "numgen random mod 4 { 0, 1 }    | 0.5",
            "numgen random mod 4 != { 0, 1 } | 0.5",
            "numgen random mod 4 0-2         | 0.75",
            "numgen random mod 4 < 1         | 0.25",
            "numgen random mod 4 >= 1        | 0.75",
            "numgen random mod 4 & 1 == 0    | 0.5",
            "numgen random mod 2 offset 5 5  | 0.5",
            "numgen random mod 3 offset 4294967295 0 | 0.3333333333333333",
            "numgen random mod 1000 != 999   | 0.999",
            "numgen random mod 2147483647 0-1073741823 | 0.5000000002328306"})
    void aComparisonTakesTheShareOfValuesThatMatch(String comparison, double share) throws Exception {
        Trace trace = twoEndpoints(comparison).trace(Packet.of("192.0.2.1", "10.96.0.1", 80, Protocol.TCP,
                Origin.EXTERNAL));

        assertThat(trace.unevaluated()).isEmpty();
        assertThat(trace.endpoints()).extracting(EndpointShare::address).containsExactly("10.0.0.1:80",
                "10.0.0.2:80");
        assertThat(trace.endpoints().get(0).probability()).isCloseTo(share, Offset.offset(1e-12));
        assertThat(trace.endpoints().get(1).probability()).isCloseTo(1 - share, Offset.offset(1e-12));
    }

    @Test
    void whenEveryValueOrNoneMatchesThereIsNoSplit() throws Exception {
        Packet packet = Packet.of("192.0.2.1", "10.96.0.1", 80, Protocol.TCP, Origin.EXTERNAL);

        Trace all = twoEndpoints("numgen random mod 2 0-1").trace(packet);
        Trace none = twoEndpoints("numgen random mod 2 offset 5 != { 5, 6 }").trace(packet);

        assertThat(all.outcomes()).singleElement().satisfies(o -> {
            assertThat(o.endpoint()).isEqualTo("10.0.0.1:80");
            assertThat(o.probability()).isEqualTo(1.0);
        });
        assertThat(all.path()).extracting(Step::why).contains("numgen random mod 2 gives 0 or 1, all of which "
                + "match; go to endpoint-1");
        assertThat(none.outcomes()).singleElement().satisfies(o -> {
            assertThat(o.endpoint()).isEqualTo("10.0.0.2:80");
            assertThat(o.probability()).isEqualTo(1.0);
        });
        assertThat(none.path()).filteredOn(s -> s.rule().startsWith("numgen")).extracting(Step::result, Step::why)
                .containsExactly(tuple(Step.Result.NO_MATCH, "numgen random mod 2 offset 5 gives 5 or 6, none of "
                        + "which matches \"numgen random mod 2 offset 5 != { 5 , 6 }\""));
    }

    @Test
    void aComparisonWithTheRulesOtherTestsSplitsOnlyThePacketsThoseLetThrough() throws Exception {
        NftablesServiceRuleset rules = twoEndpoints("ip saddr 192.0.2.0/24 numgen random mod 4 0");

        Trace inside = rules.trace(Packet.of("192.0.2.1", "10.96.0.1", 80, Protocol.TCP, Origin.EXTERNAL));
        Trace outside = rules.trace(Packet.of("198.51.100.1", "10.96.0.1", 80, Protocol.TCP, Origin.EXTERNAL));

        assertThat(inside.endpoints()).extracting(EndpointShare::address, EndpointShare::probability)
                .containsExactly(tuple("10.0.0.1:80", 0.25), tuple("10.0.0.2:80", 0.75));
        assertThat(outside.endpoints()).extracting(EndpointShare::address, EndpointShare::probability)
                .containsExactly(tuple("10.0.0.2:80", 1.0));
    }

    // ---------------------------------------------------------------------------------------------------------
    // The load balancer's source ranges as return rules and a drop.

    private static final String FIREWALL_SET = "\t\tip saddr != { 203.0.113.0/24, 192.168.1.1 } drop # handle 81\n";
    private static final String FIREWALL_RETURNS = "\t\tip saddr 203.0.113.0/24 return # handle 81\n"
            + "\t\tip saddr 192.168.1.1 return # handle 122\n"
            + "\t\tdrop # handle 123\n";

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"203.0.113.7 | DNAT", "192.168.1.1 | DNAT", "192.0.2.50 | DROP",
            "192.168.1.2 | DROP"})
    void theReturnFormFirewallLetsInOnlyTheSourceRanges(String source, Verdict verdict) throws Exception {
        Packet packet = Packet.of(source, "198.51.100.20", 443, Protocol.TCP, Origin.EXTERNAL);

        Trace returns = flat(CASCADE, FIREWALL_RETURNS).trace(packet);
        Trace set = flat(VMAP, FIREWALL_SET).trace(packet);

        assertThat(returns.verdicts()).containsOnlyKeys(verdict);
        assertThat(returns.unevaluated()).isEmpty();
        assertThat(set.verdicts()).containsOnlyKeys(verdict);
        if (verdict == Verdict.DROP) {
            assertThat(returns.outcomes()).singleElement().extracting(Outcome::decidedBy)
                    .isEqualTo("ip kube-proxy firewall-2FHNLMWZ-shop/checkout/tcp/https: drop");
            assertThat(returns.path()).extracting(Step::chain).doesNotContain("nat-prerouting");
        } else {
            assertThat(returns.endpoints()).extracting(EndpointShare::address).containsExactlyElementsOf(ENDPOINTS);
            assertThat(returns.path()).filteredOn(s -> s.result() == Step.Result.MATCH && s.why().equals("return"))
                    .extracting(Step::chain).containsExactly("firewall-2FHNLMWZ-shop/checkout/tcp/https");
        }
    }

    @Test
    void theReturnFormAndTheSetFormOfTheFirewallMeanTheSame() throws Exception {
        NftablesServiceRuleset set = flat(VMAP, FIREWALL_SET);
        NftablesServiceRuleset returns = flat(CASCADE, FIREWALL_RETURNS);

        RulesetDiff.Report report = RulesetDiff.compare(set, returns, SETTINGS);

        assertThat(report.differing()).isEmpty();
        assertThat(report.frontends()).hasSize(13);
        Frontend balancer = DiffReports.frontend(report, "198.51.100.20:443/tcp").frontend();
        assertThat(returns.sourceCidrs(balancer)).contains("203.0.113.0/24", "192.168.1.1");
    }

    @Test
    void aReturnFormMissingOneRangeDropsThatRangesClients() throws Exception {
        String narrower = FIREWALL_RETURNS.replace("\t\tip saddr 192.168.1.1 return # handle 122\n", "");

        RulesetDiff.Report report = RulesetDiff.compare(flat(VMAP, FIREWALL_SET), flat(CASCADE, narrower),
                SETTINGS);

        assertThat(DiffReports.frontendsDiffering(report)).containsExactly("198.51.100.20:443/tcp");
        RulesetDiff.Difference verdict = DiffReports.difference(report, "198.51.100.20:443/tcp", "verdict");
        assertThat(verdict.probe()).isEqualTo("from 192.168.1.1");
        assertThat(verdict.a()).isEqualTo("DNAT");
        assertThat(verdict.b()).isEqualTo("DROP");
    }

    // ---------------------------------------------------------------------------------------------------------

    /** The same dispatch and firewall loaded into nft and listed back read as the hand-edited listing. */
    private static final String SCRIPT = """
            add table ip kube-proxy
            add chain ip kube-proxy filter-prerouting { type filter hook prerouting priority -110 ; }
            add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }
            add chain ip kube-proxy firewall-lb
            add chain ip kube-proxy service-web
            add chain ip kube-proxy endpoint-a
            add chain ip kube-proxy endpoint-b
            add chain ip kube-proxy endpoint-c
            add rule ip kube-proxy filter-prerouting ip daddr 198.51.100.20 tcp dport 443 jump firewall-lb
            add rule ip kube-proxy firewall-lb ip saddr 203.0.113.0/24 return
            add rule ip kube-proxy firewall-lb ip saddr 192.168.1.1 return
            add rule ip kube-proxy firewall-lb drop
            add rule ip kube-proxy nat-prerouting ip daddr 198.51.100.20 tcp dport 443 goto service-web
            add rule ip kube-proxy service-web numgen random mod 3 == 0 goto endpoint-a
            add rule ip kube-proxy service-web numgen random mod 2 == 0 goto endpoint-b
            add rule ip kube-proxy service-web goto endpoint-c
            add rule ip kube-proxy endpoint-a meta l4proto tcp dnat to 10.244.0.31:8443
            add rule ip kube-proxy endpoint-b meta l4proto tcp dnat to 10.244.1.32:8443
            add rule ip kube-proxy endpoint-c meta l4proto tcp dnat to 10.244.1.33:8443
            """;

    @Test
    @RequiresPrivileges(commands = {"nft", "ip"})
    void nftListsTheCascadeAndReturnRulesAsTheTraceReadsThem() throws Exception {
        String listing = NftListing.afterLoading(SCRIPT);
        assertThat(listing).contains("numgen random mod 3 0 goto endpoint-a", "numgen random mod 2 0 goto endpoint-b",
                "ip saddr 192.168.1.1 return");
        NftablesServiceRuleset listed = NftablesServiceRuleset.fromText("nft list", "nft list", listing, NODE_A);
        NftablesServiceRuleset vmap = NftablesServiceRuleset.fromText("vmap", "vmap", SCRIPT
                .replace("add rule ip kube-proxy service-web numgen random mod 3 == 0 goto endpoint-a\n"
                        + "add rule ip kube-proxy service-web numgen random mod 2 == 0 goto endpoint-b\n"
                        + "add rule ip kube-proxy service-web goto endpoint-c\n",
                        "add rule ip kube-proxy service-web numgen random mod 3 vmap { 0 : goto endpoint-a , "
                                + "1 : goto endpoint-b , 2 : goto endpoint-c }\n")
                .replace("add rule ip kube-proxy firewall-lb ip saddr 203.0.113.0/24 return\n"
                        + "add rule ip kube-proxy firewall-lb ip saddr 192.168.1.1 return\n"
                        + "add rule ip kube-proxy firewall-lb drop\n",
                        "add rule ip kube-proxy firewall-lb ip saddr != { 203.0.113.0/24 , 192.168.1.1 } drop\n"),
                NODE_A);

        Trace inside = listed.trace(INSIDE);

        assertThat(inside.endpoints()).extracting(EndpointShare::address).containsExactlyElementsOf(ENDPOINTS);
        assertThat(inside.endpoints()).allSatisfy(e -> assertThat(e.probability()).isCloseTo(1.0 / 3,
                Offset.offset(1e-12)));
        assertThat(listed.trace(Packet.of("192.0.2.50", "198.51.100.20", 443, Protocol.TCP, Origin.EXTERNAL))
                .verdicts()).containsOnlyKeys(Verdict.DROP);
        assertThat(vmap.trace(INSIDE).endpoints()).as("the verdict-map form differs only in rule text")
                .hasSize(3);
        DiffReports.assertSameMeaning(RulesetDiff.compare(vmap, listed, SETTINGS));
    }

    // ---------------------------------------------------------------------------------------------------------

    /** node-a's flat-layout listing with shop/checkout's dispatch and firewall rules replaced. */
    private static NftablesServiceRuleset flat(String dispatch, String firewall) throws Exception {
        String original = NftablesEvaluatorTest.resource(NftablesEvaluatorTest.FLAT_LAYOUT);
        assertThat(original).contains(VMAP, FIREWALL);
        String edited = original.replace(VMAP, dispatch).replace(FIREWALL, firewall);
        return NftablesServiceRuleset.fromText("edited", "edited", edited, NODE_A);
    }

    /** 10.96.0.1:80 goes to 10.0.0.1 when {@code comparison} holds, else to 10.0.0.2. */
    private static NftablesServiceRuleset twoEndpoints(String comparison) throws Exception {
        return NftablesServiceRuleset.fromText("two", "two", """
                table ip t {
                	chain pre {
                		type nat hook prerouting priority dstnat; policy accept;
                		ip daddr 10.96.0.1 tcp dport 80 goto service
                	}

                	chain service {
                		%s goto endpoint-1
                		goto endpoint-2
                	}

                	chain endpoint-1 {
                		meta l4proto tcp dnat to 10.0.0.1:80
                	}

                	chain endpoint-2 {
                		meta l4proto tcp dnat to 10.0.0.2:80
                	}
                }
                """.formatted(comparison), NODE_A);
    }

    private static List<String> unevaluatedNotes(RulesetDiff.Report report) {
        return report.notes().stream().filter(n -> n.contains("cannot be evaluated")).toList();
    }
}
