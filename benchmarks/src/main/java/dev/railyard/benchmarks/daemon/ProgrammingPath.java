package dev.railyard.benchmarks.daemon;

import dev.railyard.benchmarks.ClusterGenerator;
import dev.railyard.proxy.apply.IptablesBackend;
import dev.railyard.proxy.daemon.NftablesOptions;
import dev.railyard.proxy.daemon.ProxyDaemonSettings;
import dev.railyard.proxy.render.nftables.Layout;
import dev.railyard.proxy.sync.IptablesSyncer;

import java.time.Duration;
import java.util.List;

/** One way {@code railyard proxy} can program a node, as {@link ProgrammingLatencyRun} compares them. */
enum ProgrammingPath {
    /** nftables mode as the daemon defaults to it. */
    NFT_FLAT_NETLINK("nft-flat-netlink", "nftables, flat layout, netlink (default)", Layout.FLAT,
            NftablesOptions.Applier.NETLINK, null),
    NFT_FLAT_NFT("nft-flat-nft", "nftables, flat layout, nft -f", Layout.FLAT, NftablesOptions.Applier.NFT, null),
    NFT_KUBE_PROXY_NETLINK("nft-kube-proxy-netlink", "nftables, kube-proxy layout, netlink", Layout.KUBE_PROXY,
            NftablesOptions.Applier.NETLINK, null),
    IPTABLES_LEGACY("iptables-legacy", "iptables, iptables-legacy", null, null, IptablesBackend.LEGACY),
    IPTABLES_NFT("iptables-nft", "iptables, iptables-nft", null, null, IptablesBackend.NFT);

    /**
     * Min sync period 0; a sync period (and retry) longer than any run, so every sync after the first is partial
     * unless the run asks for a full one, and a failed full sync is not retried behind the run's back.
     */
    private static final IptablesSyncer.Settings SYNC = new IptablesSyncer.Settings(Duration.ZERO,
            Duration.ofHours(2), Duration.ofHours(2));
    /** How long closing the daemon waits for a sync in progress (one past the cap is abandoned). */
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(5);

    private final String id;
    private final String description;
    private final Layout layout;
    private final NftablesOptions.Applier applier;
    private final IptablesBackend backend;

    ProgrammingPath(String id, String description, Layout layout, NftablesOptions.Applier applier,
                    IptablesBackend backend) {
        this.id = id;
        this.description = description;
        this.layout = layout;
        this.applier = applier;
        this.backend = backend;
    }

    String id() {
        return id;
    }

    String description() {
        return description;
    }

    boolean nftables() {
        return layout != null;
    }

    /** The daemon's settings for programming the namespace behind {@code commandPrefix}. */
    ProxyDaemonSettings settings(List<String> commandPrefix) {
        if (!nftables()) {
            return new ProxyDaemonSettings(ClusterGenerator.NODE_NAME, List.of(ClusterGenerator.renderConfig()), SYNC,
                    commandPrefix, STOP_TIMEOUT, backend);
        }
        // As `railyard proxy --proxy-mode nftables` builds them: NodePorts on the primary address only.
        return new ProxyDaemonSettings(ClusterGenerator.NODE_NAME, List.of(ClusterGenerator.nftablesRenderConfig()),
                SYNC, commandPrefix, STOP_TIMEOUT, IptablesBackend.AUTO)
                .withNftables(NftablesOptions.of(layout, applier));
    }

    static ProgrammingPath fromId(String id) {
        for (ProgrammingPath path : values()) {
            if (path.id.equals(id)) {
                return path;
            }
        }
        StringBuilder known = new StringBuilder();
        for (ProgrammingPath path : values()) {
            known.append(known.isEmpty() ? "" : ", ").append(path.id);
        }
        throw new IllegalArgumentException("unknown path \"" + id + "\"; known: " + known);
    }
}
