package dev.railyard.overlay.cli;

import dev.railyard.overlay.config.ConfigException;
import dev.railyard.overlay.config.Ip6Range;
import dev.railyard.overlay.config.NetworkConfig;
import dev.railyard.overlay.daemon.DaemonOptions;
import dev.railyard.overlay.daemon.OverlayDaemon;
import dev.railyard.overlay.ip.InterfaceSelector;
import dev.railyard.overlay.ip.IpException;
import dev.railyard.overlay.kube.KubeSubnetManager;
import dev.railyard.overlay.kube.NodeAnnotations;
import dev.railyard.overlay.lease.EtcdOptions;
import dev.railyard.overlay.lease.EtcdSubnetManager;
import dev.railyard.overlay.lease.LeaseException;
import dev.railyard.overlay.lease.SubnetManager;
import dev.railyard.proxy.source.kubernetes.ApiClients;
import dev.railyard.proxy.source.kubernetes.ClientConfigException;
import io.kubernetes.client.openapi.ApiClient;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code railyard overlay}: flanneld's job with flanneld's flag names. Without a subcommand it runs
 * the daemon until SIGTERM; {@code config put FILE} / {@code config get} manage the network config.
 */
@Command(name = "overlay", mixinStandardHelpOptions = true,
        description = "Lease a pod subnet for this node (from etcd, or with --kube-subnet-mgr from its Node object) and "
                + "route between nodes (udp, host-gw or vxlan; IPv4, IPv6 or dual-stack).",
        subcommands = OverlayCommand.ConfigCommand.class)
public final class OverlayCommand implements Callable<Integer> {

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--etcd-endpoints", split = ",", scope = ScopeType.INHERIT, defaultValue = "http://127.0.0.1:2379",
            description = "Comma-separated etcd endpoints (default: ${DEFAULT-VALUE}).")
    List<String> etcdEndpoints;

    @Option(names = "--etcd-prefix", scope = ScopeType.INHERIT, defaultValue = EtcdOptions.DEFAULT_PREFIX,
            description = "etcd prefix of the network config and leases (default: ${DEFAULT-VALUE}).")
    String etcdPrefix;

    @Option(names = "--etcd-cafile", scope = ScopeType.INHERIT, description = "CA bundle to verify etcd's certificate.")
    Path etcdCaFile;

    @Option(names = "--etcd-certfile", scope = ScopeType.INHERIT, description = "Client certificate for etcd (PEM).")
    Path etcdCertFile;

    @Option(names = "--etcd-keyfile", scope = ScopeType.INHERIT, description = "Client key for etcd (PEM, PKCS#8).")
    Path etcdKeyFile;

    @Option(names = "--public-ip", description = "IPv4 address published to other nodes (default: the interface's address).")
    String publicIp;

    @Option(names = "--public-ipv6", description = "IPv6 address published to other nodes (default: the interface's address).")
    String publicIpv6;

    @Option(names = "--iface", paramLabel = "NAME|IP", description = "Interface (name or address) for inter-node "
            + "traffic; repeat to try several in order, the first that exists wins.")
    List<String> iface = new java.util.ArrayList<>();

    @Option(names = "--iface-regex", paramLabel = "REGEX", description = "Regular expression matched against every "
            + "interface's addresses, then names; repeatable, tried in order after --iface.")
    List<String> ifaceRegex = new java.util.ArrayList<>();

    @Option(names = "--iface-can-reach", paramLabel = "IP", description = "Use the interface the route to IP goes "
            + "through (as 'ip route get IP'); tried after --iface and --iface-regex. Without any of the three: the "
            + "interface holding --public-ip, else the default route's.")
    String ifaceCanReach;

    @Option(names = "--kube-subnet-mgr", description = "Take this node's subnets from its Node object's spec.podCIDRs "
            + "and find peers through Node annotations, instead of etcd. The node name comes from NODE_NAME.")
    boolean kubeSubnetMgr;

    @Option(names = "--kube-api-url", paramLabel = "URL", description = "Kubernetes API server URL (default: from "
            + "--kubeconfig-file, else the pod's service account).")
    String kubeApiUrl;

    @Option(names = "--kubeconfig-file", paramLabel = "FILE", description = "kubeconfig to reach the API server "
            + "(default: the pod's service account).")
    Path kubeconfigFile;

    @Option(names = "--kube-annotation-prefix", defaultValue = NodeAnnotations.DEFAULT_PREFIX,
            description = "Prefix of the Node annotations (default: ${DEFAULT-VALUE}).")
    String kubeAnnotationPrefix;

    @Option(names = "--net-config-path", defaultValue = "/etc/kube-flannel/net-conf.json",
            description = "With --kube-subnet-mgr: the network config file (default: ${DEFAULT-VALUE}).")
    Path netConfigPath;

    @Option(names = "--set-node-network-unavailable", arity = "0..1", defaultValue = "true", fallbackValue = "true",
            description = "With --kube-subnet-mgr: set the Node's NetworkUnavailable condition to False once routes "
                    + "are up (default: ${DEFAULT-VALUE}).")
    boolean setNodeNetworkUnavailable;

    /** The process environment (NODE_NAME); tests replace it. */
    Map<String, String> environment = System.getenv();

    @Option(names = "--subnet-file", defaultValue = "/run/flannel/subnet.env",
            description = "Where to write the subnet for the CNI plugin (default: ${DEFAULT-VALUE}).")
    Path subnetFile;

    @Option(names = "--ip-masq", description = "Masquerade traffic from pods to outside the pod network.")
    boolean ipMasq;

    @Option(names = "--subnet-lease-renew-margin", defaultValue = "60",
            description = "Renew the lease this many minutes before it expires (default: ${DEFAULT-VALUE}); "
                    + "a unit suffix (s, m, h) is also accepted.")
    String renewMargin;

    @Option(names = "--subnet-lease-ttl", defaultValue = "24h",
            description = "TTL of a newly acquired lease (default: ${DEFAULT-VALUE}).")
    String leaseTtl;

    @Option(names = "--netns", description = "Program the named network namespace instead of our own.")
    String netns;

    EtcdOptions etcdOptions() {
        return new EtcdOptions(etcdEndpoints, etcdPrefix, etcdCaFile, etcdCertFile, etcdKeyFile,
                duration(leaseTtl, "--subnet-lease-ttl", "s"), null);
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        DaemonOptions options;
        EtcdOptions etcd;
        try {
            etcd = kubeSubnetMgr ? null : etcdOptions();
            options = new DaemonOptions(new InterfaceSelector.Options(iface, ifaceRegex, ifaceCanReach, publicIp, publicIpv6),
                    subnetFile, ipMasq, duration(renewMargin, "--subnet-lease-renew-margin", "m"), netns, null);
        } catch (IllegalArgumentException | IpException e) {
            err.println("railyard overlay: " + e.getMessage());
            return 2;
        }
        SubnetManager subnets;
        try {
            subnets = kubeSubnetMgr ? kubeSubnetManager() : new EtcdSubnetManager(etcd);
        } catch (ConfigException | LeaseException | IllegalArgumentException e) {
            err.println("railyard overlay: " + e.getMessage());
            return 1;
        }
        try (SubnetManager manager = subnets;
             OverlayDaemon daemon = new OverlayDaemon(options, manager)) {
            Thread hook = new Thread(daemon::close, "overlay-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                daemon.start();
                spec.commandLine().getOut().println("railyard overlay: leased " + daemon.lease().subnets()
                        + ", wrote " + options.subnetFile());
                spec.commandLine().getOut().flush();
                daemon.awaitStop();
                return 0;
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // the hook is running or has run; nothing to undo
                }
            }
        } catch (ConfigException | LeaseException | IpException e) {
            err.println("railyard overlay: " + e.getMessage());
            return 1;
        }
    }

    /** flannel's kube mode: net-conf from a file, the API server from kubeconfig or the service account. */
    private SubnetManager kubeSubnetManager() {
        String json;
        try {
            json = Files.readString(netConfigPath);
        } catch (IOException e) {
            throw new ConfigException("--net-config-path " + netConfigPath + ": cannot read it: " + whyUnreadable(e), e);
        }
        NetworkConfig config;
        try {
            config = NetworkConfig.parse(json);
        } catch (ConfigException e) {
            throw new ConfigException(netConfigPath + ": " + e.getMessage(), e);
        }
        KubeSubnetManager.Settings settings = new KubeSubnetManager.Settings(environment.get("NODE_NAME"),
                NodeAnnotations.withPrefix(kubeAnnotationPrefix), setNodeNetworkUnavailable, null);
        ApiClient client;
        try {
            client = ApiClients.fromFlags(kubeconfigFile, kubeApiUrl,
                    new ApiClients.FlagNames("--kubeconfig-file", "--kube-api-url"));
        } catch (ClientConfigException e) {
            throw new ConfigException(e.getMessage(), e);
        }
        return new KubeSubnetManager(client, config, settings);
    }

    /** Parses "90s", "5m", "24h", or a bare number in {@code bareUnit}. */
    static Duration duration(String text, String flag, String bareUnit) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        String unit = bareUnit;
        if (!t.isEmpty() && Character.isLetter(t.charAt(t.length() - 1))) {
            unit = t.substring(t.length() - 1);
            t = t.substring(0, t.length() - 1);
        }
        long n;
        try {
            n = Long.parseLong(t);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + ": '" + text + "' is not a duration (e.g. 90s, 60m, 24h)");
        }
        return switch (unit) {
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> throw new IllegalArgumentException(flag + ": unknown unit in '" + text + "' (use s, m or h)");
        };
    }

    @Command(name = "config", mixinStandardHelpOptions = true, description = "Set or show the network config in etcd.",
            subcommands = {PutConfig.class, GetConfig.class})
    static final class ConfigCommand implements Callable<Integer> {
        @ParentCommand
        OverlayCommand overlay;

        @Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            spec.commandLine().usage(spec.commandLine().getErr());
            return 2;
        }
    }

    @Command(name = "put", mixinStandardHelpOptions = true,
            description = "Validate FILE (flannel's net-conf.json format; '-' reads stdin) and store it as the network config.")
    static final class PutConfig implements Callable<Integer> {
        @ParentCommand
        ConfigCommand config;

        @Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(paramLabel = "FILE")
        String file;

        @Override
        public Integer call() {
            PrintWriter err = spec.commandLine().getErr();
            String json;
            try {
                json = "-".equals(file) ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
                        : Files.readString(Path.of(file));
            } catch (IOException e) {
                err.println("railyard overlay config put: cannot read " + file + ": " + whyUnreadable(e));
                return 1;
            }
            try (EtcdSubnetManager m = new EtcdSubnetManager(config.overlay.etcdOptions())) {
                NetworkConfig c = m.putNetworkConfig(json);
                spec.commandLine().getOut().printf("stored network config at %s: %s, backend %s%n",
                        m.keys().configKey(), summary(c), c.backend().type().flannelName());
                return 0;
            } catch (ConfigException | LeaseException | IllegalArgumentException e) {
                err.println("railyard overlay config put: " + file + ": " + e.getMessage());
                return 1;
            }
        }
    }

    /** Each enabled family's network, subnet length and subnet count (IPv4 may be disabled). */
    static String summary(NetworkConfig c) {
        List<String> parts = new ArrayList<>();
        if (c.ipv4() != null) {
            parts.add("Network " + c.network() + ", SubnetLen " + c.subnetLen() + ", " + c.subnetCount() + " subnets");
        }
        if (c.ipv6() != null) {
            parts.add("IPv6Network " + c.ipv6Network() + ", IPv6SubnetLen " + c.ipv6().subnetLen() + ", "
                    + c.ipv6().count() + (c.ipv6().count() >= Ip6Range.MAX_COUNT ? "+" : "") + " subnets");
        }
        return String.join("; ", parts);
    }

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Print the stored network config.")
    static final class GetConfig implements Callable<Integer> {
        @ParentCommand
        ConfigCommand config;

        @Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            try (EtcdSubnetManager m = new EtcdSubnetManager(config.overlay.etcdOptions())) {
                String raw = m.rawNetworkConfig();
                if (raw == null) {
                    spec.commandLine().getErr().println("railyard overlay config get: no network config at " + m.keys().configKey());
                    return 1;
                }
                spec.commandLine().getOut().println(raw.stripTrailing()); // as stored, without a blank line
                return 0;
            } catch (LeaseException | IllegalArgumentException e) {
                spec.commandLine().getErr().println("railyard overlay config get: " + e.getMessage());
                return 1;
            }
        }
    }

    /** Lets the module run on its own: {@code java -cp ... dev.railyard.overlay.cli.OverlayCommand}. */
    public static void main(String[] args) {
        System.exit(new CommandLine(new OverlayCommand()).execute(args));
    }

    /** The reason a file could not be read; NIO's exceptions carry only the path as their message. */
    static String whyUnreadable(IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
