package dev.railyard.proxy.daemon;

/** How the proxy programs the node, named as kube-proxy's --proxy-mode values. */
public enum ProxyMode {
    /** kube-proxy's iptables mode: filter and nat chains written with iptables-restore. */
    IPTABLES("iptables"),
    /** kube-proxy's nftables mode: table kube-proxy in the ip and ip6 families. */
    NFTABLES("nftables"),
    /** Listeners on Netty relay the traffic themselves. */
    USERSPACE("userspace");

    private final String flagValue;

    ProxyMode(String flagValue) {
        this.flagValue = flagValue;
    }

    public String flagValue() {
        return flagValue;
    }

    /** The mode --proxy-mode (or the config file's mode) names; IllegalArgumentException for others. */
    public static ProxyMode fromFlag(String value) {
        for (ProxyMode mode : values()) {
            if (mode.flagValue.equals(value)) {
                return mode;
            }
        }
        throw new IllegalArgumentException("proxy mode \"" + value + "\" is not supported; use \"iptables\", "
                + "\"nftables\" or \"userspace\"");
    }

    @Override
    public String toString() {
        return flagValue;
    }
}
