package dev.railyard.cli;

import dev.railyard.proxy.apply.IptablesBackend;
import dev.railyard.proxy.apply.IptablesCleanup;
import dev.railyard.proxy.apply.IptablesException;
import dev.railyard.proxy.conntrack.ConntrackConfig;
import dev.railyard.proxy.render.LocalTrafficDetector;
import dev.railyard.proxy.daemon.ProxyDaemon;
import dev.railyard.nftables.Family;
import dev.railyard.nftables.NftCommand;
import dev.railyard.nftables.NftException;
import dev.railyard.proxy.daemon.ProxyDaemonSettings;
import dev.railyard.proxy.daemon.NftablesOptions;
import dev.railyard.proxy.daemon.ProxyMode;
import dev.railyard.proxy.render.nftables.Layout;
import dev.railyard.proxy.render.nftables.NftablesLayout;
import dev.railyard.proxy.daemon.ops.BindAddress;
import dev.railyard.proxy.conntrack.BackgroundReconciler;
import dev.railyard.proxy.conntrack.ConntrackReconciler;
import dev.railyard.proxy.conntrack.ConntrackSysctls;
import dev.railyard.proxy.source.NodeInfo;
import dev.railyard.proxy.daemon.ops.HealthCheckTarget;
import dev.railyard.proxy.daemon.ops.OpsServer;
import dev.railyard.proxy.daemon.ops.ProxyHealth;
import dev.railyard.proxy.daemon.ops.ProxyMetrics;
import dev.railyard.proxy.daemon.ops.ServiceHealthServers;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.source.ClusterEventHandler;
import dev.railyard.proxy.source.ClusterSource;
import dev.railyard.proxy.source.ManifestDirectorySource;
import dev.railyard.proxy.source.kubernetes.ApiClients;
import dev.railyard.proxy.source.kubernetes.ClientConfigException;
import dev.railyard.proxy.source.kubernetes.KubernetesSource;
import dev.railyard.proxy.source.kubernetes.KubernetesSourceSettings;
import dev.railyard.proxy.sync.SyncResult;
import io.kubernetes.client.openapi.ApiClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * railyard proxy: kube-proxy's iptables or nftables mode as a daemon, with kube-proxy's flag names so that it can replace
 * kube-proxy in an existing DaemonSet. Settings come from flags over {@code --config} over kube-proxy's defaults
 * and are all checked before anything touches the kernel.
 */
@Command(name = "proxy",
        mixinStandardHelpOptions = true,
        description = {
            "Program this node's iptables (filter and nat, IPv4 and, on IPv6 nodes, IPv6), or with --proxy-mode "
                    + "nftables its nftables (table kube-proxy), with kube-proxy's rules for the cluster's Services "
                    + "and EndpointSlices, and keep them in sync.",
            "Cluster state comes from the API server (--kubeconfig, --master, or in-cluster) or from a directory "
                    + "of manifests (--manifests). Stops on SIGTERM, leaving the rules in place; --cleanup "
                    + "removes them."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "0:stopped by a signal, or --cleanup done",
            "1:failed while running (e.g. iptables missing), or --cleanup failed",
            "2:bad settings (nothing was changed)"})
final class ProxyCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(ProxyCommand.class);
    static final String DEFAULT_HEALTHZ = "0.0.0.0:10256";
    static final String DEFAULT_METRICS = "127.0.0.1:10249";
    /** What nftables mode runs with unless told otherwise: the pair that meets the programming-latency targets. */
    static final Layout DEFAULT_NFTABLES_LAYOUT = Layout.FLAT;
    static final NftablesOptions.Applier DEFAULT_NFTABLES_APPLIER = NftablesOptions.Applier.NETLINK;

    @Spec
    private CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE",
            description = "A KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) YAML file; flags override it.")
    Path config;

    @Option(names = "--proxy-mode", paramLabel = "MODE",
            description = "iptables (the default): DNAT rules in iptables' filter and nat tables; nftables: "
                    + "kube-proxy's nftables mode (table kube-proxy, IPv4 and IPv6); userspace: Netty listeners "
                    + "relay the traffic.")
    String mode;

    @Option(names = "--nftables-layout", paramLabel = "flat|kube-proxy",
            description = "nftables mode: flat (the default: endpoints in data maps, so a change costs the kernel "
                    + "little at any cluster size) or kube-proxy (kube-proxy's own layout, a chain per endpoint).")
    String nftablesLayout;

    @Option(names = "--nftables-applier", paramLabel = "netlink|nft",
            description = "nftables mode: netlink (the default: transactions sent from this process) or nft (the "
                    + "nft tool, which reads the whole ruleset first on every call).")
    String nftablesApplier;

    @Option(names = "--bind-address", paramLabel = "IP",
            description = "userspace mode: the address the listeners use. A loopback address listens on the "
                    + "service addresses themselves (no iptables, no root); any other (default 0.0.0.0) takes "
                    + "the services' traffic with iptables and ip6tables REDIRECT rules. An IPv6 address "
                    + "(e.g. ::) enables IPv6, as an IPv6 --node-ip does.")
    String bindAddress;

    @Option(names = "--udp-timeout", paramLabel = "DURATION",
            description = "userspace mode: how long an idle UDP session is kept. Default: 250ms.")
    String udpTimeout;

    @Option(names = "--iptables-backend", paramLabel = "auto|legacy|nft",
            description = "Which iptables programs the rules: the node's default (auto), iptables-legacy or "
                    + "iptables-nft. Use the one the rest of the node uses. Default: auto.")
    String iptablesBackend;

    @Option(names = "--kubeconfig", paramLabel = "FILE", description = "Kubeconfig to reach the API server.")
    Path kubeconfig;

    @Option(names = "--master", paramLabel = "URL", description = "The API server's URL (overrides the kubeconfig's).")
    String master;

    @Option(names = "--manifests", paramLabel = "DIR",
            description = "Read Services and EndpointSlices from *.yaml, *.yml and *.json files in DIR instead of an "
                    + "API server, following changes.")
    Path manifests;

    @Mixin
    HostnameOverrideOption hostnameOverride;

    @Option(names = "--node-ip", paramLabel = "IP", split = ",",
            description = "This node's addresses, the first of each family its primary; an IPv6 one enables IPv6 "
                    + "rules. Repeatable.")
    List<String> nodeIps = new ArrayList<>();

    @Option(names = "--ipv6", description = "Program IPv6 rules too, even without an IPv6 --node-ip.")
    boolean ipv6;

    @Mixin
    ClusterCidrOption clusterCidr;

    @Option(names = "--masquerade-all", arity = "0..1", fallbackValue = "true",
            description = "Masquerade all traffic to cluster IPs.")
    Boolean masqueradeAll;

    @Option(names = "--nodeport-addresses", paramLabel = "CIDR", split = ",",
            description = "Answer NodePorts only on node addresses in these CIDRs (or 'primary'); default: all "
                    + "in iptables mode, 'primary' (the first --node-ip of each family) in nftables mode.")
    List<String> nodePortAddresses;

    @Option(names = "--iptables-masquerade-bit", paramLabel = "BIT",
            description = "The fwmark bit that marks packets for SNAT, 0-31. Default: 14.")
    Integer masqueradeBit;

    @Option(names = "--iptables-min-sync-period", paramLabel = "DURATION",
            description = "The least time between syncs, e.g. 1s, 500ms. Default: 1s.")
    String minSyncPeriod;

    @Option(names = "--iptables-sync-period", paramLabel = "DURATION",
            description = "The most time between (full) syncs. Default: 30s.")
    String syncPeriod;

    @Option(names = "--iptables-localhost-nodeports", arity = "0..1", fallbackValue = "true",
            description = "Let NodePorts answer on 127.0.0.1 (IPv4 only). Default: true.")
    Boolean localhostNodePorts;

    @Option(names = "--healthz-bind-address", paramLabel = "IP:PORT",
            description = "Where /healthz and /livez are served (empty: off). Default: " + DEFAULT_HEALTHZ + ".")
    String healthzBindAddress;

    @Option(names = "--metrics-bind-address", paramLabel = "IP:PORT",
            description = "Where /metrics is served (empty: off). Default: " + DEFAULT_METRICS + ".")
    String metricsBindAddress;

    @Option(names = "--detect-local-mode", paramLabel = "MODE",
            description = "How pod traffic is told from other traffic: ClusterCIDR (source in --cluster-cidr; the "
                    + "default), NodeCIDR (source in this node's spec.podCIDRs; waits for them at start and exits "
                    + "when they change, as kube-proxy), BridgeInterface (--pod-bridge-interface) or "
                    + "InterfaceNamePrefix (--pod-interface-name-prefix).")
    String detectLocalMode;

    @Mixin
    PodInterfaceOptions podInterfaces;

    @Option(names = "--feature-gates", paramLabel = "GATE=BOOL", split = ",",
            description = "kube-proxy feature gates: PreferSameTrafficDistribution (default true: hints.forNodes "
                    + "are honoured).")
    List<String> featureGates;

    @Option(names = "--conntrack-max-per-core", paramLabel = "N",
            description = "nf_conntrack_max = N x CPUs (at least --conntrack-min); 0 leaves it. Default: 32768.")
    Integer conntrackMaxPerCore;

    @Option(names = "--conntrack-min", paramLabel = "N",
            description = "The least nf_conntrack_max when --conntrack-max-per-core is set. Default: 131072.")
    Integer conntrackMin;

    @Option(names = "--conntrack-tcp-timeout-established", paramLabel = "DURATION",
            description = "nf_conntrack_tcp_timeout_established; 0 leaves it. Default: 24h.")
    String conntrackTcpEstablished;

    @Option(names = "--conntrack-tcp-timeout-close-wait", paramLabel = "DURATION",
            description = "nf_conntrack_tcp_timeout_close_wait; 0 leaves it. Default: 1h.")
    String conntrackTcpCloseWait;

    @Option(names = "--conntrack-tcp-be-liberal", arity = "0..1", fallbackValue = "true",
            description = "Set nf_conntrack_tcp_be_liberal, and drop no INVALID packets in KUBE-FORWARD.")
    Boolean conntrackTcpBeLiberal;

    @Option(names = "--conntrack-udp-timeout", paramLabel = "DURATION",
            description = "nf_conntrack_udp_timeout (unreplied UDP); 0 (the default) leaves it.")
    String conntrackUdpTimeout;

    @Option(names = "--conntrack-udp-timeout-stream", paramLabel = "DURATION",
            description = "nf_conntrack_udp_timeout_stream (assured UDP); 0 (the default) leaves it.")
    String conntrackUdpTimeoutStream;

    @Option(names = "--node-wait-timeout", paramLabel = "DURATION", hidden = true,
            description = "With --detect-local-mode NodeCIDR: how long to wait for the Node's pod CIDRs (5m).")
    String nodeWaitTimeout;

    @Option(names = "--cleanup",
            description = "Remove every chain, rule and table Railyard (or kube-proxy's iptables or nftables mode) "
                    + "installed, then exit.")
    boolean cleanup;

    @Option(names = "--netns", hidden = true,
            description = "Program the named network namespace instead of our own (tests, debugging).")
    String netns;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter err = spec.commandLine().getErr();
        ProxySettings settings;
        ProxyDaemonSettings daemonSettings;
        try {
            settings = resolve();
            daemonSettings = settings.daemonSettings();
        } catch (IllegalArgumentException e) {
            err.println("railyard proxy: " + e.getMessage());
            err.flush();
            return ExitCodes.USAGE;
        }
        if (cleanup) {
            return cleanup(settings, err);
        }
        Function<ClusterEventHandler, ClusterSource> source;
        String sourceName;
        NodeLookup nodeLookup;
        try {
            if (settings.manifests() != null) {
                sourceName = settings.manifests().toString();
                source = handler -> new ManifestDirectorySource(settings.manifests(), handler);
                nodeLookup = NodeLookup.fromManifests(settings.manifests(), settings.nodeName());
            } else {
                ApiClient client = ApiClients.fromFlags(settings.kubeconfig(), settings.master());
                sourceName = "api-server";
                // This node's Node (zone label, pod CIDRs, deletion) always; ServiceCIDRs where they are used.
                KubernetesSourceSettings sourceSettings = KubernetesSourceSettings.defaults()
                        .withNode(settings.nodeName()).withServiceCidrs(settings.mode() == ProxyMode.NFTABLES);
                source = handler -> new KubernetesSource(client, handler, sourceSettings);
                nodeLookup = NodeLookup.fromApiServer(client, settings.nodeName());
            }
        } catch (ClientConfigException e) {
            err.println("railyard proxy: " + e.getMessage());
            err.flush();
            return ExitCodes.USAGE;
        }
        List<String> podCidrs = List.of();
        if (settings.detectLocalMode() == LocalTrafficDetector.Mode.NODE_CIDR) {
            // As kube-proxy: NodeCIDR detection needs the node's pod CIDRs before the first sync.
            podCidrs = nodeLookup.awaitPodCidrs(nodeWaitTimeout());
            if (podCidrs.isEmpty()) {
                err.println("railyard proxy: --detect-local-mode NodeCIDR: timeout waiting for PodCIDR allocation "
                        + "of node " + settings.nodeName());
                err.flush();
                return ExitCodes.FAILED;
            }
            daemonSettings = settings.daemonSettings(podCidrs);
            log.info("detect-local-mode NodeCIDR: pod CIDRs {}", podCidrs);
        }
        applyConntrackSettings(settings);
        ProxyMetrics metrics = new ProxyMetrics(Clock.systemUTC(), settings.mode() == ProxyMode.NFTABLES,
                settings.nodeName());
        ProxyHealth health = ProxyHealth.forSyncPeriod(settings.syncPeriod(), Clock.systemUTC());
        OpsServer opsServer;
        try {
            opsServer = new OpsServer(settings.healthzBindAddress(), settings.metricsBindAddress(), health,
                    metrics);
        } catch (UncheckedIOException | IllegalArgumentException e) {
            err.println("railyard proxy: cannot serve health checks or metrics: " + e.getMessage());
            err.flush();
            return ExitCodes.FAILED;
        }
        log.info("serving /healthz on {}, /metrics on {}", describe(opsServer.healthzAddress()),
                describe(opsServer.metricsAddress()));
        // Every address, as kube-proxy: load balancers probe the node's addresses on the healthCheckNodePort.
        ServiceHealthServers serviceHealth = new ServiceHealthServers(null, health::isHealthy);
        SyncHook syncHook = new SyncHook(settings, metrics, health, serviceHealth);
        Consumer<IpFamily> queued = family -> {
            health.queued(family);
            metrics.queued(family);
        };

        // kube-proxy restarts when NodeCIDR detection's pod CIDRs change: the rules were built from them.
        int[] exitStatus = {ExitCodes.OK};
        CountDownLatch stopped = new CountDownLatch(1);
        List<String> startedPodCidrs = podCidrs;
        Consumer<NodeInfo> nodeHook = node -> {
            health.nodeChanged(node);
            if (settings.detectLocalMode() == LocalTrafficDetector.Mode.NODE_CIDR && node != null
                    && !node.podCidrs().equals(startedPodCidrs)) {
                log.error("node {} pod CIDRs changed from {} to {}; exiting to restart", settings.nodeName(),
                        startedPodCidrs, node.podCidrs());
                exitStatus[0] = ExitCodes.FAILED;
                stopped.countDown();
            }
        };

        ProxyDaemon daemon;
        try {
            daemon = ProxyDaemon.start(daemonSettings, sourceName, source, syncHook, queued, health::started,
                    nodeHook);
        } catch (IptablesException | IllegalArgumentException e) {
            err.println("railyard proxy: cannot start: " + e.getMessage());
            err.flush();
            serviceHealth.close();
            opsServer.close();
            syncHook.close();
            return ExitCodes.FAILED;
        }
        metrics.userspaceTraffic(daemon::trafficStats);
        Runnable stop = () -> {
            daemon.close();
            serviceHealth.close();
            opsServer.close();
            syncHook.close();
        };
        Thread shutdownHook = new Thread(() -> {
            // SIGTERM/SIGINT: stop watching and syncing; the rules stay, so traffic keeps flowing meanwhile.
            log.info("stopping");
            stop.run();
            stopped.countDown();
        }, "railyard-proxy-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        try {
            stopped.await();
            if (exitStatus[0] != ExitCodes.OK) {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
                stop.run();
            }
        } catch (InterruptedException e) {
            // Run in-process (tests, an embedding program): interrupting the caller stops the proxy the same way.
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
            stop.run();
        }
        return exitStatus[0];
    }

    /**
     * What every sync of every family feeds (after the daemon's log line): metrics, proxier health, conntrack
     * cleanup, then the service health-check ports. Runs on the syncers' threads, one per family.
     */
    private static final class SyncHook implements Consumer<SyncResult>, AutoCloseable {
        private final String nodeName;
        private final ProxyMetrics metrics;
        private final ProxyHealth health;
        private final ServiceHealthServers serviceHealth;
        /** One per family, each on its own thread: a sync never waits for conntrack. */
        private final Map<IpFamily, BackgroundReconciler> cleaners = new EnumMap<>(IpFamily.class);
        /** The last programmed state of each family, guarded by this. */
        private final Map<IpFamily, ProxyState> programmed = new EnumMap<>(IpFamily.class);

        SyncHook(ProxySettings settings, ProxyMetrics metrics, ProxyHealth health,
                 ServiceHealthServers serviceHealth) {
            this.nodeName = settings.nodeName();
            this.metrics = metrics;
            this.health = health;
            this.serviceHealth = serviceHealth;
            if (settings.mode() != ProxyMode.USERSPACE) { // userspace mode proxies UDP itself: no DNAT flows
                for (IpFamily family : settings.families()) {
                    cleaners.put(family, new BackgroundReconciler(new ConntrackReconciler(family,
                            settings.commandPrefix(), Duration.ofSeconds(30)),
                            report -> metrics.conntrackReconciled(family, report)));
                }
            }
        }

        @Override
        public void accept(SyncResult result) {
            metrics.accept(result);
            health.accept(result);
            if (!result.succeeded()) {
                return; // as kube-proxy: a sync that did not program its state changes neither conntrack nor ports
            }
            BackgroundReconciler cleaner = cleaners.get(result.family());
            if (cleaner != null) {
                cleaner.submit(result);
            }
            // Under the lock from reading the states to opening the ports: otherwise the two families' threads
            // could apply an older view after a newer one.
            synchronized (this) {
                programmed.put(result.family(), result.state());
                serviceHealth.sync(HealthCheckTarget.of(nodeName, programmed.values().toArray(ProxyState[]::new)));
            }
        }

        /** Stops the conntrack threads; a cleanup cut short is redone by nobody, as after a kube-proxy restart. */
        @Override
        public void close() {
            cleaners.values().forEach(BackgroundReconciler::close);
        }
    }

    /** How long NodeCIDR detection waits for the Node's pod CIDRs at start. */
    private Duration nodeWaitTimeout() {
        return nodeWaitTimeout == null ? Duration.ofMinutes(5) : GoDurations.parse("--node-wait-timeout",
                nodeWaitTimeout);
    }

    /**
     * kube-proxy's setupConntrack. A value the kernel refuses (nf_conntrack_max is read-only outside the host's
     * network namespace, /proc/sys may be read-only in a container) is logged and the proxy goes on; kube-proxy
     * would stop, which helps no one on a node whose limits are already managed.
     */
    private static void applyConntrackSettings(ProxySettings settings) throws InterruptedException {
        if (settings.mode() == ProxyMode.USERSPACE) {
            return;
        }
        try {
            new ConntrackSysctls(settings.commandPrefix()).apply(settings.conntrack());
        } catch (java.io.IOException e) {
            log.warn("conntrack settings not applied: {}", e.getMessage());
        }
    }

    private static String describe(java.net.InetSocketAddress address) {
        return address == null ? "(disabled)" : address.toString();
    }

    /** Flags over the configuration file over kube-proxy's defaults, checked together. */
    ProxySettings resolve() {
        ProxyConfigFile file = config == null ? ProxyConfigFile.EMPTY : ProxyConfigFile.load(config);
        String modeText = first(mode, emptyToNull(file.mode()), "iptables");
        ProxyMode resolvedMode;
        try {
            resolvedMode = ProxyMode.fromFlag(modeText);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException((mode != null ? "--proxy-mode: " : "mode in " + config + ": ")
                    + e.getMessage());
        }
        boolean userspace = resolvedMode == ProxyMode.USERSPACE;
        boolean nftables = resolvedMode == ProxyMode.NFTABLES;
        if (!nftables && (nftablesLayout != null || nftablesApplier != null)) {
            throw new IllegalArgumentException((nftablesLayout != null ? "--nftables-layout" : "--nftables-applier")
                    + " only applies to --proxy-mode nftables");
        }
        NftablesOptions nftablesOptions = NftablesOptions.of(
                nftablesLayout == null ? DEFAULT_NFTABLES_LAYOUT : flag("--nftables-layout", nftablesLayout,
                        Layout::fromFlag),
                nftablesApplier == null ? DEFAULT_NFTABLES_APPLIER : flag("--nftables-applier", nftablesApplier,
                        NftablesOptions.Applier::fromFlag));
        String resolvedBind = first(bindAddress, file.bindAddress(), "0.0.0.0");
        InetAddress bind = parseIp("--bind-address", resolvedBind).toInetAddress();
        if (bindAddress != null && !userspace) {
            throw new IllegalArgumentException("--bind-address only applies to --proxy-mode userspace");
        }
        Duration udpIdle = udpTimeout == null ? Duration.ofMillis(250) : GoDurations.parse("--udp-timeout", udpTimeout);
        if (udpIdle.isZero() || udpIdle.isNegative()) {
            throw new IllegalArgumentException("--udp-timeout must be positive");
        }
        IptablesBackend backend = iptablesBackend == null ? IptablesBackend.AUTO
                : IptablesBackend.fromFlag(iptablesBackend);
        Path resolvedKubeconfig = kubeconfig != null ? kubeconfig
                : file.kubeconfig() == null || file.kubeconfig().isEmpty() ? null : Path.of(file.kubeconfig());
        if (manifests != null && (resolvedKubeconfig != null || master != null)) {
            throw new IllegalArgumentException("--manifests reads cluster state from files and cannot be combined "
                    + "with " + (master != null ? "--master" : kubeconfig != null ? "--kubeconfig"
                    : "clientConnection.kubeconfig in " + config) + ", which name an API server; use one or the other");
        }
        if (manifests != null && !java.nio.file.Files.isDirectory(manifests)) {
            // Checked here, with the other settings, so that nothing (sysctls, servers) is touched first.
            throw new IllegalArgumentException("--manifests " + manifests + ": "
                    + (java.nio.file.Files.exists(manifests) ? "not a directory" : "no such directory"));
        }
        String nodeName = first(hostnameOverride.hostname, emptyToNull(file.hostnameOverride()),
                RenderOptions.localHostname());
        if (nodeName.isBlank()) {
            throw new IllegalArgumentException("cannot tell this node's name; set --hostname-override");
        }
        nodeName = HostnameOverrideOption.asNodeName(nodeName);

        List<String> cidrs = clusterCidr.cidrs != null ? clusterCidr.cidrs
                : file.clusterCidr() == null || file.clusterCidr().isBlank() ? List.of()
                : List.of(file.clusterCidr().split(","));
        // kube-proxy's nftables mode answers NodePorts on the primary addresses unless told otherwise.
        List<String> resolvedNodePorts = first(nodePortAddresses, file.nodePortAddresses(),
                nftables ? List.of("primary") : List.of());
        // As in kube-proxy, the iptables flags set nftables mode's periods too; the file has a section per mode.
        Duration fileMinSync = nftables ? file.nftMinSyncPeriod() : file.minSyncPeriod();
        Duration fileSync = nftables ? file.nftSyncPeriod() : file.syncPeriod();
        Duration minSync = minSyncPeriod != null ? GoDurations.parse("--iptables-min-sync-period", minSyncPeriod)
                : first(fileMinSync, Duration.ofSeconds(1));
        Duration sync = syncPeriod != null ? GoDurations.parse("--iptables-sync-period", syncPeriod)
                : first(fileSync, Duration.ofSeconds(30));
        Boolean fileMasqueradeAll = nftables ? file.nftMasqueradeAll() : file.masqueradeAll();
        Integer fileMasqueradeBit = nftables ? file.nftMasqueradeBit() : file.masqueradeBit();
        if (sync.isZero()) {
            throw new IllegalArgumentException("--iptables-sync-period must be positive");
        }
        if (minSync.compareTo(sync) > 0) {
            throw new IllegalArgumentException("--iptables-min-sync-period (" + minSync + ") is longer than "
                    + "--iptables-sync-period (" + sync + "); the minimum must not exceed the period");
        }
        BindAddress healthz = BindAddress.parse("--healthz-bind-address",
                first(healthzBindAddress, file.healthzBindAddress(), DEFAULT_HEALTHZ));
        BindAddress metrics = BindAddress.parse("--metrics-bind-address",
                first(metricsBindAddress, file.metricsBindAddress(), DEFAULT_METRICS));
        if (healthz.overlaps(metrics)) {
            throw new IllegalArgumentException("--healthz-bind-address " + healthz + " and --metrics-bind-address "
                    + metrics + " overlap; they need different ports");
        }

        // kube-proxy: "IPv6 bind address, assume IPv6 operation". IPv4 stays on, as it always is here.
        List<IpFamily> families = NodeFamilies.of(nodeIps, cidrs, ipv6 || (userspace && bind instanceof Inet6Address));
        List<String> prefix = netns == null ? List.of() : List.of("ip", "netns", "exec", netns);
        LocalTrafficDetector.Mode localMode;
        try {
            localMode = LocalTrafficDetector.Mode.fromFlag(first(detectLocalMode, file.detectLocalMode(),
                    "ClusterCIDR"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--detect-local-mode: " + e.getMessage());
        }
        FeatureGates gates = FeatureGates.of(file.featureGates(), FeatureGates.DEFAULTS);
        if (featureGates != null) {
            gates = FeatureGates.parse(featureGates);
        }
        ProxyConfigFile.Conntrack ct = file.conntrack();
        ConntrackConfig defaults = ConntrackConfig.KUBE_PROXY_DEFAULTS;
        ConntrackConfig conntrack = new ConntrackConfig(
                first(conntrackMaxPerCore, ct.maxPerCore(), defaults.maxPerCore()),
                first(conntrackMin, ct.min(), defaults.min()),
                first(duration("--conntrack-tcp-timeout-established", conntrackTcpEstablished),
                        ct.tcpEstablishedTimeout(), defaults.tcpEstablishedTimeout()),
                first(duration("--conntrack-tcp-timeout-close-wait", conntrackTcpCloseWait),
                        ct.tcpCloseWaitTimeout(), defaults.tcpCloseWaitTimeout()),
                first(conntrackTcpBeLiberal, ct.tcpBeLiberal(), false),
                first(duration("--conntrack-udp-timeout", conntrackUdpTimeout), ct.udpTimeout(), Duration.ZERO),
                first(duration("--conntrack-udp-timeout-stream", conntrackUdpTimeoutStream), ct.udpStreamTimeout(),
                        Duration.ZERO));
        ProxySettings settings = new ProxySettings(resolvedMode, nftablesOptions, resolvedKubeconfig, master,
                manifests, nodeName,
                nodeIps, cidrs, first(masqueradeAll, fileMasqueradeAll, false), resolvedNodePorts,
                first(masqueradeBit, fileMasqueradeBit, 14), minSync, sync,
                first(localhostNodePorts, file.localhostNodePorts(), true), healthz, metrics, families, prefix,
                backend, bind, udpIdle, localMode, first(podInterfaces.bridgeInterface, file.bridgeInterface(), ""),
                first(podInterfaces.interfaceNamePrefix, file.interfaceNamePrefix(), ""), gates, conntrack);
        settings.renderConfigs(); // validates CIDRs, node-port addresses and the mark bit now, not at first sync
        return settings;
    }

    private static int cleanup(ProxySettings settings, PrintWriter err) throws InterruptedException {
        int failures = 0;
        NftCommand nft = NftCommand.create().withCommandPrefix(settings.commandPrefix());
        for (Family family : List.of(Family.IP, Family.IP6)) {
            try {
                boolean deleted = nft.deleteTableIfExists(family, NftablesLayout.TABLE);
                log.info("cleanup {}: {}", family, deleted ? "deleted table " + NftablesLayout.TABLE
                        : "no table " + NftablesLayout.TABLE);
            } catch (NftException e) {
                if (e.getCause() instanceof java.io.IOException) {
                    // No nft on this node: nftables mode never ran here, nothing to remove.
                    log.info("cleanup {}: nft not found, no nftables table to remove", family);
                } else {
                    err.println("railyard proxy --cleanup: nftables " + family + ": " + e.getMessage());
                    failures++;
                }
            }
        }
        for (IpFamily family : IpFamily.values()) {
            try {
                List<String> deleted = IptablesCleanup.of(family, settings.backend())
                        .withCommandPrefix(settings.commandPrefix()).run();
                log.info("cleanup {}: deleted {} chains and the jump rules", family.kubernetesName(), deleted.size());
            } catch (IptablesException e) {
                // An IPv4-only node may lack ip6tables; one family failing must not stop the other's cleanup.
                err.println("railyard proxy --cleanup: " + family.kubernetesName() + ": " + e.getMessage());
                failures++;
            }
        }
        err.flush();
        return failures == 0 ? ExitCodes.OK : ExitCodes.FAILED;
    }

    /** A flag's value through its parser, the parser's complaint prefixed with the flag's name. */
    private static <T> T flag(String flag, String value, java.util.function.Function<String, T> parser) {
        try {
            return parser.apply(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(flag + ": " + e.getMessage(), e);
        }
    }

    private static Duration duration(String flag, String text) {
        return text == null ? null : GoDurations.parse(flag, text);
    }

    private static inet.ipaddr.IPAddress parseIp(String flag, String text) {
        return NodeFamilies.parseIp(flag, text);
    }

    private static String emptyToNull(String value) {
        return value == null || value.isEmpty() ? null : value;
    }

    @SafeVarargs
    private static <T> T first(T... values) {
        for (T value : values) {
            if (value != null) {
                return value;
            }
        }
        throw new IllegalStateException("no default");
    }
}
