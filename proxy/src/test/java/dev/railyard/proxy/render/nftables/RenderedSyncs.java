package dev.railyard.proxy.render.nftables;

import dev.railyard.nftables.Ruleset;
import dev.railyard.nftables.Transaction;
import dev.railyard.proxy.model.ProxyState;
import java.time.Instant;

/** Syncs a renderer plans, applied to an in-memory ruleset as the daemon applies them to the kernel. */
final class RenderedSyncs {
    private RenderedSyncs() {
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
