package dev.railyard.proxy.daemon;

import dev.railyard.proxy.render.nftables.Layout;

import java.util.Objects;

/**
 * nftables mode's own settings.
 *
 * @param layout                     how the per-service rules are laid out ({@code --nftables-layout})
 * @param applier                    what writes each transaction into the kernel ({@code --nftables-applier})
 * @param servicePortsPerTransaction a full sync's transactions hold at most this many service ports each (the
 *                                   kernel's cost per commit grows faster than its size); 0 for one transaction
 */
public record NftablesOptions(Layout layout, Applier applier, int servicePortsPerTransaction) {
    /** What writes transactions into the kernel. */
    public enum Applier {
        /** The nft tool: {@code nft -f -}, which reads the kernel's ruleset before every transaction. */
        NFT("nft"),
        /** nf_tables batches over a netlink socket, from this process. */
        NETLINK("netlink");

        private final String flagValue;

        Applier(String flagValue) {
            this.flagValue = flagValue;
        }

        public String flagValue() {
            return flagValue;
        }

        public static Applier fromFlag(String value) {
            for (Applier applier : values()) {
                if (applier.flagValue.equals(value)) {
                    return applier;
                }
            }
            throw new IllegalArgumentException("nftables applier \"" + value + "\" is not supported; use \"nft\" "
                    + "or \"netlink\"");
        }

        @Override
        public String toString() {
            return flagValue;
        }
    }

    /** Service ports per transaction of a full sync through netlink (see docs/performance.md). */
    public static final int NETLINK_SERVICE_PORTS_PER_TRANSACTION = 1000;

    public NftablesOptions {
        Objects.requireNonNull(layout, "layout");
        Objects.requireNonNull(applier, "applier");
        if (servicePortsPerTransaction < 0) {
            throw new IllegalArgumentException("service ports per transaction must not be negative");
        }
    }

    /** kube-proxy's layout through the nft tool, as kube-proxy itself programs it. */
    public static NftablesOptions kubeProxy() {
        return new NftablesOptions(Layout.KUBE_PROXY, Applier.NFT, 0);
    }

    /**
     * The layout and applier given, full syncs split when the applier is netlink (the nft tool re-reads the
     * whole ruleset per invocation, so it is given one transaction).
     */
    public static NftablesOptions of(Layout layout, Applier applier) {
        return new NftablesOptions(layout, applier,
                applier == Applier.NETLINK ? NETLINK_SERVICE_PORTS_PER_TRANSACTION : 0);
    }
}
