package dev.railyard.cli;

import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.render.nftables.Layout;
import dev.railyard.proxy.source.ClusterSnapshot;
import dev.railyard.proxy.source.ManifestLoader;
import dev.railyard.proxy.source.ManifestSyntaxException;
import dev.railyard.proxy.source.Problem;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * What decides a node's rules, for every command that computes them from manifests ({@code render},
 * {@code apply}): the manifest files, the mode, and this node's settings ({@link NodeOptions}), with kube-proxy's
 * flag names. A picocli mixin; which families a command works on, and where its output goes, are the command's
 * own options.
 */
final class RenderOptions extends NodeOptions {
    @Parameters(paramLabel = "FILE", arity = "1..*", description = "Manifest files.")
    List<Path> files;

    @Option(names = "--proxy-mode", paramLabel = "iptables|nftables", defaultValue = "iptables",
            description = "Which of kube-proxy's modes: iptables (filter and nat chains for iptables-restore) or "
                    + "nftables (table kube-proxy). Default: ${DEFAULT-VALUE}.")
    String proxyMode;

    @Option(names = "--nftables-layout", paramLabel = "kube-proxy|flat",
            description = "nftables mode: kube-proxy's own layout (a chain per endpoint), or flat (endpoints in data "
                    + "maps: the same meaning, cheaper changes at scale). Default: kube-proxy.")
    String nftablesLayout;

    /**
     * Whether nftables mode was asked for.
     *
     * @throws IllegalArgumentException for a mode other than iptables or nftables, or an nftables-only option
     *                                  given in iptables mode (it would be ignored without a word)
     */
    boolean nftables() {
        boolean nftables = switch (proxyMode) {
            case "iptables" -> false;
            case "nftables" -> true;
            default -> throw new IllegalArgumentException("--proxy-mode: \"" + proxyMode + "\" is not supported; "
                    + "use iptables or nftables");
        };
        if (!nftables && nftablesLayout != null) {
            throw new IllegalArgumentException("--nftables-layout only applies to --proxy-mode nftables");
        }
        if (!nftables && !serviceCidrs.isEmpty()) {
            throw new IllegalArgumentException("--service-cidr only applies to --proxy-mode nftables (iptables mode "
                    + "does not drop traffic to unallocated cluster IPs)");
        }
        return nftables;
    }

    /** nftables mode's layout; IllegalArgumentException naming the option for an unknown one. */
    Layout nftablesLayout() {
        return layout(nftablesLayout);
    }

    /** A --nftables-layout value, kube-proxy's layout when none was given; IllegalArgumentException naming it. */
    static Layout layout(String flag) {
        try {
            return Layout.fromFlag(flag == null ? "kube-proxy" : flag);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--nftables-layout: " + e.getMessage());
        }
    }

    /**
     * The render configuration of {@code family} for this node, in the mode --proxy-mode names.
     *
     * @throws IllegalArgumentException naming the option whose value is wrong
     */
    RenderConfig renderConfig(IpFamily family) {
        return renderConfig(family, nftables());
    }

    /** As {@link #renderConfig(IpFamily)}, with this node's Node (NodeCIDR mode) from the loaded manifests. */
    RenderConfig renderConfig(IpFamily family, ClusterSnapshot snapshot) {
        return renderConfig(family, nftables(), snapshot);
    }

    /**
     * The manifests, or null after telling {@code err} why not (a file missing, unreadable or not YAML or JSON);
     * {@code command} prefixes the message.
     */
    ClusterSnapshot load(PrintWriter err, String command) {
        try {
            return ManifestLoader.load(files);
        } catch (NoSuchFileException e) {
            err.println(command + ": " + e.getFile() + ": no such file");
        } catch (IOException | ManifestSyntaxException e) {
            err.println(command + ": " + e.getMessage());
        }
        err.flush();
        return null;
    }

    /**
     * Lists the skipped objects on {@code err} as {@code skipped file:line: Kind ns/name: field: reason}; whether
     * there were any, which makes a command's exit status 1.
     */
    static boolean reportProblems(ClusterSnapshot snapshot, PrintWriter err) {
        for (Problem problem : snapshot.problems()) {
            err.println("skipped " + problem);
        }
        err.flush();
        return !snapshot.problems().isEmpty();
    }
}
