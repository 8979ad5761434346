package dev.railyard.cli;

import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.render.LocalTrafficDetector;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.source.ClusterSnapshot;
import dev.railyard.proxy.source.NodeInfo;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * This node's settings that shape its rules, with kube-proxy's flag names: a picocli mixin shared by the commands
 * that render rules from manifests ({@code render} and {@code apply}, through {@link RenderOptions}) and those that
 * evaluate them ({@code trace} and {@code diff}, which take their rules from elsewhere too).
 *
 * <p>The options {@code railyard proxy} takes with the same declaration are mixins of their own, which it uses
 * too. Its other node options differ on purpose: each may be left to its configuration file (so none has a
 * default here), --masquerade-all and --iptables-localhost-nodeports take an explicit value as kube-proxy's do,
 * and their help speaks of the daemon.
 */
class NodeOptions {
    @Option(names = "--service-cidr", paramLabel = "CIDR", split = ",",
            description = "nftables mode: the cluster's service CIDRs (kube-proxy reads them from ServiceCIDR "
                    + "objects); traffic to an address in them that no service holds is dropped.")
    List<String> serviceCidrs = new ArrayList<>();

    @Mixin
    HostnameOverrideOption hostnameOverride;

    @Option(names = "--node-ip", paramLabel = "IP", split = ",",
            description = "This node's addresses; the first of each family is its primary. Repeatable.")
    List<String> nodeIps = new ArrayList<>();

    @Mixin
    ClusterCidrOption clusterCidr;

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

    @Option(names = "--detect-local-mode", paramLabel = "MODE", defaultValue = "ClusterCIDR",
            description = "How pod traffic is told from other traffic: ClusterCIDR (source in --cluster-cidr), "
                    + "NodeCIDR (source in this node's spec.podCIDRs, from its Node among the manifests), "
                    + "BridgeInterface (arrives on --pod-bridge-interface) or InterfaceNamePrefix (arrives on an "
                    + "interface named --pod-interface-name-prefix...). Default: ${DEFAULT-VALUE}.")
    String detectLocalMode;

    @Mixin
    PodInterfaceOptions podInterfaces;

    @Option(names = "--feature-gates", paramLabel = "GATE=BOOL", split = ",",
            description = "kube-proxy's feature gates this implements: PreferSameTrafficDistribution (default "
                    + "true: endpoints' hints.forNodes are honoured).")
    List<String> featureGates = new ArrayList<>();

    /** This node's name: --hostname-override, else the host name; trimmed and lower-cased as in {@code proxy}. */
    String nodeName() {
        return HostnameOverrideOption.asNodeName(
                hostnameOverride.hostname != null ? hostnameOverride.hostname : localHostname());
    }

    /**
     * The render configuration of {@code family} for this node in iptables or nftables mode (which differ in the
     * NodePort addresses' default).
     *
     * @throws IllegalArgumentException naming the option whose value is wrong
     */
    RenderConfig renderConfig(IpFamily family, boolean nftables) {
        return renderConfig(family, nftables, null);
    }

    /**
     * As {@link #renderConfig(IpFamily, boolean)}, with this node's pod CIDRs (NodeCIDR mode) from its Node among
     * {@code snapshot}'s manifests (null: none known).
     */
    RenderConfig renderConfig(IpFamily family, boolean nftables, ClusterSnapshot snapshot) {
        LocalTrafficDetector.Mode mode;
        try {
            mode = LocalTrafficDetector.Mode.fromFlag(detectLocalMode);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--detect-local-mode: " + e.getMessage());
        }
        List<String> podCidrs = snapshot == null ? List.of()
                : snapshot.node(nodeName()).map(NodeInfo::podCidrs).orElse(List.of());
        return RenderConfig.builder(family)
                .nodeName(nodeName())
                .nodeIps(nodeIps)
                .clusterCidrs(clusterCidr.orEmpty())
                .masqueradeAll(masqueradeAll)
                .masqueradeBit(masqueradeBit)
                .nodePortAddresses(nodePortAddresses != null ? nodePortAddresses
                        : nftables ? List.of("primary") : List.of())
                .serviceCidrs(serviceCidrs)
                .localhostNodePorts(localhostNodePorts)
                .randomFully(randomFully)
                .nfacctCounters(nfacct)
                .localDetector(LocalTrafficDetector.of(mode, family, clusterCidr.orEmpty(), podCidrs,
                        podInterfaces.bridgeInterface, podInterfaces.interfaceNamePrefix))
                .preferSameTrafficDistribution(FeatureGates.parse(featureGates).preferSameTrafficDistribution())
                .build();
    }

    /**
     * The state {@code config} renders from the manifests: --service-cidr, when given, wins over the manifests'
     * ServiceCIDR objects.
     */
    ProxyState state(ClusterSnapshot snapshot, RenderConfig config) {
        ProxyState state = snapshot.state(config.family(), config.nodeName());
        return serviceCidrs.isEmpty() ? state : state.withServiceCidrs(null);
    }

    /** The families this node has, as {@code railyard proxy} decides them ({@link NodeFamilies}). */
    List<IpFamily> nodeFamilies() {
        return NodeFamilies.of(nodeIps, clusterCidr.orEmpty(), false);
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
