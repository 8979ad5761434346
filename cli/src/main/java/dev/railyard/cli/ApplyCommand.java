package dev.railyard.cli;

import dev.railyard.proxy.apply.IptablesBackend;
import dev.railyard.proxy.apply.IptablesException;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.source.ClusterSnapshot;
import dev.railyard.nftables.NftCommand;
import dev.railyard.nftables.NftException;
import dev.railyard.proxy.daemon.ModeLeftovers;
import dev.railyard.proxy.daemon.ProxyMode;
import dev.railyard.proxy.render.nftables.Layout;
import dev.railyard.proxy.sync.OneShotNftablesSync;
import dev.railyard.proxy.sync.OneShotSync;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Function;

/**
 * railyard apply: programs this node once from manifests, as {@code railyard proxy}'s first full sync would, so
 * that Services work without a daemon. Every family is rendered and dry-run before any is changed.
 */
@Command(name = "apply",
        mixinStandardHelpOptions = true,
        description = {
            "Program this node's iptables (filter and nat; IPv6 too when a --node-ip or --cluster-cidr is IPv6), or "
                    + "with --proxy-mode nftables its table kube-proxy, with kube-proxy's rules for the Services and "
                    + "EndpointSlices in FILE..., once, as `railyard proxy` does on its first sync: the jump rules "
                    + "from the built-in chains are added when missing, every chain Railyard owns is rewritten, the "
                    + "chains of services no longer in FILE... are deleted, and the other mode's rules are removed. "
                    + "Running it again with the same files changes nothing.",
            "Takes the options of `railyard render`, which prints the same rules without applying them."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "0:rules applied",
            "1:rules applied, but invalid objects were skipped (listed on stderr)",
            "2:nothing applied (bad usage, unreadable or unparseable file, iptables or nft missing or refusing the "
                    + "rules; should one fail after a family was applied, stderr says which)"})
final class ApplyCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Mixin
    private RenderOptions options;

    @Option(names = "--ip-family", paramLabel = "4|6", split = ",",
            description = "Program only these families (4: iptables, 6: ip6tables; repeatable or comma-separated). "
                    + "Default: IPv4, and IPv6 when a --node-ip or --cluster-cidr is IPv6.")
    private List<Integer> ipFamilies = new ArrayList<>();

    @Option(names = "--iptables-backend", paramLabel = "auto|legacy|nft", defaultValue = "auto",
            description = "Which iptables programs the rules: the node's default (auto), iptables-legacy or "
                    + "iptables-nft. Use the one the rest of the node uses. Default: ${DEFAULT-VALUE}.")
    private String iptablesBackend;

    @Option(names = "--netns", paramLabel = "NAME",
            description = "Program the network namespace NAME instead of this one (runs iptables and nft with "
                    + "`ip netns exec NAME`).")
    private String netns;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter out = spec.commandLine().getOut();
        List<RenderConfig> configs = new ArrayList<>();
        IptablesBackend backend;
        boolean nftables;
        try {
            nftables = options.nftables();
            options.nftablesLayout();
            backend = IptablesBackend.fromFlag(iptablesBackend);
            for (IpFamily family : families()) {
                configs.add(options.renderConfig(family));
            }
        } catch (IllegalArgumentException e) {
            return fail(err, e.getMessage());
        }

        ClusterSnapshot snapshot = options.load(err, "railyard apply");
        if (snapshot == null) {
            return ExitCodes.USAGE;
        }

        configs.replaceAll(config -> options.renderConfig(config.family(), snapshot)); // NodeCIDR: Node's podCIDRs
        List<String> prefix = netns == null ? List.of() : List.of("ip", "netns", "exec", netns);
        // As the daemon does at start: what the other mode left would still catch the traffic.
        new ModeLeftovers(nftables ? ProxyMode.NFTABLES : ProxyMode.IPTABLES, backend, prefix).removeOtherModes();
        if (nftables) {
            NftCommand nft = NftCommand.create().withCommandPrefix(prefix);
            Layout layout = options.nftablesLayout();
            return checkThenApply(configs, snapshot, err, out, config -> {
                OneShotNftablesSync sync = OneShotNftablesSync.of(config, layout, nft);
                return new FamilySync<>(sync::check, sync::apply, checked -> String.format(Locale.ROOT,
                        "applied %d service ports, %d endpoints (nftables, %s layout); removed %d stale chains",
                        checked.state().serviceCount(), checked.state().endpointCount(), layout,
                        checked.staleChains()));
            });
        }
        return checkThenApply(configs, snapshot, err, out, config -> {
            OneShotSync sync = OneShotSync.of(config, backend, prefix);
            return new FamilySync<>(sync::check, sync::apply, checked -> String.format(Locale.ROOT,
                    "applied %d service ports, %d endpoints; deleted %d stale chains",
                    checked.state().serviceCount(), checked.state().endpointCount(), checked.deletedChains()));
        });
    }

    /**
     * One family's one-shot sync in either mode, its steps as the mode's sync has them; {@code E} is how the mode
     * refuses rules ({@link IptablesException}, {@link NftException}).
     *
     * @param check       renders the state and dry-runs it, changing nothing
     * @param apply       programs what {@code check} returned
     * @param appliedLine what is printed, after the family's name, once it is applied
     */
    private record FamilySync<C, E extends Exception>(Check<C, E> check, Apply<C, E> apply,
                                                      Function<C, String> appliedLine) {
        interface Check<C, E extends Exception> {
            C check(ProxyState state) throws E, InterruptedException;
        }

        interface Apply<C, E extends Exception> {
            void apply(C checked) throws E, InterruptedException;
        }
    }

    /** Checks every family before applying any, so that rules iptables or nft refuse leave the node as it was. */
    private <C, E extends Exception> int checkThenApply(List<RenderConfig> configs, ClusterSnapshot snapshot,
                                                        PrintWriter err, PrintWriter out,
                                                        Function<RenderConfig, FamilySync<C, E>> syncOf)
            throws InterruptedException {
        List<FamilySync<C, E>> syncs = new ArrayList<>();
        List<C> checked = new ArrayList<>();
        for (RenderConfig config : configs) {
            FamilySync<C, E> sync = syncOf.apply(config);
            try {
                checked.add(sync.check().check(options.state(snapshot, config)));
                syncs.add(sync);
            } catch (InterruptedException | RuntimeException e) {
                throw e;
            } catch (Exception e) { // what is left is E, the mode's refusal: a catch cannot name a type variable
                return fail(err, config.family().kubernetesName() + ": " + e.getMessage() + "; nothing was changed");
            }
        }
        List<String> applied = new ArrayList<>();
        for (int i = 0; i < syncs.size(); i++) {
            IpFamily family = configs.get(i).family();
            try {
                syncs.get(i).apply().apply(checked.get(i));
            } catch (InterruptedException | RuntimeException e) {
                throw e;
            } catch (Exception e) { // E, as above
                // Past the dry run only the kernel can refuse (a missing nfacct counter, module...); the jump
                // rules of this family may already be in place, jumping to chains that are still empty.
                return fail(err, family.kubernetesName() + " rules were not applied: " + e.getMessage()
                        + (applied.isEmpty() ? "" : " (" + String.join(" and ", applied) + " rules were applied)"));
            }
            applied.add(family.kubernetesName());
            out.printf(Locale.ROOT, "%s: %s%n", family.kubernetesName(),
                    syncs.get(i).appliedLine().apply(checked.get(i)));
        }
        out.flush();
        return finish(snapshot, err);
    }

    /** Exit status 1 when invalid objects were skipped (listed on stderr), else 0. */
    private static int finish(ClusterSnapshot snapshot, PrintWriter err) {
        if (RenderOptions.reportProblems(snapshot, err)) {
            err.printf(Locale.ROOT, "railyard apply: %d invalid object%s skipped%n", snapshot.problems().size(),
                    snapshot.problems().size() == 1 ? "" : "s");
            err.flush();
            return ExitCodes.SKIPPED_OBJECTS;
        }
        return ExitCodes.OK;
    }

    /** --ip-family if given, else the node's families as the daemon decides them. */
    private List<IpFamily> families() {
        if (ipFamilies.isEmpty()) {
            return options.nodeFamilies();
        }
        List<IpFamily> families = new ArrayList<>();
        for (int number : ipFamilies) {
            IpFamily family = IpFamily.of(number);
            if (!families.contains(family)) {
                families.add(family);
            }
        }
        families.sort(null);
        return families;
    }

    private static int fail(PrintWriter err, String message) {
        err.println("railyard apply: " + message);
        err.flush();
        return ExitCodes.USAGE;
    }
}
