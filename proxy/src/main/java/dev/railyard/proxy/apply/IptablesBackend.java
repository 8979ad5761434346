package dev.railyard.proxy.apply;

import java.util.Locale;

/**
 * Which iptables implementation programs the rules. A node has one that its other iptables users (kubelet, the
 * CNI plugin, firewalld) also use, and rules must be written with the same one, or each sees only its own half.
 * The choice matters for large clusters too: {@code iptables-nft-restore --noflush} grows with rules × chains,
 * so a 10,000-service ruleset that iptables-legacy restores in seconds does not finish with nft
 * (docs/performance.md).
 */
public enum IptablesBackend {
    /** Plain {@code iptables}, {@code iptables-restore}...: whatever the node's alternatives point at. */
    AUTO(""),
    /** {@code iptables-legacy}, {@code iptables-legacy-restore}...: the x_tables kernel interface. */
    LEGACY("-legacy"),
    /** {@code iptables-nft}, {@code iptables-nft-restore}...: the nf_tables kernel interface. */
    NFT("-nft");

    private final String infix;

    IptablesBackend(String infix) {
        this.infix = infix;
    }

    /** The program for {@code base} ("iptables", "ip6tables") and {@code suffix} ("", "-restore", "-save"). */
    String program(String base, String suffix) {
        return base + infix + suffix;
    }

    /** The name as a flag takes it: auto, legacy, nft. */
    public String flagValue() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses a flag value (auto, legacy, nft; any case). */
    public static IptablesBackend fromFlag(String value) {
        for (IptablesBackend backend : values()) {
            if (backend.flagValue().equalsIgnoreCase(value.strip())) {
                return backend;
            }
        }
        throw new IllegalArgumentException("unknown iptables backend \"" + value + "\" (must be auto, legacy or nft)");
    }
}
