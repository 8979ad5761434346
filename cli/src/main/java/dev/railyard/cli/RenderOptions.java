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
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What decides a node's rules, for every command that computes them from manifests ({@code render},
 * {@code apply}): the manifest files and this node's settings, with kube-proxy's flag names. A picocli mixin;
 * which families a command works on, and where its output goes, are the command's own options.
 */
final class RenderOptions {
    @Parameters(paramLabel = "FILE", arity = "1..*", description = "Manifest files.")
    List<Path> files;

    @Option(names = "--proxy-mode", paramLabel = "iptables|nftables", defaultValue = "iptables",
            description = "Which of kube-proxy's modes: iptables (filter and nat chains for iptables-restore) or "
                    + "nftables (table kube-proxy). Default: ${DEFAULT-VALUE}.")
    String proxyMode;

    @Option(names = "--nftables-layout", paramLabel = "kube-proxy|flat", defaultValue = "kube-proxy",
            description = "nftables mode: kube-proxy's own layout (a chain per endpoint), or flat (endpoints in data "
                    + "maps: the same meaning, cheaper changes at scale). Default: ${DEFAULT-VALUE}.")
    String nftablesLayout;

    @Option(names = "--service-cidr", paramLabel = "CIDR", split = ",",
            description = "nftables mode: the cluster's service CIDRs (kube-proxy reads them from ServiceCIDR "
                    + "objects); traffic to an address in them that no service holds is dropped.")
    List<String> serviceCidrs = new ArrayList<>();

    @Option(names = "--hostname-override", paramLabel = "NAME",
            description = "This node's name, which decides which endpoints are local (default: the host name).")
    String hostname;

    @Option(names = "--node-ip", paramLabel = "IP", split = ",",
            description = "This node's addresses; the first of each family is its primary. Repeatable.")
    List<String> nodeIps = new ArrayList<>();

    @Option(names = "--cluster-cidr", paramLabel = "CIDR", split = ",",
            description = "The pod network (one CIDR per family): traffic from outside it to a cluster IP is "
                    + "masqueraded.")
    List<String> clusterCidrs = new ArrayList<>();

    @Option(names = "--masquerade-all", description = "Masquerade all traffic to cluster IPs.")
    boolean masqueradeAll;

    @Option(names = "--nodeport-addresses", paramLabel = "CIDR", split = ",",
            description = "Answer NodePorts only on node addresses in these CIDRs (or 'primary'); "
                    + "default: every local address in iptables mode, 'primary' in nftables mode.")
    List<String> nodePortAddresses;

    @Option(names = "--iptables-masquerade-bit", paramLabel = "BIT", defaultValue = "14",
            description = "The fwmark bit that marks packets for SNAT. Default: ${DEFAULT-VALUE}.")
    int masqueradeBit;

    @Option(names = "--iptables-localhost-nodeports", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Let NodePorts answer on 127.0.0.1 (IPv4 only). Default: ${DEFAULT-VALUE}.")
    boolean localhostNodePorts;

    @Option(names = "--random-fully", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Add --random-fully to MASQUERADE (needs iptables >= 1.6.2). Default: ${DEFAULT-VALUE}.")
    boolean randomFully;

    @Option(names = "--nfacct", description = "Count dropped INVALID packets and localhost NodePort "
            + "connections in kube-proxy's nfacct counters (they must exist).")
    boolean nfacct;

    /**
     * Whether nftables mode was asked for.
     *
     * @throws IllegalArgumentException for a mode other than iptables or nftables
     */
    boolean nftables() {
        return switch (proxyMode) {
            case "iptables" -> false;
            case "nftables" -> true;
            default -> throw new IllegalArgumentException("--proxy-mode: \"" + proxyMode + "\" is not supported; "
                    + "use iptables or nftables");
        };
    }

    /** nftables mode's layout; IllegalArgumentException naming the option for an unknown one. */
    Layout nftablesLayout() {
        try {
            return Layout.fromFlag(nftablesLayout);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--nftables-layout: " + e.getMessage());
        }
    }

    /** This node's name: --hostname-override, else the host name. */
    String nodeName() {
        return hostname != null ? hostname : localHostname();
    }

    /**
     * The render configuration of {@code family} for this node.
     *
     * @throws IllegalArgumentException naming the option whose value is wrong
     */
    RenderConfig renderConfig(IpFamily family) {
        return RenderConfig.builder(family)
                .nodeName(nodeName())
                .nodeIps(nodeIps)
                .clusterCidrs(clusterCidrs)
                .masqueradeAll(masqueradeAll)
                .masqueradeBit(masqueradeBit)
                .nodePortAddresses(nodePortAddresses != null ? nodePortAddresses
                        : nftables() ? List.of("primary") : List.of())
                .serviceCidrs(serviceCidrs)
                .localhostNodePorts(localhostNodePorts)
                .randomFully(randomFully)
                .nfacctCounters(nfacct)
                .build();
    }

    /** The families this node has, as {@code railyard proxy} decides them ({@link NodeFamilies}). */
    List<IpFamily> nodeFamilies() {
        return NodeFamilies.of(nodeIps, clusterCidrs, false);
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

    /** kube-proxy's default node name: the host name, lower-cased. */
    static String localHostname() {
        try {
            return InetAddress.getLocalHost().getHostName().toLowerCase(Locale.ROOT);
        } catch (UnknownHostException e) {
            return "";
        }
    }
}
