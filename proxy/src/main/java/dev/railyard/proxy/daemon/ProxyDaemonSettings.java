package dev.railyard.proxy.daemon;

import dev.railyard.proxy.apply.IptablesBackend;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.sync.IptablesSyncer;
import dev.railyard.proxy.userspace.UserspaceConfig;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What {@link ProxyDaemon} needs, already validated: one render configuration per IP family to program (IPv4
 * first), the sync periods, and the command prefix every iptables command runs behind (empty on a node;
 * {@code ip netns exec NAME} to program a network namespace). Immutable.
 *
 * @param nodeName      this node, which decides which endpoints are local
 * @param families      one configuration per family, each family at most once
 * @param sync          kube-proxy's --iptables-min-sync-period and --iptables-sync-period
 * @param commandPrefix prepended to every iptables command
 * @param stopTimeout   how long {@link ProxyDaemon#close()} waits for a sync in progress
 * @param backend       which iptables programs the rules (the node's default, legacy or nft)
 * @param userspace     null unless userspace mode; then its listener settings (capture rules, if its listen mode
 *                      asks for them, go through {@code backend} and {@code commandPrefix})
 * @param mode          iptables, nftables or userspace (exactly when {@code userspace} is given)
 * @param nftables      null unless nftables mode; then its layout and applier
 */
public record ProxyDaemonSettings(String nodeName, List<RenderConfig> families, IptablesSyncer.Settings sync,
                                  List<String> commandPrefix, Duration stopTimeout, IptablesBackend backend,
                                  UserspaceConfig userspace, ProxyMode mode, NftablesOptions nftables) {
    public ProxyDaemonSettings {
        Objects.requireNonNull(nodeName, "nodeName");
        Objects.requireNonNull(mode, "mode");
        if ((mode == ProxyMode.USERSPACE) != (userspace != null)) {
            throw new IllegalArgumentException("userspace settings go with userspace mode, and only with it");
        }
        if ((mode == ProxyMode.NFTABLES) != (nftables != null)) {
            throw new IllegalArgumentException("nftables settings go with nftables mode, and only with it");
        }
        Objects.requireNonNull(backend, "backend");
        families = List.copyOf(families);
        Objects.requireNonNull(sync, "sync");
        commandPrefix = List.copyOf(commandPrefix);
        Objects.requireNonNull(stopTimeout, "stopTimeout");
        if (families.isEmpty()) {
            throw new IllegalArgumentException("at least one IP family must be programmed");
        }
        Set<IpFamily> seen = new HashSet<>();
        for (RenderConfig config : families) {
            if (!seen.add(config.family())) {
                throw new IllegalArgumentException("IP family " + config.family().kubernetesName() + " given twice");
            }
        }
    }

    /** iptables mode. */
    public ProxyDaemonSettings(String nodeName, List<RenderConfig> families, IptablesSyncer.Settings sync,
                               List<String> commandPrefix, Duration stopTimeout, IptablesBackend backend) {
        this(nodeName, families, sync, commandPrefix, stopTimeout, backend, null, ProxyMode.IPTABLES, null);
    }

    /** iptables mode with the node's default iptables ({@link IptablesBackend#AUTO}). */
    public ProxyDaemonSettings(String nodeName, List<RenderConfig> families, IptablesSyncer.Settings sync,
                               List<String> commandPrefix, Duration stopTimeout) {
        this(nodeName, families, sync, commandPrefix, stopTimeout, IptablesBackend.AUTO);
    }

    /** The same settings in userspace mode. */
    public ProxyDaemonSettings withUserspace(UserspaceConfig config) {
        return new ProxyDaemonSettings(nodeName, families, sync, commandPrefix, stopTimeout, backend,
                Objects.requireNonNull(config, "config"), ProxyMode.USERSPACE, null);
    }

    /** The same settings in nftables mode, kube-proxy's layout through the nft tool. */
    public ProxyDaemonSettings withNftables() {
        return withNftables(NftablesOptions.kubeProxy());
    }

    /** The same settings in nftables mode (commands still run behind {@code commandPrefix}). */
    public ProxyDaemonSettings withNftables(NftablesOptions options) {
        return new ProxyDaemonSettings(nodeName, families, sync, commandPrefix, stopTimeout, backend, null,
                ProxyMode.NFTABLES, Objects.requireNonNull(options, "options"));
    }

    public List<IpFamily> ipFamilies() {
        List<IpFamily> result = new ArrayList<>();
        families.forEach(config -> result.add(config.family()));
        return List.copyOf(result);
    }
}
