package dev.railyard.proxy.render;

import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.IpFamily;
import inet.ipaddr.IPAddress;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The node-level settings that shape the ruleset, named after kube-proxy's flags. Validated on build, so a
 * renderer never meets a bad setting in its hot loop.
 */
public final class RenderConfig {
    /** kube-proxy's --iptables-masquerade-bit default. */
    public static final int DEFAULT_MASQUERADE_BIT = 14;

    private final IpFamily family;
    private final String nodeName;
    private final List<String> nodeIps;
    private final String clusterCidr;
    private final boolean masqueradeAll;
    private final String masqueradeMark;
    private final List<IPAddress> nodePortCidrs;
    private final boolean localhostNodePorts;
    private final boolean randomFully;
    private final boolean conntrackTcpBeLiberal;
    private final boolean nfacctCounters;
    private final List<String> serviceCidrs;
    private final boolean preferSameTrafficDistribution;
    private final LocalTrafficDetector localDetector;

    private RenderConfig(Builder b) {
        this.family = Objects.requireNonNull(b.family, "family");
        this.nodeName = b.nodeName == null ? "" : b.nodeName;
        List<String> ips = new ArrayList<>();
        for (String ip : b.nodeIps) {
            IPAddress address = IpAddresses.parse(ip.trim());
            if (IpAddresses.familyOf(address) == family) {
                ips.add(IpAddresses.canonical(address));
            }
        }
        this.nodeIps = List.copyOf(ips);
        this.clusterCidr = clusterCidrOf(b.clusterCidrs, family);
        this.masqueradeAll = b.masqueradeAll;
        if (b.masqueradeBit < 0 || b.masqueradeBit > 31) {
            throw new IllegalArgumentException("--iptables-masquerade-bit must be within 0-31, not " + b.masqueradeBit);
        }
        this.masqueradeMark = b.masqueradeMark != null ? b.masqueradeMark : goHexMark(b.masqueradeBit);
        this.nodePortCidrs = nodePortCidrsOf(b.nodePortAddresses, family, nodeIps);
        // Localhost NodePorts exist only in IPv4 and only when loopback is among the NodePort addresses.
        this.localhostNodePorts = b.localhostNodePorts && family == IpFamily.V4 && containsIpv4Loopback(nodePortCidrs);
        this.randomFully = b.randomFully;
        this.conntrackTcpBeLiberal = b.conntrackTcpBeLiberal;
        this.nfacctCounters = b.nfacctCounters;
        this.serviceCidrs = cidrsOf(b.serviceCidrs, family);
        this.preferSameTrafficDistribution = b.preferSameTrafficDistribution;
        this.localDetector = b.localDetector != null ? b.localDetector
                : clusterCidr != null ? LocalTrafficDetector.byCidr(clusterCidr) : LocalTrafficDetector.NONE;
    }

    private static List<String> cidrsOf(List<String> cidrs, IpFamily family) {
        List<String> result = new ArrayList<>();
        for (String text : cidrs) {
            IPAddress cidr = IpAddresses.parseCidr(text.trim());
            if (IpAddresses.familyOf(cidr) == family) {
                result.add(IpAddresses.canonicalCidr(cidr));
            }
        }
        return List.copyOf(result);
    }

    public static Builder builder(IpFamily family) {
        return new Builder(family);
    }

    /** Go's fmt.Sprintf("%#08x", 1<<bit), which is how kube-proxy spells the mark: 0x00004000 for bit 14. */
    static String goHexMark(int bit) {
        return "0x" + String.format(Locale.ROOT, "%08x", 1L << bit);
    }

    private static String clusterCidrOf(List<String> cidrs, IpFamily family) {
        String found = null;
        for (String text : cidrs) {
            IPAddress cidr = IpAddresses.parseCidr(text.trim());
            if (IpAddresses.familyOf(cidr) != family) {
                continue;
            }
            if (found != null) {
                throw new IllegalArgumentException("--cluster-cidr has two " + family.kubernetesName()
                        + " CIDRs: " + found + " and " + IpAddresses.canonicalCidr(cidr));
            }
            found = IpAddresses.canonicalCidr(cidr);
        }
        return found;
    }

    private static List<IPAddress> nodePortCidrsOf(List<String> values, IpFamily family, List<String> nodeIps) {
        List<IPAddress> cidrs = new ArrayList<>();
        for (String value : values) {
            String text = value.trim();
            if (text.equals("primary")) {
                if (!nodeIps.isEmpty()) {
                    cidrs.add(IpAddresses.parseCidr(nodeIps.get(0) + (family == IpFamily.V4 ? "/32" : "/128")));
                }
                continue;
            }
            IPAddress cidr = IpAddresses.parseCidr(text);
            if (IpAddresses.familyOf(cidr) != family) {
                continue;
            }
            if (cidr.getNetworkPrefixLength() == 0) {
                return List.of();
            }
            cidrs.add(cidr);
        }
        return List.copyOf(cidrs);
    }

    private static boolean containsIpv4Loopback(List<IPAddress> cidrs) {
        if (cidrs.isEmpty()) {
            return true;
        }
        IPAddress loopback = IpAddresses.parse("127.0.0.1");
        for (IPAddress cidr : cidrs) {
            if (cidr.contains(loopback) || cidr.getLower().isLoopback()) {
                return true;
            }
        }
        return false;
    }

    public IpFamily family() {
        return family;
    }

    /** This node's name, which makes endpoints local; empty when unknown (then nothing is local). */
    public String nodeName() {
        return nodeName;
    }

    /** This node's addresses in this family, canonical; the first is the primary. */
    public List<String> nodeIps() {
        return nodeIps;
    }

    /** The cluster's pod CIDR of this family (--cluster-cidr), or null. */
    public String clusterCidr() {
        return clusterCidr;
    }

    /**
     * How the rules tell pod traffic from other traffic (--detect-local-mode); by default the cluster CIDR of
     * this family, or none without one.
     */
    public LocalTrafficDetector localDetector() {
        return localDetector;
    }

    public boolean masqueradeAll() {
        return masqueradeAll;
    }

    public String masqueradeMark() {
        return masqueradeMark;
    }

    /** NodePorts answer on every local address. */
    public boolean nodePortsOnAllAddresses() {
        return nodePortCidrs.isEmpty();
    }

    /**
     * The node addresses NodePorts answer on when they do not answer on all: the node IPs and loopback that fall
     * in --nodeport-addresses, as kube-proxy finds them on the node's interfaces.
     */
    public List<String> nodePortIps() {
        List<String> result = new ArrayList<>();
        List<String> candidates = new ArrayList<>(nodeIps);
        candidates.add(family == IpFamily.V4 ? "127.0.0.1" : "::1");
        for (String ip : candidates) {
            IPAddress address = IpAddresses.parse(ip);
            for (IPAddress cidr : nodePortCidrs) {
                if (cidr.contains(address)) {
                    if (!result.contains(ip)) {
                        result.add(ip);
                    }
                    break;
                }
            }
        }
        return result;
    }

    /** NodePorts answer on 127.0.0.1 too (kube-proxy's --iptables-localhost-nodeports). */
    public boolean localhostNodePorts() {
        return localhostNodePorts;
    }

    /** The MASQUERADE target takes --random-fully (iptables >= 1.6.2 and a kernel that supports it). */
    public boolean randomFully() {
        return randomFully;
    }

    /** nf_conntrack_tcp_be_liberal is set, so INVALID packets need not be dropped. */
    public boolean conntrackTcpBeLiberal() {
        return conntrackTcpBeLiberal;
    }

    /**
     * kube-proxy's nfacct counters (ct_state_invalid_dropped_pkts, localhost_nps_accepted_pkts) exist, so the
     * rules that feed them are written.
     */
    public boolean nfacctCounters() {
        return nfacctCounters;
    }

    /**
     * The service CIDRs of this family (ServiceCIDR objects, or --service-cluster-ip-range): nftables mode drops
     * traffic to cluster IPs in them that no service holds. Empty when unknown.
     */
    public List<String> serviceCidrs() {
        return serviceCidrs;
    }

    /**
     * kube-proxy's PreferSameTrafficDistribution feature gate (beta and on since 1.34): endpoints' hints.forNodes
     * take precedence over their zone hints.
     */
    public boolean preferSameTrafficDistribution() {
        return preferSameTrafficDistribution;
    }

    public static final class Builder {
        private final IpFamily family;
        private String nodeName;
        private List<String> nodeIps = List.of();
        private List<String> clusterCidrs = List.of();
        private boolean masqueradeAll;
        private int masqueradeBit = DEFAULT_MASQUERADE_BIT;
        private String masqueradeMark;
        private List<String> nodePortAddresses = List.of();
        private boolean localhostNodePorts = true;
        private boolean randomFully = true;
        private boolean conntrackTcpBeLiberal;
        private boolean nfacctCounters;
        private List<String> serviceCidrs = List.of();
        private boolean preferSameTrafficDistribution = true;
        private LocalTrafficDetector localDetector;

        private Builder(IpFamily family) {
            this.family = family;
        }

        public Builder nodeName(String value) {
            this.nodeName = value;
            return this;
        }

        /** Addresses of both families may be given; only this config's family is kept. */
        public Builder nodeIps(List<String> value) {
            this.nodeIps = List.copyOf(value);
            return this;
        }

        /** One CIDR per family at most; those of the other family are ignored. */
        public Builder clusterCidrs(List<String> value) {
            this.clusterCidrs = List.copyOf(value);
            return this;
        }

        public Builder masqueradeAll(boolean value) {
            this.masqueradeAll = value;
            return this;
        }

        public Builder masqueradeBit(int value) {
            this.masqueradeBit = value;
            return this;
        }

        /** Overrides the mark text derived from the bit (kube-proxy's own tests use "0x4000"). */
        public Builder masqueradeMark(String value) {
            this.masqueradeMark = value;
            return this;
        }

        /** CIDRs or "primary"; empty means every local address. */
        public Builder nodePortAddresses(List<String> value) {
            this.nodePortAddresses = List.copyOf(value);
            return this;
        }

        public Builder localhostNodePorts(boolean value) {
            this.localhostNodePorts = value;
            return this;
        }

        public Builder randomFully(boolean value) {
            this.randomFully = value;
            return this;
        }

        public Builder conntrackTcpBeLiberal(boolean value) {
            this.conntrackTcpBeLiberal = value;
            return this;
        }

        public Builder nfacctCounters(boolean value) {
            this.nfacctCounters = value;
            return this;
        }

        /** Service CIDRs of either family; those of the other family are ignored. */
        public Builder serviceCidrs(List<String> value) {
            this.serviceCidrs = List.copyOf(value);
            return this;
        }

        public Builder preferSameTrafficDistribution(boolean value) {
            this.preferSameTrafficDistribution = value;
            return this;
        }

        /** Overrides the default detector (the cluster CIDR of this family). */
        public Builder localDetector(LocalTrafficDetector value) {
            this.localDetector = value;
            return this;
        }

        public RenderConfig build() {
            return new RenderConfig(this);
        }
    }
}
