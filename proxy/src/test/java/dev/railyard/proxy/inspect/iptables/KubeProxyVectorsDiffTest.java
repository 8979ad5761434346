package dev.railyard.proxy.inspect.iptables;

import static dev.railyard.proxy.inspect.DiffReports.assertMasqueradeLostOnSvc4ClusterIp;
import static dev.railyard.proxy.inspect.DiffReports.assertSameMeaning;
import static dev.railyard.proxy.inspect.DiffReports.assertSvc4EndpointsDiffer;
import static dev.railyard.proxy.inspect.DiffReports.assertSvc4LostAnEndpoint;
import static dev.railyard.proxy.inspect.DiffReports.assertSourceRangeDropLostOnSvc5;
import static dev.railyard.proxy.inspect.DiffReports.frontend;
import static dev.railyard.proxy.inspect.DiffReports.frontendsDiffering;
import static dev.railyard.proxy.inspect.DiffReports.replaceOnce;
import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.inspect.Frontend;
import dev.railyard.proxy.inspect.RulesetDiff;
import dev.railyard.proxy.render.CompatCase;
import java.util.List;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * {@link RulesetDiff} on kube-proxy's own whole-ruleset expectations (expected.rules of TestOverallIPTablesRules,
 * TestSyncProxyRulesRepeated and TestBadIPs): kube-proxy's ruleset and Railyard's render of the same input mean
 * the same; a changed probability, a missing endpoint and a lost masquerade jump each show up, on the frontends
 * they affect and no others.
 */
class KubeProxyVectorsDiffTest {

    private static final String SVC4_ENDPOINT_5 =
            "-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment \"ns4/svc4:p80 -> 10.180.0.5:80\" -j KUBE-SEP-C6EBXVWJJZMIWKLZ\n";
    private static final String SVC4_MASQUERADE = "-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment \"ns4/svc4:p80 "
            + "cluster IP\" -m tcp -p tcp -d 172.30.0.44 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ\n";

    @TestFactory
    List<DynamicTest> kubeProxysRulesetAndRailyardsRenderMeanTheSame() {
        List<CompatCase> cases = CompatCase.having("expected.rules");
        assertThat(cases).extracting(c -> c.name).containsExactlyInAnyOrder("bad-ips", "overall-iptables-rules",
                "sync-proxy-rules-repeated-full-resync", "sync-proxy-rules-repeated-initial");
        return cases.stream().map(testCase -> DynamicTest.dynamicTest(testCase.name, () -> {
            assertSameMeaning(diff(testCase, testCase.file("expected.rules")));
        })).toList();
    }

    @Test
    void theOverallCaseHasEveryKindOfFrontendAndProbesEachFromSeveralPlaces() throws Exception {
        RulesetDiff.Report report = diff(CompatCase.named("overall-iptables-rules"),
                CompatCase.named("overall-iptables-rules").file("expected.rules"));

        assertThat(report.frontends()).extracting(f -> f.frontend().kind()).contains(Frontend.Kind.CLUSTER_IP,
                Frontend.Kind.EXTERNAL_IP, Frontend.Kind.LOAD_BALANCER_IP, Frontend.Kind.NODE_PORT,
                Frontend.Kind.HEALTH_CHECK_NODE_PORT);
        // ns5/svc5's load-balancer IP has a source range: probed from outside it, from inside it, from the pod
        // network, from its endpoint (hairpin) and from the node.
        RulesetDiff.FrontendComparison lb = frontend(report, "5.6.7.8:80/tcp");
        assertThat(lb.frontend().name()).isEqualTo("ns5/svc5:p80");
        assertThat(lb.probes()).isGreaterThanOrEqualTo(5);
    }

    @Test
    void aChangedProbabilityShowsOnTheFrontendsThatUseIt() throws Exception {
        CompatCase overall = CompatCase.named("overall-iptables-rules");
        String changed = replaceOnce(overall.file("expected.rules"),
                "\"ns4/svc4:p80 -> 10.180.0.4:80\" -m statistic --mode random --probability 0.5000000000",
                "\"ns4/svc4:p80 -> 10.180.0.4:80\" -m statistic --mode random --probability 0.2500000000");

        RulesetDiff.Report report = diff(overall, changed);

        assertSvc4EndpointsDiffer(report, "{10.180.0.4:80 0.25, 10.180.0.5:80 0.75}",
                "{10.180.0.4:80 0.5, 10.180.0.5:80 0.5}");
        assertThat(frontendsDiffering(report)).containsExactlyInAnyOrder("172.30.0.44:80/tcp", "192.168.99.33:80/tcp");
    }

    @Test
    void aMissingEndpointShowsAsEndpointsAndAsPacketsThatAreNotDnated() throws Exception {
        CompatCase overall = CompatCase.named("overall-iptables-rules");
        String changed = replaceOnce(overall.file("expected.rules"), SVC4_ENDPOINT_5, "");

        assertSvc4LostAnEndpoint(diff(overall, changed), "DNAT 0.5, ACCEPT 0.5");
    }

    @Test
    void aLostMasqueradeJumpShowsOnlyForClientsOutsideThePodNetwork() throws Exception {
        CompatCase overall = CompatCase.named("overall-iptables-rules");
        String changed = replaceOnce(overall.file("expected.rules"), SVC4_MASQUERADE, "");

        // The external IP goes through KUBE-EXT, which marks for masquerade itself: only the cluster IP differs.
        assertMasqueradeLostOnSvc4ClusterIp(diff(overall, changed));
    }

    @Test
    void aDroppedFirewallRuleShowsOnTheLoadBalancerIpForClientsOutsideItsSourceRange() throws Exception {
        CompatCase overall = CompatCase.named("overall-iptables-rules");
        String changed = replaceOnce(overall.file("expected.rules"), "-A KUBE-PROXY-FIREWALL -m comment --comment "
                + "\"ns5/svc5:p80 traffic not accepted by KUBE-FW-NUKIZ6OKUXPJNT4C\" -m tcp -p tcp -d 5.6.7.8 "
                + "--dport 80 -j DROP\n", "");

        assertSourceRangeDropLostOnSvc5(diff(overall, changed), "ACCEPT");
    }

    // ---------------------------------------------------------------------------------------------------------

    /** A = kube-proxy's text (possibly changed), B = Railyard's render of the same case. */
    private static RulesetDiff.Report diff(CompatCase testCase, String kubeProxyRules) throws Exception {
        var local = KubeProxyFlowsTraceTest.localAddresses(testCase);
        IptablesServiceRuleset kubeProxy = IptablesServiceRuleset.fromText("kube-proxy " + testCase.name,
                "expected.rules", kubeProxyRules, local);
        IptablesServiceRuleset railyard = IptablesServiceRuleset.fromText("railyard " + testCase.name,
                "railyard render", testCase.render(), local);
        return RulesetDiff.compare(kubeProxy, railyard, new RulesetDiff.Settings(testCase.family(),
                testCase.renderConfig().clusterCidr()));
    }
}
