package dev.railyard.cli;

import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.render.RenderConfig;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/**
 * The node settings that shape rendered rules, named after kube-proxy's flags; shared by {@code render},
 * {@code trace} and {@code diff} (which render manifests the same way).
 */
final class RenderOptions {
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

    @Option(names = "--service-cidr", paramLabel = "CIDR", split = ",",
            description = "nftables mode: the cluster's service CIDRs (kube-proxy reads them from ServiceCIDR "
                    + "objects); traffic to an address in them that no service holds is dropped.")
    List<String> serviceCidrs = new ArrayList<>();

    @Option(names = "--masquerade-all", description = "Masquerade all traffic to cluster IPs.")
    boolean masqueradeAll;

    @Option(names = "--nodeport-addresses", paramLabel = "CIDR", split = ",",
            description = "Answer NodePorts only on node addresses in these CIDRs (or 'primary'); "
                    + "default: every local address in iptables mode, 'primary' in nftables mode.")
    List<String> nodePortAddresses;

    @Option(names = "--ip-family", paramLabel = "4|6",
            description = "Which table family to render: 4 (iptables) or 6 (ip6tables). Default: 4.")
    Integer ipFamily;

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

    /** The family --ip-family names (4 when not given). */
    IpFamily family() {
        return IpFamily.of(ipFamily == null ? 4 : ipFamily);
    }

    /**
     * The render settings for {@code family} in iptables or nftables mode (which differ in the NodePort
     * addresses' default); an IllegalArgumentException names a bad option.
     */
    RenderConfig config(IpFamily family, boolean nftables) {
        List<String> nodePorts = nodePortAddresses != null ? nodePortAddresses
                : nftables ? List.of("primary") : List.of();
        return RenderConfig.builder(family)
                .nodeName(nodeName())
                .nodeIps(nodeIps)
                .clusterCidrs(clusterCidrs)
                .masqueradeAll(masqueradeAll)
                .masqueradeBit(masqueradeBit)
                .nodePortAddresses(nodePorts)
                .serviceCidrs(serviceCidrs)
                .localhostNodePorts(localhostNodePorts)
                .randomFully(randomFully)
                .nfacctCounters(nfacct)
                .build();
    }

    String nodeName() {
        return hostname != null ? hostname : RenderCommand.localHostname();
    }
}
