package dev.railyard.proxy.sync;

import dev.railyard.proxy.apply.IptablesBackend;
import dev.railyard.proxy.apply.IptablesCleanup;
import dev.railyard.proxy.apply.IptablesException;
import dev.railyard.proxy.apply.IptablesRestore;
import dev.railyard.proxy.apply.JumpRules;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.render.IptablesRenderer;
import dev.railyard.proxy.render.LineBuffer;
import dev.railyard.proxy.render.RenderConfig;

import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * One full sync of one IP family without a daemon ({@code railyard apply}): what an {@link IptablesSyncer}'s first
 * sync does, in two steps so that a caller programming several families can check them all before changing any.
 *
 * <ol>
 *   <li>{@link #check}: lists the per-service chains already in the kernel (a previous apply's or daemon's), renders
 *       the full ruleset with them, so that those no longer needed are deleted, and has {@code iptables-restore
 *       --test} parse it. Nothing is changed. The dry run catches what iptables itself checks, not what only the
 *       kernel refuses at commit (a missing nfacct counter, a missing module).</li>
 *   <li>{@link #apply}: ensures the jump rules from the built-in chains and restores the ruleset, exactly as the
 *       daemon's full sync does.</li>
 * </ol>
 *
 * Applying the same state twice leaves the kernel as the first time did: the jump rules are only added when
 * missing, and the restore replaces every chain it declares.
 */
public final class OneShotSync {
    private final IpFamily family;
    private final IptablesRenderer renderer;
    private final IptablesCleanup existing;
    private final IptablesRestore restore;
    private final JumpRules jumpRules;

    private OneShotSync(RenderConfig config, IptablesBackend backend, List<String> commandPrefix) {
        this.family = config.family();
        this.renderer = new IptablesRenderer(config);
        this.existing = IptablesCleanup.of(family, backend).withCommandPrefix(commandPrefix);
        // A full sync's time allowance, as the daemon's: iptables-nft restores of large rulesets are slow.
        this.restore = IptablesRestore.of(family, backend).withCommandPrefix(commandPrefix)
                .withTimeout(IptablesSyncer.FULL_SYNC_TIMEOUT);
        this.jumpRules = JumpRules.of(family, backend).withCommandPrefix(commandPrefix);
    }

    /**
     * @param config        the family and this node's settings
     * @param commandPrefix what every iptables command runs behind, e.g. {@code ip netns exec NAME}
     */
    public static OneShotSync of(RenderConfig config, IptablesBackend backend, List<String> commandPrefix) {
        return new OneShotSync(Objects.requireNonNull(config, "config"), Objects.requireNonNull(backend, "backend"),
                commandPrefix);
    }

    public IpFamily family() {
        return family;
    }

    /** Renders {@code state} against the kernel's current chains and dry-runs the result; changes nothing. */
    public Checked check(ProxyState state) throws IptablesException, InterruptedException {
        if (state.family() != family) {
            throw new IllegalArgumentException("state is " + state.family() + " but this sync is " + family);
        }
        Set<String> chains = existing.existingServiceNatChains();
        LineBuffer rules = renderer.render(state, chains);
        restore.test(rules::writeTo);
        return new Checked(this, state, rules, renderer.deletedChainCount());
    }

    /** Programs what {@link #check} rendered: the jump rules, then the restore. */
    public void apply(Checked checked) throws IptablesException, InterruptedException {
        if (checked.sync != this) {
            throw new IllegalArgumentException("checked by another OneShotSync");
        }
        ScheduledSyncer.programRules(jumpRules, restore, checked.rules, true);
    }

    /** A ruleset that passed {@code iptables-restore --test}, ready for {@link #apply}. */
    public static final class Checked {
        private final OneShotSync sync;
        private final ProxyState state;
        private final LineBuffer rules;
        private final int deletedChains;

        private Checked(OneShotSync sync, ProxyState state, LineBuffer rules, int deletedChains) {
            this.sync = sync;
            this.state = state;
            this.rules = rules;
            this.deletedChains = deletedChains;
        }

        public ProxyState state() {
            return state;
        }

        /** Per-service chains of an earlier run that no service needs now; the apply deletes them. */
        public int deletedChains() {
            return deletedChains;
        }

        /** The restore input's size. */
        public int bytes() {
            return rules.length();
        }
    }
}
