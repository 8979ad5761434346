package dev.railyard.proxy.render;

import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.IpFamily;
import inet.ipaddr.IPAddress;

import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * How the rules tell traffic from this node's pods from other traffic, kube-proxy's LocalTrafficDetector
 * (pkg/proxy/util/localdetector.go, --detect-local-mode): by source CIDR (the cluster's pod CIDR, or this node's
 * spec.podCIDRs), by incoming bridge interface, or by incoming interface name prefix; or not at all. Both renderers
 * ask it for their match: {@code ! -s CIDR} / {@code ip saddr != CIDR} on the masquerade rule for off-cluster
 * traffic to cluster IPs, {@code -s CIDR} / {@code ip saddr CIDR} on the rule that lets pods bypass
 * externalTrafficPolicy Local. Immutable.
 */
public final class LocalTrafficDetector {
    /** kube-proxy's --detect-local-mode values. */
    public enum Mode {
        CLUSTER_CIDR("ClusterCIDR"),
        NODE_CIDR("NodeCIDR"),
        BRIDGE_INTERFACE("BridgeInterface"),
        INTERFACE_NAME_PREFIX("InterfaceNamePrefix");

        private final String flagValue;

        Mode(String flagValue) {
            this.flagValue = flagValue;
        }

        public String flagValue() {
            return flagValue;
        }

        /** @throws IllegalArgumentException for a value kube-proxy does not know */
        public static Mode fromFlag(String value) {
            for (Mode mode : values()) {
                if (mode.flagValue.equals(value)) {
                    return mode;
                }
            }
            throw new IllegalArgumentException("\"" + value + "\" is not a detect-local mode (ClusterCIDR, NodeCIDR, "
                    + "BridgeInterface or InterfaceNamePrefix)");
        }
    }

    /** Linux interface names: at most 15 bytes; kept to characters that are plain words in iptables and nft. */
    private static final Pattern INTERFACE = Pattern.compile("[A-Za-z0-9_.@-]{1,15}");

    /** No detection: no off-cluster masquerade rule, no pod short-circuit. */
    public static final LocalTrafficDetector NONE = new LocalTrafficDetector("none", List.of(), List.of(), null, null);

    private final String description;
    private final List<String> ifLocal;
    private final List<String> ifNotLocal;
    private final String ifLocalNft;
    private final String ifNotLocalNft;

    private LocalTrafficDetector(String description, List<String> ifLocal, List<String> ifNotLocal,
                                 String ifLocalNft, String ifNotLocalNft) {
        this.description = description;
        this.ifLocal = ifLocal;
        this.ifNotLocal = ifNotLocal;
        this.ifLocalNft = ifLocalNft;
        this.ifNotLocalNft = ifNotLocalNft;
    }

    /** Traffic from {@code cidr} is from pods (ClusterCIDR and NodeCIDR modes); its family picks ip or ip6. */
    public static LocalTrafficDetector byCidr(String cidr) {
        IPAddress parsed = IpAddresses.parseCidr(cidr.trim());
        String text = IpAddresses.canonicalCidr(parsed);
        String nft = IpAddresses.familyOf(parsed) == IpFamily.V6 ? "ip6" : "ip";
        return new LocalTrafficDetector("source " + text, List.of("-s", text), List.of("!", "-s", text),
                nft + " saddr " + text, nft + " saddr != " + text);
    }

    /** Traffic arriving on bridge {@code name} is from pods (BridgeInterface mode, both families). */
    public static LocalTrafficDetector byBridgeInterface(String name) {
        checkInterface(name, "--pod-bridge-interface");
        return new LocalTrafficDetector("interface " + name, List.of("-i", name), List.of("!", "-i", name),
                "iifname " + name, "iifname != " + name);
    }

    /** Traffic arriving on an interface named {@code prefix}... is from pods (InterfaceNamePrefix mode). */
    public static LocalTrafficDetector byInterfaceNamePrefix(String prefix) {
        checkInterface(prefix, "--pod-interface-name-prefix");
        return new LocalTrafficDetector("interfaces " + prefix + "*", List.of("-i", prefix + "+"),
                List.of("!", "-i", prefix + "+"), "iifname " + prefix + "*", "iifname != " + prefix + "*");
    }

    /**
     * kube-proxy's GetLocalTrafficDetectors for one family: the first CIDR of this family for ClusterCIDR (from
     * --cluster-cidr) and NodeCIDR (from the Node's spec.podCIDRs), none when there is no such CIDR; the interface
     * for either family in the interface modes.
     *
     * @throws IllegalArgumentException naming the flag whose value is missing or wrong
     */
    public static LocalTrafficDetector of(Mode mode, IpFamily family, List<String> clusterCidrs,
                                          List<String> nodePodCidrs, String bridgeInterface,
                                          String interfaceNamePrefix) {
        return switch (mode) {
            case CLUSTER_CIDR -> firstOfFamily(clusterCidrs, family);
            case NODE_CIDR -> firstOfFamily(nodePodCidrs, family);
            case BRIDGE_INTERFACE -> byBridgeInterface(required(bridgeInterface, "--pod-bridge-interface",
                    "BridgeInterface"));
            case INTERFACE_NAME_PREFIX -> byInterfaceNamePrefix(required(interfaceNamePrefix,
                    "--pod-interface-name-prefix", "InterfaceNamePrefix"));
        };
    }

    private static LocalTrafficDetector firstOfFamily(List<String> cidrs, IpFamily family) {
        for (String text : cidrs) {
            IPAddress cidr = IpAddresses.parseCidr(text.trim());
            if (IpAddresses.familyOf(cidr) == family) {
                return byCidr(text);
            }
        }
        return NONE;
    }

    private static String required(String value, String flag, String mode) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException(flag + " must be set with --detect-local-mode " + mode);
        }
        return value;
    }

    private static void checkInterface(String name, String flag) {
        if (name == null || !INTERFACE.matcher(name).matches()) {
            throw new IllegalArgumentException(flag + ": \"" + name + "\" is not an interface name (1-15 of "
                    + "letters, digits, '_', '.', '@' and '-')");
        }
    }

    /** kube-proxy's IsImplemented: the rules that need a detector are written. */
    public boolean implemented() {
        return !ifLocal.isEmpty();
    }

    /** iptables words that match pod traffic. */
    public List<String> ifLocal() {
        return ifLocal;
    }

    /** iptables words that match traffic not from pods. */
    public List<String> ifNotLocal() {
        return ifNotLocal;
    }

    /** The nft expression that matches pod traffic; null when not implemented. */
    public String ifLocalNft() {
        return ifLocalNft;
    }

    /** The nft expression that matches traffic not from pods; null when not implemented. */
    public String ifNotLocalNft() {
        return ifNotLocalNft;
    }

    @Override
    public String toString() {
        return description.toLowerCase(Locale.ROOT).equals("none") ? "no local-traffic detection"
                : "pod traffic is " + description;
    }
}
