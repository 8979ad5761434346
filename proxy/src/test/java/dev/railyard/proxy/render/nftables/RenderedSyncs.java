package dev.railyard.proxy.render.nftables;

import dev.railyard.nftables.Ruleset;
import dev.railyard.nftables.Transaction;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.render.RenderConfig;
import java.time.Instant;
import java.util.Collection;
import java.util.List;

/** Syncs a renderer plans, applied to an in-memory ruleset as the daemon applies them to the kernel. */
final class RenderedSyncs {
    /** One IPv4 node with one node IP, the cluster 10.244.0.0/16 and services in 10.96.0.0/16. */
    static final RenderConfig NODE_A = RenderConfig.builder(IpFamily.V4).nodeName("node-a")
            .nodeIps(List.of("192.0.2.1")).clusterCidrs(List.of("10.244.0.0/16"))
            .serviceCidrs(List.of("10.96.0.0/16")).nodePortAddresses(List.of("primary")).build();

    private RenderedSyncs() {
    }

    /** The dump's lines but those adding one of {@code chains} (flushed chains that wait for their deletion). */
    static String withoutChains(String dump, Collection<String> chains) {
        StringBuilder out = new StringBuilder();
        for (String line : dump.split("\n")) {
            if (chains.stream().noneMatch(chain -> line.startsWith("add chain ip kube-proxy " + chain))) {
                out.append(line).append('\n');
            }
        }
        return out.toString();
    }

    /** A full sync of {@code state} at {@code second} seconds, every transaction applied, then committed. */
    static void applyFull(NftablesRenderer renderer, Ruleset kernel, ProxyState state, long second)
            throws Exception {
        NftablesRenderer.Plan plan = renderer.plan(state, null, Instant.EPOCH.plusSeconds(second));
        for (Transaction tx : plan.transactions()) {
            kernel.apply(tx);
        }
        renderer.committed(plan);
    }
}
