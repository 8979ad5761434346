package dev.railyard.proxy.render.nftables;

import dev.railyard.nftables.Ruleset;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.source.ClusterSnapshot;
import dev.railyard.proxy.source.ManifestLoader;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Every kube-proxy nftables vector (src/test/resources/kubeproxy-nftables-compat) against what Railyard renders:
 * each case's manifests, with the fake proxier's settings, rendered as a full sync into an in-memory ruleset
 * that keeps the kernel's rules, and its dump compared and traced as kube-proxy's tests do.
 */
class KubeProxyNftCompatibilityTest extends KubeProxyNftCompatibilityTestBase {

    @Override
    protected String renderedDump(NftCompatCase testCase) throws Exception {
        IpFamily family = IpFamily.of(testCase.ipFamily());
        ClusterSnapshot snapshot = ManifestLoader.load(List.of(testCase.manifests()));
        if (!snapshot.problems().isEmpty()) {
            throw new IllegalStateException(testCase + ": " + snapshot.problems());
        }
        NftablesRenderer renderer = new NftablesRenderer(config(testCase, family));
        Ruleset kernel = new Ruleset();
        kernel.apply(renderer.plan(snapshot.state(family, testCase.nodeName()), null, Instant.EPOCH).sync());
        return kernel.dump();
    }

    /**
     * The fake proxier as a render configuration. kube-proxy finds the NodePort addresses on the node's
     * interfaces; Railyard's configuration lists the node's addresses, the primary first, so they are the fake
     * interfaces' addresses.
     */
    static RenderConfig config(NftCompatCase testCase, IpFamily family) {
        List<String> nodeIps = new ArrayList<>(testCase.nodeIps());
        for (String address : testCase.nodeInterfaceAddresses()) {
            String ip = address.substring(0, address.indexOf('/'));
            if (!nodeIps.contains(ip) && !ip.equals("127.0.0.1") && !ip.equals("::1")) {
                nodeIps.add(ip);
            }
        }
        return RenderConfig.builder(family)
                .nodeName(testCase.nodeName())
                .nodeIps(nodeIps)
                .clusterCidrs(testCase.clusterCidr().map(List::of).orElse(List.of()))
                .serviceCidrs(testCase.serviceCidrs())
                .nodePortAddresses(testCase.nodePortAddresses())
                .masqueradeMark(testCase.masqueradeMark())
                .masqueradeAll(testCase.masqueradeAll())
                .build();
    }
}
