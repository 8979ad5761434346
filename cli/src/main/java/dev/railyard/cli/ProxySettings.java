package dev.railyard.cli;

import dev.railyard.proxy.apply.IptablesBackend;
import dev.railyard.proxy.conntrack.ConntrackConfig;
import dev.railyard.proxy.render.LocalTrafficDetector;
import dev.railyard.proxy.daemon.ProxyDaemonSettings;
import dev.railyard.proxy.daemon.NftablesOptions;
import dev.railyard.proxy.daemon.ProxyMode;
import dev.railyard.proxy.daemon.ops.BindAddress;
import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.sync.IptablesSyncer;
import dev.railyard.proxy.userspace.ListenMode;
import dev.railyard.proxy.userspace.UserspaceConfig;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code railyard proxy}'s settings after merging flags over the configuration file over kube-proxy's defaults,
 * and validating them together. Immutable.
 *
 * @param nftables      nftables mode's layout and applier (ignored in other modes)
 * @param kubeconfig    null unless given
 * @param master        null unless given
 * @param manifests     null unless given; then kubeconfig and master are null
 * @param families      the IP families to program, IPv4 first
 * @param commandPrefix what every iptables command runs behind (a hidden option, for tests and debugging)
 * @param backend       which iptables programs the rules
 * @param bindAddress   userspace mode: loopback = listen on the service addresses, else capture with iptables
 * @param udpTimeout    userspace mode: how long an idle UDP session lives
 * @param detectLocalMode how pod traffic is told from other traffic (NodeCIDR needs the Node's pod CIDRs)
 * @param conntrack     the --conntrack-* settings (tcpBeLiberal also drops the INVALID-drop rule)
 */
record ProxySettings(ProxyMode mode, NftablesOptions nftables, Path kubeconfig, String master, Path manifests, String nodeName,
                     List<String> nodeIps, List<String> clusterCidrs, boolean masqueradeAll,
                     List<String> nodePortAddresses, int masqueradeBit, Duration minSyncPeriod, Duration syncPeriod,
                     boolean localhostNodePorts, BindAddress healthzBindAddress, BindAddress metricsBindAddress,
                     List<IpFamily> families, List<String> commandPrefix, IptablesBackend backend,
                     InetAddress bindAddress, Duration udpTimeout, LocalTrafficDetector.Mode detectLocalMode,
                     String podBridgeInterface, String podInterfaceNamePrefix, FeatureGates featureGates,
                     ConntrackConfig conntrack) {
    ProxySettings {
        nodeIps = List.copyOf(nodeIps);
        clusterCidrs = List.copyOf(clusterCidrs);
        nodePortAddresses = List.copyOf(nodePortAddresses);
        families = List.copyOf(families);
        commandPrefix = List.copyOf(commandPrefix);
    }

    /** One render configuration per family; the builders validate CIDRs, addresses and the mark bit. */
    List<RenderConfig> renderConfigs() {
        return renderConfigs(List.of());
    }

    /** As {@link #renderConfigs()}, with this node's spec.podCIDRs for the NodeCIDR detector. */
    List<RenderConfig> renderConfigs(List<String> nodePodCidrs) {
        List<RenderConfig> configs = new ArrayList<>();
        for (IpFamily family : families) {
            configs.add(RenderConfig.builder(family)
                    .nodeName(nodeName)
                    .nodeIps(nodeIps)
                    .clusterCidrs(clusterCidrs)
                    .masqueradeAll(masqueradeAll)
                    .masqueradeBit(masqueradeBit)
                    .nodePortAddresses(nodePortAddresses)
                    .localhostNodePorts(localhostNodePorts)
                    .conntrackTcpBeLiberal(conntrack.tcpBeLiberal())
                    .preferSameTrafficDistribution(featureGates.preferSameTrafficDistribution())
                    .localDetector(LocalTrafficDetector.of(detectLocalMode, family, clusterCidrs, nodePodCidrs,
                            podBridgeInterface, podInterfaceNamePrefix))
                    .build());
        }
        return configs;
    }

    ProxyDaemonSettings daemonSettings() {
        return daemonSettings(List.of());
    }

    ProxyDaemonSettings daemonSettings(List<String> nodePodCidrs) {
        // kube-proxy retries a failed sync after the sync period; a shorter retry only repeats the failure
        // sooner, so its value is kept.
        ProxyDaemonSettings settings = new ProxyDaemonSettings(nodeName, renderConfigs(nodePodCidrs),
                new IptablesSyncer.Settings(minSyncPeriod, syncPeriod, syncPeriod), commandPrefix,
                Duration.ofSeconds(30), backend);
        if (mode == ProxyMode.NFTABLES) {
            return settings.withNftables(nftables);
        }
        if (mode != ProxyMode.USERSPACE) {
            return settings;
        }
        // On loopback nothing outside this host could reach a redirect target, so the listeners sit on the
        // service addresses themselves: no iptables, no root.
        ListenMode listen = bindAddress.isLoopbackAddress() ? ListenMode.SERVICE_ADDRESSES : ListenMode.CAPTURE;
        List<InetAddress> nodeAddresses = new ArrayList<>();
        for (String ip : nodeIps) {
            nodeAddresses.add(IpAddresses.parse(ip.trim()).toInetAddress()); // validated by renderConfigs()
        }
        return settings.withUserspace(UserspaceConfig.builder(nodeName, bindAddress, listen)
                .nodeIps(nodeAddresses).udpIdleTimeout(udpTimeout)
                .relayWarmupExchanges(UserspaceConfig.DEFAULT_RELAY_WARMUP_EXCHANGES).build());
    }
}
