package dev.railyard.proxy.render.nftables;

/**
 * How nftables mode lays out its per-service rules. Both give every Service the same meaning; they differ in
 * what a change costs the kernel.
 */
public enum Layout {
    /**
     * kube-proxy's own, name for name: a chain per service port and per endpoint, endpoints picked by
     * {@code numgen random mod N vmap { i : goto endpoint-… }}. Every commit that adds a jump or verdict element
     * makes the kernel re-validate the whole jump graph, which at 10,000 services (110,000 chains) costs ~190 ms.
     */
    KUBE_PROXY("kube-proxy"),
    /**
     * The same table, maps and service chains, but endpoints as data: a service chain DNATs with
     * {@code dnat ip addr . port to numgen random mod N offset B map @endpoints-tcp-S}, its endpoints in its own
     * block of keys of an endpoint map shared per protocol and shard of keys ({@link EndpointKeyBlocks}), hairpin
     * traffic is marked by one set lookup in postrouting, and the masquerade mark is set
     * in place rather than by a jump. A pod replaced then rewrites one map element and no rule, which the kernel
     * does not re-validate. Services with ClientIP affinity keep kube-proxy's per-endpoint chains, which affinity
     * needs.
     */
    FLAT("flat");

    private final String flagValue;

    Layout(String flagValue) {
        this.flagValue = flagValue;
    }

    public String flagValue() {
        return flagValue;
    }

    /** The layout {@code --nftables-layout} names; IllegalArgumentException for others. */
    public static Layout fromFlag(String value) {
        for (Layout layout : values()) {
            if (layout.flagValue.equals(value)) {
                return layout;
            }
        }
        throw new IllegalArgumentException("nftables layout \"" + value + "\" is not supported; use \"kube-proxy\" "
                + "or \"flat\"");
    }

    @Override
    public String toString() {
        return flagValue;
    }
}
