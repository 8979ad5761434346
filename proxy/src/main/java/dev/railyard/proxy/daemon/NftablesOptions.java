package dev.railyard.proxy.daemon;

import dev.railyard.proxy.render.nftables.Layout;

import java.util.Objects;

/**
 * nftables mode's own settings.
 *
 * @param layout  how the per-service rules are laid out ({@code --nftables-layout})
 * @param applier what writes each transaction into the kernel ({@code --nftables-applier})
 */
public record NftablesOptions(Layout layout, Applier applier) {
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

    public NftablesOptions {
        Objects.requireNonNull(layout, "layout");
        Objects.requireNonNull(applier, "applier");
    }

    /** kube-proxy's layout through the nft tool, as kube-proxy itself programs it. */
    public static NftablesOptions kubeProxy() {
        return new NftablesOptions(Layout.KUBE_PROXY, Applier.NFT);
    }
}
