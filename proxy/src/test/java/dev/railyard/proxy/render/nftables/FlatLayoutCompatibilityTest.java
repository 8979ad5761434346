package dev.railyard.proxy.render.nftables;

import dev.railyard.nftables.Ruleset;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.source.ClusterSnapshot;
import dev.railyard.proxy.source.ManifestLoader;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;

import java.time.Instant;
import java.util.List;

/**
 * The flat layout means what kube-proxy's does: every kube-proxy nftables vector's packet flows (where each
 * packet goes, masqueraded or not, rejected or dropped) and element expectations hold for the flat layout's
 * rendering of the same case. Its rules are its own, so kube-proxy's whole-table texts are not compared.
 */
class FlatLayoutCompatibilityTest {

    @TestFactory
    List<DynamicNode> kubeProxysPacketFlowsHoldInTheFlatLayout() {
        return NftCompatAssertions.tests(testCase -> {
            try {
                IpFamily family = IpFamily.of(testCase.ipFamily());
                ClusterSnapshot snapshot = ManifestLoader.load(List.of(testCase.manifests()));
                NftablesRenderer renderer = new NftablesRenderer(KubeProxyNftCompatibilityTest.config(testCase, family),
                        Layout.FLAT, dev.railyard.nftables.NftApplier.TableObjects.none());
                Ruleset kernel = new Ruleset();
                kernel.apply(renderer.plan(snapshot.state(family, testCase.nodeName()), null, Instant.EPOCH).sync());
                return kernel.dump();
            } catch (Exception e) {
                throw new IllegalStateException(testCase + ": rendering failed", e);
            }
        }, false);
    }
}
