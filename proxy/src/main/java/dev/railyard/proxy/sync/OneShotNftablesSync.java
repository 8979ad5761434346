package dev.railyard.proxy.sync;

import dev.railyard.nftables.NftApplier;
import dev.railyard.nftables.NftCommand;
import dev.railyard.nftables.NftException;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.render.nftables.Layout;
import dev.railyard.proxy.render.nftables.NftablesLayout;
import dev.railyard.proxy.render.nftables.NftablesRenderer;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * One full sync of one IP family in nftables mode without a daemon ({@code railyard apply --proxy-mode
 * nftables}): what an {@link NftablesSyncer}'s first sync does, in two steps so that a caller programming several
 * families can check them all before changing any. {@link #check} lists what the kernel's table holds (a previous
 * run's), plans the full sync against it and, with the nft tool, has the kernel check it without committing;
 * {@link #apply} commits it and, when chains of services gone since the previous run were flushed, deletes them
 * after the grace the daemon gives them. Applying the same state twice leaves the same ruleset.
 */
public final class OneShotNftablesSync {
    private final RenderConfig config;
    private final Layout layout;
    private final NftApplier applier;
    private final Clock clock;

    private OneShotNftablesSync(RenderConfig config, Layout layout, NftApplier applier, Clock clock) {
        this.config = Objects.requireNonNull(config, "config");
        this.layout = Objects.requireNonNull(layout, "layout");
        this.applier = Objects.requireNonNull(applier, "applier");
        this.clock = clock;
    }

    public static OneShotNftablesSync of(RenderConfig config, Layout layout, NftApplier applier) {
        return new OneShotNftablesSync(config, layout, applier, Clock.systemUTC());
    }

    public IpFamily family() {
        return config.family();
    }

    /** Plans the full sync against the kernel's table; with the nft tool, the kernel checks it too. */
    public Checked check(ProxyState state) throws NftException, InterruptedException {
        if (state.family() != config.family()) {
            throw new IllegalArgumentException("state is " + state.family() + " but this sync is " + config.family());
        }
        NftablesRenderer renderer = new NftablesRenderer(config, layout, applier.listObjects(
                config.family() == IpFamily.V6 ? dev.railyard.nftables.Family.IP6 : dev.railyard.nftables.Family.IP,
                NftablesLayout.TABLE));
        NftablesRenderer.Plan plan = renderer.plan(state, null, clock.instant());
        if (applier instanceof NftCommand nft) {
            nft.check(plan.sync());
        }
        return new Checked(this, renderer, plan, state);
    }

    /** Commits what {@link #check} planned; then deletes the chains it flushed, once the grace is over. */
    public void apply(Checked checked) throws NftException, InterruptedException {
        if (checked.sync != this) {
            throw new IllegalArgumentException("checked by another OneShotNftablesSync");
        }
        applier.apply(checked.plan.sync());
        checked.renderer.committed(checked.plan);
        if (checked.renderer.hasStaleChains()) {
            Thread.sleep(NftablesRenderer.STALE_CHAIN_GRACE.plus(Duration.ofMillis(100)).toMillis());
            NftablesRenderer.Plan cleanup = checked.renderer.plan(checked.state, java.util.Set.of(), clock.instant());
            applier.apply(cleanup.staleChainDeletion());
            checked.renderer.staleDeletionApplied(cleanup);
        }
    }

    /** A planned full sync, ready for {@link #apply}. */
    public static final class Checked {
        private final OneShotNftablesSync sync;
        private final NftablesRenderer renderer;
        private final NftablesRenderer.Plan plan;
        private final ProxyState state;

        private Checked(OneShotNftablesSync sync, NftablesRenderer renderer, NftablesRenderer.Plan plan,
                        ProxyState state) {
            this.sync = sync;
            this.renderer = renderer;
            this.plan = plan;
            this.state = state;
        }

        public ProxyState state() {
            return state;
        }

        /** Per-service chains of an earlier run that no service needs now; the apply deletes them. */
        public int staleChains() {
            return plan.counts().staleChainsFlushed();
        }
    }
}
