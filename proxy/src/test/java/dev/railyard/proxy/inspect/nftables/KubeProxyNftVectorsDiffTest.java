package dev.railyard.proxy.inspect.nftables;

import static dev.railyard.proxy.inspect.DiffReports.assertMasqueradeLostOnSvc4ClusterIp;
import static dev.railyard.proxy.inspect.DiffReports.assertSameMeaning;
import static dev.railyard.proxy.inspect.DiffReports.assertSvc4EndpointsDiffer;
import static dev.railyard.proxy.inspect.DiffReports.assertSvc4LostAnEndpoint;
import static dev.railyard.proxy.inspect.DiffReports.assertSourceRangeDropLostOnSvc5;
import static dev.railyard.proxy.inspect.DiffReports.difference;
import static dev.railyard.proxy.inspect.DiffReports.frontend;
import static dev.railyard.proxy.inspect.DiffReports.frontendsDiffering;
import static dev.railyard.proxy.inspect.DiffReports.names;
import static dev.railyard.proxy.inspect.DiffReports.replaceOnce;
import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.inspect.Frontend;
import dev.railyard.proxy.inspect.RulesetDiff;
import dev.railyard.proxy.inspect.ServiceRuleset;
import dev.railyard.proxy.inspect.iptables.IptablesServiceRuleset;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.render.nftables.Layout;
import dev.railyard.proxy.render.nftables.NftCompatCase;
import dev.railyard.proxy.source.ClusterSnapshot;
import dev.railyard.proxy.source.ManifestLoader;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * {@link RulesetDiff} over nftables rulesets: kube-proxy's own whole states (expected.nft of
 * TestOverallNFTablesRules, TestBadIPs, TestSyncProxyRulesRepeated's steps, TestSyncProxyRulesStartup) mean what
 * Railyard renders for the same input, in both layouts; a changed numgen modulus, a changed or missing endpoint,
 * a lost masquerade mark and a lost source-range drop each show up on the frontends they affect and no others;
 * and for every case kube-proxy's layout, the flat layout and the iptables mode mean the same.
 */
class KubeProxyNftVectorsDiffTest {

    private static final String SVC4_VMAP = "add rule ip kube-proxy service-LAUZTJTB-ns4/svc4/tcp/p80 numgen random "
            + "mod 2 vmap { 0 : goto endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80 , 1 : goto "
            + "endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80 }";
    private static final String SVC4_MASQUERADE = "add rule ip kube-proxy service-LAUZTJTB-ns4/svc4/tcp/p80 ip daddr "
            + "172.30.0.44 ip saddr != 10.0.0.0/8 jump mark-for-masquerade\n";

    @TestFactory
    List<DynamicTest> kubeProxysStateAndRailyardsRenderMeanTheSameInBothLayouts() {
        List<NftCompatCase> cases = NftCompatCase.having(NftCompatCase.EXPECTED);
        assertThat(cases).hasSize(13);
        List<DynamicTest> tests = new ArrayList<>();
        for (NftCompatCase testCase : cases) {
            for (Layout layout : Layout.values()) {
                tests.add(DynamicTest.dynamicTest(testCase.name() + " " + layout, () -> {
                    assertSameMeaning(diff(kubeProxy(testCase, testCase.expectedWithoutLeftoverChains()),
                            NftCompatRules.render(testCase, layout), testCase));
                }));
            }
        }
        return tests;
    }

    @Test
    void theOverallCaseHasEveryKindOfFrontendAndProbesTheLoadBalancerFromSeveralPlaces() throws Exception {
        NftCompatCase overall = NftCompatCase.named("overall-nftables-rules");
        RulesetDiff.Report report = diff(kubeProxy(overall, overall.expected()),
                NftCompatRules.render(overall, Layout.KUBE_PROXY), overall);

        assertThat(report.frontends()).extracting(f -> f.frontend().kind()).contains(Frontend.Kind.CLUSTER_IP,
                Frontend.Kind.SERVICE_IP, Frontend.Kind.LOAD_BALANCER_IP, Frontend.Kind.NODE_PORT);
        RulesetDiff.FrontendComparison lb = frontend(report, "5.6.7.8:80/tcp");
        assertThat(lb.frontend().name()).isEqualTo("ns5/svc5:p80");
        // From outside the source range, inside it, the pod network, the endpoint (hairpin) and the node.
        assertThat(lb.probes()).isGreaterThanOrEqualTo(5);
        assertThat(frontend(report, "172.30.0.46:80/tcp").frontend().name()).as("from the element's comment")
                .isEqualTo("ns6/svc6:p80");
    }

    /**
     * A numgen value without an element does not match: the packet goes on to its cluster IP, which
     * cluster-ips-check rejects (iptables mode would let it through undNATed).
     */
    @Test
    void aChangedNumgenModulusRejectsAThirdOfThePackets() throws Exception {
        NftCompatCase overall = NftCompatCase.named("overall-nftables-rules");
        String changed = replaceOnce(overall.expected(), SVC4_VMAP, SVC4_VMAP.replace("mod 2", "mod 3"));

        RulesetDiff.Report report = diff(kubeProxy(overall, changed),
                NftCompatRules.render(overall, Layout.FLAT), overall);

        assertThat(names(report)).containsOnly("ns4/svc4:p80");
        assertThat(frontendsDiffering(report)).containsExactlyInAnyOrder("172.30.0.44:80/tcp", "192.168.99.33:80/tcp");
        assertThat(difference(report, "172.30.0.44:80/tcp", "endpoints").a())
                .isEqualTo("{10.180.0.4:80 0.3333, 10.180.0.5:80 0.3333}");
        assertThat(difference(report, "172.30.0.44:80/tcp", "verdict").a()).isEqualTo("DNAT 0.6667, REJECT 0.3333");
    }

    @Test
    void aChangedEndpointShowsAsEndpoints() throws Exception {
        NftCompatCase overall = NftCompatCase.named("overall-nftables-rules");
        String changed = replaceOnce(overall.expected(), "meta l4proto tcp dnat to 10.180.0.5:80",
                "meta l4proto tcp dnat to 10.180.0.6:80");

        RulesetDiff.Report report = diff(kubeProxy(overall, changed),
                NftCompatRules.render(overall, Layout.KUBE_PROXY), overall);

        assertSvc4EndpointsDiffer(report, "{10.180.0.4:80 0.5, 10.180.0.6:80 0.5}",
                "{10.180.0.4:80 0.5, 10.180.0.5:80 0.5}");
    }

    @Test
    void aMissingEndpointShowsAsEndpointsAndAsPacketsThatAreRejected() throws Exception {
        NftCompatCase overall = NftCompatCase.named("overall-nftables-rules");
        String changed = replaceOnce(overall.expected(), SVC4_VMAP, SVC4_VMAP.replace(
                " , 1 : goto endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80", ""));

        assertSvc4LostAnEndpoint(diff(kubeProxy(overall, changed), NftCompatRules.render(overall, Layout.FLAT),
                overall), "DNAT 0.5, REJECT 0.5");
    }

    @Test
    void aLostMasqueradeMarkShowsOnlyForClientsOutsideThePodNetwork() throws Exception {
        NftCompatCase overall = NftCompatCase.named("overall-nftables-rules");
        String changed = replaceOnce(overall.expected(), SVC4_MASQUERADE, "");

        // The external IP goes through external-LAUZTJTB, which marks for masquerade itself.
        assertMasqueradeLostOnSvc4ClusterIp(diff(kubeProxy(overall, changed),
                NftCompatRules.render(overall, Layout.FLAT), overall));
    }

    @Test
    void aLostSourceRangeDropShowsOnTheLoadBalancerIpForClientsOutsideTheRange() throws Exception {
        NftCompatCase overall = NftCompatCase.named("overall-nftables-rules");
        String changed = replaceOnce(overall.expected(), "add rule ip kube-proxy firewall-HVFWP5L3-ns5/svc5/tcp/p80 "
                + "ip saddr != { 203.0.113.0/25 } drop\n", "");

        assertSourceRangeDropLostOnSvc5(diff(kubeProxy(overall, changed),
                NftCompatRules.render(overall, Layout.KUBE_PROXY), overall), "DNAT");
    }

    /**
     * For every case, kube-proxy's layout and the flat one mean the same, and so do the iptables mode (with the
     * nftables mode's node-port addresses) and the nftables mode, except where kube-proxy's two modes differ for
     * services without endpoints: iptables rejects (or drops) their node ports on every local address, nftables
     * only on the node-port addresses; nftables rejects the node's own connections to their external and
     * load-balancer IPs (filter-output), iptables lets them out (KUBE-EXTERNAL-SERVICES is not hooked to OUTPUT).
     */
    @TestFactory
    List<DynamicTest> kubeProxysLayoutTheFlatLayoutAndIptablesModeMeanTheSameForEveryCase() {
        List<DynamicTest> tests = new ArrayList<>();
        for (NftCompatCase testCase : NftCompatCase.all()) {
            tests.add(DynamicTest.dynamicTest(testCase.name(), () -> {
                NftablesServiceRuleset kubeProxyLayout = NftCompatRules.render(testCase, Layout.KUBE_PROXY);
                NftablesServiceRuleset flat = NftCompatRules.render(testCase, Layout.FLAT);
                RulesetDiff.Report layouts = diff(kubeProxyLayout, flat, testCase);
                assertThat(layouts.differing()).as("kube-proxy layout vs flat").isEmpty();
                assertThat(layouts.frontends()).allSatisfy(f -> assertThat(f.inA() && f.inB())
                        .as(f.toString()).isTrue());

                RulesetDiff.Report modes = diff(iptables(testCase), flat, testCase);
                List<String> primary = NftCompatRules.config(testCase, IpFamily.of(testCase.ipFamily())).nodeIps();
                for (RulesetDiff.FrontendComparison frontend : modes.differing()) {
                    assertThat(frontend.differences()).as("iptables mode vs nftables mode: %s", frontend)
                            .allMatch(d -> knownModeDifference(frontend.frontend(), d, primary.get(0)));
                }
                assertThat(modes.notes()).as("notes").noneMatch(n -> n.contains("cannot be evaluated"));
            }));
        }
        return tests;
    }

    private static boolean knownModeDifference(Frontend frontend, RulesetDiff.Difference difference,
                                               String primary) {
        if (!difference.aspect().equals("verdict")) {
            return false;
        }
        if (frontend.isNodePort()) {
            return (difference.a().equals("REJECT") || difference.a().equals("DROP")) && difference.b().equals("ACCEPT")
                    && !difference.probe().endsWith(" to " + dev.railyard.proxy.inspect.Packet.hostPort(primary,
                    frontend.port()));
        }
        return difference.probe().startsWith("from the node") && difference.a().equals("ACCEPT")
                && difference.b().equals("REJECT");
    }

    // ---------------------------------------------------------------------------------------------------------

    private static NftablesServiceRuleset kubeProxy(NftCompatCase testCase, String state) throws Exception {
        return NftablesServiceRuleset.fromText("kube-proxy " + testCase.name(), "expected.nft", state,
                NftCompatRules.localAddresses(testCase));
    }

    /**
     * Railyard's iptables render of the case with the nftables mode's node-port settings (the primary address
     * only, no localhost node ports), so that the two modes can mean the same.
     */
    private static ServiceRuleset iptables(NftCompatCase testCase) throws Exception {
        IpFamily family = IpFamily.of(testCase.ipFamily());
        RenderConfig nft = NftCompatRules.config(testCase, family);
        RenderConfig config = RenderConfig.builder(family)
                .nodeName(nft.nodeName())
                .nodeIps(nft.nodeIps())
                .clusterCidrs(testCase.clusterCidr().map(List::of).orElse(List.of()))
                .nodePortAddresses(testCase.nodePortAddresses())
                .masqueradeAll(testCase.masqueradeAll())
                .localhostNodePorts(false)
                .build();
        ClusterSnapshot snapshot = ManifestLoader.load(List.of(testCase.manifests()));
        return IptablesServiceRuleset.fromText("iptables " + testCase.name(), "render",
                new dev.railyard.proxy.render.IptablesRenderer(config).render(snapshot.state(family,
                        testCase.nodeName())).toString(), NftCompatRules.localAddresses(testCase));
    }

    private static RulesetDiff.Report diff(ServiceRuleset a, ServiceRuleset b, NftCompatCase testCase) {
        return RulesetDiff.compare(a, b, new RulesetDiff.Settings(IpFamily.of(testCase.ipFamily()),
                testCase.clusterCidr().orElse(null)));
    }
}
