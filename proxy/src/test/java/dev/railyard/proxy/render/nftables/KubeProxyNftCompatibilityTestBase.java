package dev.railyard.proxy.render.nftables;

import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;

import java.util.List;

/**
 * The hook for the nftables renderer: extend this class, say how to get the knftables-Fake-style dump of what
 * Railyard renders for a case, and every kube-proxy nftables vector runs against it (expected.nft after sorting,
 * flows.tsv and derived-flows.tsv through {@link KubeProxyNftTracer}, expected-elements.tsv). See
 * {@link NftCompatAssertions} and src/test/resources/kubeproxy-nftables-compat/README.md.
 *
 * <pre>{@code
 * class KubeProxyNftCompatibilityTest extends KubeProxyNftCompatibilityTestBase {
 *     @Override
 *     protected String renderedDump(NftCompatCase testCase) throws Exception {
 *         // load testCase.manifests(), build the renderer from the config getters, render, return the dump text
 *     }
 * }
 * }</pre>
 */
public abstract class KubeProxyNftCompatibilityTestBase {

    /**
     * The {@code add table/chain/set/map/rule/element} lines of Railyard's whole {@code kube-proxy} table for this
     * case (manifests plus the fake proxier settings in config.properties), in any order.
     */
    protected abstract String renderedDump(NftCompatCase testCase) throws Exception;

    @TestFactory
    List<DynamicNode> kubeProxyNftablesVectors() {
        return NftCompatAssertions.tests(testCase -> {
            try {
                return renderedDump(testCase);
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(testCase + ": rendering failed", e);
            }
        });
    }
}
