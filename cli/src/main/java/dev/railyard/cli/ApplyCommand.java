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
            return applyNftables(configs, snapshot, prefix, err, out);
        }
        List<OneShotSync> syncs = new ArrayList<>();
        List<OneShotSync.Checked> checked = new ArrayList<>();
        for (RenderConfig config : configs) {
            OneShotSync sync = OneShotSync.of(config, backend, prefix);
            try {
                checked.add(sync.check(options.state(snapshot, config)));
                syncs.add(sync);
            } catch (IptablesException e) {
                return fail(err, config.family().kubernetesName() + ": " + e.getMessage() + "; nothing was changed");
            }
        }
        List<String> applied = new ArrayList<>();
        for (int i = 0; i < syncs.size(); i++) {
            IpFamily family = syncs.get(i).family();
            try {
                syncs.get(i).apply(checked.get(i));
            } catch (IptablesException e) {
                // Past the dry run only the kernel can refuse (a missing nfacct counter, module...); the jump
                // rules of this family may already be in place, jumping to chains that are still empty.
                return fail(err, family.kubernetesName() + " rules were not applied: " + e.getMessage()
                        + (applied.isEmpty() ? "" : " (" + String.join(" and ", applied) + " rules were applied)"));
            }
            applied.add(family.kubernetesName());
            ProxyState state = checked.get(i).state();
            out.printf(Locale.ROOT, "%s: applied %d service ports, %d endpoints; deleted %d stale chains%n",
                    family.kubernetesName(), state.serviceCount(), state.endpointCount(),
                    checked.get(i).deletedChains());
        }
        out.flush();
        return finish(snapshot, err);
    }

    private int applyNftables(List<RenderConfig> configs, ClusterSnapshot snapshot, List<String> prefix,
                              PrintWriter err, PrintWriter out) throws InterruptedException {
        NftCommand nft = NftCommand.create().withCommandPrefix(prefix);
        Layout layout = options.nftablesLayout();
        List<OneShotNftablesSync> syncs = new ArrayList<>();
        List<OneShotNftablesSync.Checked> checked = new ArrayList<>();
        for (RenderConfig config : configs) {
            OneShotNftablesSync sync = OneShotNftablesSync.of(config, layout, nft);
            try {
                checked.add(sync.check(options.state(snapshot, config)));
                syncs.add(sync);
            } catch (NftException e) {
                return fail(err, config.family().kubernetesName() + ": " + e.getMessage() + "; nothing was changed");
            }
        }
        List<String> applied = new ArrayList<>();
        for (int i = 0; i < syncs.size(); i++) {
            IpFamily family = syncs.get(i).family();
            try {
                syncs.get(i).apply(checked.get(i));
            } catch (NftException e) {
                return fail(err, family.kubernetesName() + " rules were not applied: " + e.getMessage()
                        + (applied.isEmpty() ? "" : " (" + String.join(" and ", applied) + " rules were applied)"));
            }
            applied.add(family.kubernetesName());
            ProxyState state = checked.get(i).state();
            out.printf(Locale.ROOT, "%s: applied %d service ports, %d endpoints (nftables, %s layout); removed %d "
                            + "stale chains%n", family.kubernetesName(), state.serviceCount(), state.endpointCount(),
                    layout, checked.get(i).staleChains());
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
