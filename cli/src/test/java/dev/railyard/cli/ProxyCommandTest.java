package dev.railyard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.railyard.proxy.apply.IptablesBackend;
import dev.railyard.proxy.daemon.NftablesOptions;
import dev.railyard.proxy.daemon.ProxyMode;
import dev.railyard.proxy.render.nftables.Layout;
import dev.railyard.proxy.daemon.ProxyDaemonSettings;
import dev.railyard.proxy.daemon.ops.BindAddress;
import dev.railyard.proxy.conntrack.ConntrackConfig;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.render.LocalTrafficDetector;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.userspace.ListenMode;
import dev.railyard.proxy.userspace.UserspaceConfig;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** railyard proxy's settings: flags, the configuration file, their merge, and what is refused. */
class ProxyCommandTest {
    @TempDir
    Path dir;

    @Test
    void defaultsAreKubeProxys() {
        ProxySettings settings = resolve("--hostname-override", "Node-A");
        assertThat(settings.mode()).isEqualTo(ProxyMode.IPTABLES);
        assertThat(settings.nodeName()).isEqualTo("node-a");
        assertThat(settings.minSyncPeriod()).isEqualTo(Duration.ofSeconds(1));
        assertThat(settings.syncPeriod()).isEqualTo(Duration.ofSeconds(30));
        assertThat(settings.masqueradeBit()).isEqualTo(14);
        assertThat(settings.localhostNodePorts()).isTrue();
        assertThat(settings.masqueradeAll()).isFalse();
        assertThat(settings.healthzBindAddress()).isEqualTo(new BindAddress("0.0.0.0", 10256));
        assertThat(settings.metricsBindAddress()).isEqualTo(new BindAddress("127.0.0.1", 10249));
        assertThat(settings.families()).containsExactly(IpFamily.V4);
        assertThat(settings.commandPrefix()).isEmpty();
        assertThat(settings.manifests()).isNull();
        assertThat(settings.kubeconfig()).isNull();
    }

    @Test
    void flagsAreParsedIntoRenderAndSyncSettings() {
        ProxySettings settings = resolve("--hostname-override", "n1", "--node-ip", "192.0.2.1",
                "--node-ip", "2001:db8::1", "--cluster-cidr", "10.244.0.0/16,fd00:10:244::/56", "--masquerade-all",
                "--nodeport-addresses", "192.0.2.0/24", "--iptables-masquerade-bit", "13",
                "--iptables-min-sync-period", "500ms", "--iptables-sync-period", "1m",
                "--iptables-localhost-nodeports=false", "--healthz-bind-address", "[::]:10300",
                "--metrics-bind-address", "", "--netns", "ry-test");
        assertThat(settings.families()).containsExactly(IpFamily.V4, IpFamily.V6);
        assertThat(settings.minSyncPeriod()).isEqualTo(Duration.ofMillis(500));
        assertThat(settings.syncPeriod()).isEqualTo(Duration.ofMinutes(1));
        assertThat(settings.localhostNodePorts()).isFalse();
        assertThat(settings.metricsBindAddress().disabled()).isTrue();
        assertThat(settings.commandPrefix()).containsExactly("ip", "netns", "exec", "ry-test");
        List<RenderConfig> configs = settings.renderConfigs();
        assertThat(configs).extracting(RenderConfig::family).containsExactly(IpFamily.V4, IpFamily.V6);
        assertThat(configs.get(0).masqueradeAll()).isTrue();
        assertThat(configs.get(0).masqueradeMark()).isEqualTo("0x00002000");
        assertThat(configs.get(0).clusterCidr()).isEqualTo("10.244.0.0/16");
        assertThat(configs.get(1).clusterCidr()).isEqualTo("fd00:10:244::/56");
        assertThat(configs.get(1).nodeIps()).containsExactly("2001:db8::1");
        assertThat(settings.daemonSettings().sync().minSyncPeriod()).isEqualTo(Duration.ofMillis(500));
        assertThat(resolve("--hostname-override", "n1", "--healthz-bind-address", ":10256",
                "--metrics-bind-address", "127.0.0.1:0").healthzBindAddress()).isEqualTo(new BindAddress("", 10256));
        assertThat(resolve("--hostname-override", "n1", "--ipv6").families())
                .containsExactly(IpFamily.V4, IpFamily.V6);
    }

    @Test
    void theConfigFileIsReadAndFlagsOverrideIt() throws IOException {
        Path file = write("""
                apiVersion: kubeproxy.config.k8s.io/v1alpha1
                kind: KubeProxyConfiguration
                mode: iptables
                clientConnection:
                  kubeconfig: /etc/kubernetes/proxy.conf
                clusterCIDR: 10.244.0.0/16
                hostnameOverride: from-file
                nodePortAddresses: [192.0.2.0/24]
                healthzBindAddress: 0.0.0.0:10266
                metricsBindAddress: 127.0.0.1:10259
                iptables:
                  masqueradeAll: true
                  masqueradeBit: 12
                  minSyncPeriod: 2s
                  syncPeriod: 1m30s
                  localhostNodePorts: false
                """);
        ProxySettings fromFile = resolve("--config", file.toString());
        assertThat(fromFile.kubeconfig()).isEqualTo(Path.of("/etc/kubernetes/proxy.conf"));
        assertThat(fromFile.nodeName()).isEqualTo("from-file");
        assertThat(fromFile.clusterCidrs()).containsExactly("10.244.0.0/16");
        assertThat(fromFile.nodePortAddresses()).containsExactly("192.0.2.0/24");
        assertThat(fromFile.masqueradeAll()).isTrue();
        assertThat(fromFile.masqueradeBit()).isEqualTo(12);
        assertThat(fromFile.minSyncPeriod()).isEqualTo(Duration.ofSeconds(2));
        assertThat(fromFile.syncPeriod()).isEqualTo(Duration.ofSeconds(90));
        assertThat(fromFile.localhostNodePorts()).isFalse();
        assertThat(fromFile.healthzBindAddress().port()).isEqualTo(10266);
        assertThat(fromFile.metricsBindAddress().port()).isEqualTo(10259);

        ProxySettings overridden = resolve("--config", file.toString(), "--hostname-override", "from-flag",
                "--masquerade-all=false", "--iptables-sync-period", "45s", "--iptables-localhost-nodeports",
                "--cluster-cidr", "10.10.0.0/16", "--kubeconfig", "/other.conf");
        assertThat(overridden.nodeName()).isEqualTo("from-flag");
        assertThat(overridden.masqueradeAll()).isFalse();
        assertThat(overridden.syncPeriod()).isEqualTo(Duration.ofSeconds(45));
        assertThat(overridden.minSyncPeriod()).as("not overridden").isEqualTo(Duration.ofSeconds(2));
        assertThat(overridden.localhostNodePorts()).isTrue();
        assertThat(overridden.clusterCidrs()).containsExactly("10.10.0.0/16");
        assertThat(overridden.kubeconfig()).isEqualTo(Path.of("/other.conf"));
    }

    /** What {@code kubectl -n kube-system get cm kube-proxy} holds on a kubeadm cluster: every field, mostly zero. */
    @Test
    void kubeadmsConfigLoadsAndItsZeroValuesMeanTheDefaults() throws IOException {
        Path file = write("""
                apiVersion: kubeproxy.config.k8s.io/v1alpha1
                bindAddress: 0.0.0.0
                bindAddressHardFail: false
                clientConnection:
                  acceptContentTypes: ""
                  burst: 0
                  contentType: ""
                  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf
                  qps: 0
                clusterCIDR: 10.244.0.0/16
                configSyncPeriod: 0s
                conntrack:
                  maxPerCore: null
                  min: null
                  tcpBeLiberal: false
                  tcpCloseWaitTimeout: null
                  tcpEstablishedTimeout: null
                  udpStreamTimeout: 0s
                  udpTimeout: 0s
                detectLocal:
                  bridgeInterface: ""
                  interfaceNamePrefix: ""
                detectLocalMode: ""
                enableProfiling: false
                healthzBindAddress: ""
                hostnameOverride: ""
                iptables:
                  localhostNodePorts: null
                  masqueradeAll: false
                  masqueradeBit: null
                  minSyncPeriod: 0s
                  syncPeriod: 0s
                ipvs:
                  excludeCIDRs: null
                  minSyncPeriod: 0s
                  scheduler: ""
                  strictARP: false
                  syncPeriod: 0s
                  tcpFinTimeout: 0s
                  tcpTimeout: 0s
                  udpTimeout: 0s
                kind: KubeProxyConfiguration
                logging:
                  flushFrequency: 0
                  options:
                    json:
                      infoBufferSize: "0"
                    text:
                      infoBufferSize: "0"
                  verbosity: 0
                metricsBindAddress: ""
                mode: ""
                nftables:
                  masqueradeAll: false
                  masqueradeBit: null
                  minSyncPeriod: 0s
                  syncPeriod: 0s
                nodePortAddresses: null
                oomScoreAdj: null
                portRange: ""
                showHiddenMetricsForVersion: ""
                winkernel:
                  enableDSR: false
                  forwardHealthCheckVip: false
                  networkName: ""
                  rootHnsEndpointName: ""
                  sourceVip: ""
                """);

        ProxySettings settings = resolve("--config", file.toString(), "--hostname-override", "node-a");

        assertThat(settings.mode()).isEqualTo(ProxyMode.IPTABLES);
        assertThat(settings.kubeconfig()).isEqualTo(Path.of("/var/lib/kube-proxy/kubeconfig.conf"));
        assertThat(settings.clusterCidrs()).containsExactly("10.244.0.0/16");
        assertThat(settings.healthzBindAddress()).isEqualTo(new BindAddress("0.0.0.0", 10256));
        assertThat(settings.metricsBindAddress()).isEqualTo(new BindAddress("127.0.0.1", 10249));
        assertThat(settings.minSyncPeriod()).isEqualTo(Duration.ofSeconds(1));
        assertThat(settings.syncPeriod()).isEqualTo(Duration.ofSeconds(30));
        assertThat(settings.masqueradeBit()).isEqualTo(14);
        assertThat(settings.localhostNodePorts()).isTrue();
        assertThat(settings.nodePortAddresses()).isEmpty();
    }

    @Test
    void userspaceModeListensOnServiceAddressesFromLoopbackAndCapturesOtherwise() throws IOException {
        ProxyDaemonSettings direct = resolve("--proxy-mode", "userspace", "--bind-address", "127.0.0.1",
                "--udp-timeout", "2s").daemonSettings();
        assertThat(direct.mode()).isEqualTo(ProxyMode.USERSPACE);
        assertThat(direct.userspace().listenMode()).isEqualTo(ListenMode.SERVICE_ADDRESSES);
        assertThat(direct.userspace().udpIdleTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(direct.userspace().relayWarmupExchanges()).as("the daemon compiles its relay at start")
                .isEqualTo(UserspaceConfig.DEFAULT_RELAY_WARMUP_EXCHANGES).isPositive();

        ProxyDaemonSettings capture = resolve("--proxy-mode", "userspace", "--iptables-backend", "legacy")
                .daemonSettings();
        assertThat(capture.userspace().listenMode()).as("default 0.0.0.0").isEqualTo(ListenMode.CAPTURE);
        assertThat(capture.userspace().bindAddress().getHostAddress()).isEqualTo("0.0.0.0");
        assertThat(capture.backend()).isEqualTo(IptablesBackend.LEGACY);

        Path file = write("mode: userspace\nbindAddress: 127.0.0.2\n");
        assertThat(resolve("--config", file.toString()).daemonSettings().userspace().listenMode())
                .isEqualTo(ListenMode.SERVICE_ADDRESSES);
        assertThat(resolve().daemonSettings().userspace()).as("iptables mode by default").isNull();
    }

    @Test
    void anIpv6BindAddressEnablesIpv6AndNodeIpsReachTheUserspaceProxier() throws IOException {
        ProxySettings v6 = resolve("--proxy-mode", "userspace", "--bind-address", "::");
        assertThat(v6.families()).as("kube-proxy: IPv6 bind address, assume IPv6 operation")
                .containsExactly(IpFamily.V4, IpFamily.V6);
        assertThat(v6.daemonSettings().userspace().listenMode()).isEqualTo(ListenMode.CAPTURE);
        UserspaceConfig userspace = v6.daemonSettings().userspace();
        assertThat(userspace.captureAddress(IpFamily.V6).getHostAddress()).isEqualTo("0:0:0:0:0:0:0:0");
        assertThat(userspace.captureAddress(IpFamily.V4).getHostAddress()).isEqualTo("0.0.0.0");

        assertThat(resolve("--proxy-mode", "userspace", "--bind-address", "::1").families())
                .containsExactly(IpFamily.V4, IpFamily.V6);
        assertThat(resolve("--proxy-mode", "userspace").families()).as("0.0.0.0 on an IPv4 node")
                .containsExactly(IpFamily.V4);

        ProxySettings dualStack = resolve("--proxy-mode", "userspace", "--node-ip", "192.0.2.10,2001:db8::10");
        assertThat(dualStack.families()).containsExactly(IpFamily.V4, IpFamily.V6);
        assertThat(dualStack.daemonSettings().userspace().primaryNodeIp(IpFamily.V6).getHostAddress())
                .isEqualTo("2001:db8:0:0:0:0:0:10");
        assertThat(dualStack.daemonSettings().userspace().primaryNodeIp(IpFamily.V4).getHostAddress())
                .isEqualTo("192.0.2.10");
        assertThat(dualStack.daemonSettings().userspace().captureAddress(IpFamily.V6).getHostAddress())
                .as("the default 0.0.0.0 captures IPv6 on ::").isEqualTo("0:0:0:0:0:0:0:0");
    }

    @Test
    void unknownConfigFieldsAndBadValuesAreNamed() throws IOException {
        assertFails(List.of("--config", write("kind: KubeProxyConfiguration\nconntrack: {maxPerCores: 65536}\n")
                .toString()), "conntrack.maxPerCores: unknown or unsupported field");
        assertFails(List.of("--config", write("detectLocalMode: PodCIDR\n").toString()),
                "--detect-local-mode", "\"PodCIDR\" is not a detect-local mode");
        assertFails(List.of("--config", write("detectLocalMode: BridgeInterface\n").toString()),
                "--pod-bridge-interface must be set");
        assertFails(List.of("--config", write("featureGates: {PreferSameTrafficDistribution: maybe}\n").toString()),
                "featureGates.PreferSameTrafficDistribution: expected true or false");
        assertFails(List.of("--feature-gates", "SomethingElse=true"), "SomethingElse is not a feature gate");
        assertFails(List.of("--pod-interface-name-prefix", "veth;drop", "--detect-local-mode",
                "InterfaceNamePrefix"), "\"veth;drop\" is not an interface name");
        assertFails(List.of("--config", write("mode: userspace\nbindAddress: eth0\n").toString()),
                "--bind-address");
        assertFails(List.of("--config", write("ipvs:\n  scheduler: rr\n").toString()), "ipvs: {scheduler=rr}");
        assertFails(List.of("--config", write("clientConnection:\n  qps: 50\n").toString()),
                "clientConnection.qps: 50: Railyard does not implement");
        assertFails(List.of("--config", write("iptables:\n  masqueradeBits: 14\n").toString()),
                "iptables.masqueradeBits: unknown or unsupported field");
        assertFails(List.of("--config", write("iptables:\n  syncPeriod: soon\n").toString()),
                "iptables.syncPeriod: \"soon\" is not a duration");
        assertFails(List.of("--config", write("apiVersion: kubeproxy.config.k8s.io/v1beta9\n").toString()),
                "apiVersion: \"kubeproxy.config.k8s.io/v1beta9\" is not supported");
        assertFails(List.of("--config", write("mode: ipvs\n").toString()), "proxy mode \"ipvs\"", "mode in");
        assertFails(List.of("--config", dir.resolve("missing.yaml").toString()), "missing.yaml: cannot read");
    }

    @Test
    void detectLocalConntrackAndFeatureGatesComeFromFlagsOverTheFileWithKubeProxysNames() throws Exception {
        ProxySettings defaults = resolve("--hostname-override", "node-a", "--cluster-cidr", "10.244.0.0/16");
        assertThat(defaults.detectLocalMode()).isEqualTo(LocalTrafficDetector.Mode.CLUSTER_CIDR);
        assertThat(defaults.renderConfigs().get(0).localDetector().ifNotLocal())
                .containsExactly("!", "-s", "10.244.0.0/16");
        assertThat(defaults.conntrack()).isEqualTo(ConntrackConfig.KUBE_PROXY_DEFAULTS);
        assertThat(defaults.renderConfigs().get(0).preferSameTrafficDistribution()).isTrue();

        Path file = write("""
                detectLocalMode: BridgeInterface
                detectLocal:
                  bridgeInterface: cbr0
                  interfaceNamePrefix: veth
                conntrack:
                  maxPerCore: 0
                  min: null
                  tcpEstablishedTimeout: 2h0m0s
                  tcpCloseWaitTimeout: 0s
                  tcpBeLiberal: true
                  udpTimeout: 30s
                  udpStreamTimeout: 2m
                featureGates:
                  PreferSameTrafficDistribution: false
                """);
        ProxySettings fromFile = resolve("--config", file.toString(), "--hostname-override", "node-a");
        RenderConfig config = fromFile.renderConfigs().get(0);
        assertThat(config.localDetector().ifLocal()).containsExactly("-i", "cbr0");
        assertThat(config.localDetector().ifNotLocalNft()).isEqualTo("iifname != cbr0");
        assertThat(config.conntrackTcpBeLiberal()).as("tcpBeLiberal drops the INVALID-drop rule").isTrue();
        assertThat(config.preferSameTrafficDistribution()).isFalse();
        assertThat(fromFile.conntrack()).isEqualTo(new ConntrackConfig(0, 131072, Duration.ofHours(2), Duration.ZERO,
                true, Duration.ofSeconds(30), Duration.ofMinutes(2)));

        ProxySettings flags = resolve("--config", file.toString(), "--hostname-override", "node-a",
                "--detect-local-mode", "InterfaceNamePrefix", "--pod-interface-name-prefix", "cali",
                "--conntrack-max-per-core", "1024", "--conntrack-tcp-be-liberal=false",
                "--conntrack-udp-timeout", "45s", "--feature-gates", "PreferSameTrafficDistribution=true");
        config = flags.renderConfigs().get(0);
        assertThat(config.localDetector().ifNotLocal()).containsExactly("!", "-i", "cali+");
        assertThat(config.conntrackTcpBeLiberal()).isFalse();
        assertThat(config.preferSameTrafficDistribution()).isTrue();
        assertThat(flags.conntrack().maxPerCore()).isEqualTo(1024);
        assertThat(flags.conntrack().udpTimeout()).isEqualTo(Duration.ofSeconds(45));

        ProxySettings nodeCidr = resolve("--hostname-override", "node-a", "--detect-local-mode", "NodeCIDR");
        assertThat(nodeCidr.renderConfigs(List.of("10.244.7.0/24", "fd00:244:7::/64")).get(0).localDetector().ifLocal())
                .as("NodeCIDR: the Node's podCIDR of the family").containsExactly("-s", "10.244.7.0/24");
    }

    @Test
    void nftablesModeTakesKubeProxysDefaultsAndItsOwnConfigSection() throws Exception {
        ProxySettings flags = resolve("--proxy-mode", "nftables", "--hostname-override", "node-a",
                "--node-ip", "192.0.2.10");
        assertThat(flags.mode()).isEqualTo(ProxyMode.NFTABLES);
        assertThat(flags.nodePortAddresses()).containsExactly("primary");
        assertThat(flags.daemonSettings().mode()).isEqualTo(ProxyMode.NFTABLES);
        assertThat(flags.renderConfigs().get(0).nodePortIps()).containsExactly("192.0.2.10");
        assertThat(flags.nftables().layout()).isEqualTo(Layout.FLAT);
        assertThat(flags.nftables().applier()).isEqualTo(NftablesOptions.Applier.NETLINK);
        assertThat(flags.nftables().servicePortsPerTransaction())
                .isEqualTo(NftablesOptions.NETLINK_SERVICE_PORTS_PER_TRANSACTION);
        assertThat(flags.daemonSettings().nftables()).isEqualTo(flags.nftables());

        ProxySettings asKubeProxy = resolve("--proxy-mode", "nftables", "--hostname-override", "node-a",
                "--nftables-layout", "kube-proxy", "--nftables-applier", "nft");
        assertThat(asKubeProxy.nftables()).isEqualTo(NftablesOptions.kubeProxy());
        assertFails(List.of("--proxy-mode", "nftables", "--nftables-layout", "tree"), "--nftables-layout",
                "\"tree\"");
        assertFails(List.of("--proxy-mode", "nftables", "--nftables-applier", "libnftables"), "--nftables-applier",
                "\"libnftables\"");
        assertFails(List.of("--nftables-layout", "flat"), "--nftables-layout only applies to --proxy-mode nftables");

        Path file = write("""
                mode: nftables
                iptables:
                  masqueradeBit: 12
                  syncPeriod: 10s
                nftables:
                  masqueradeAll: true
                  masqueradeBit: 13
                  minSyncPeriod: 2s
                  syncPeriod: 1m
                """);
        ProxySettings fromFile = resolve("--config", file.toString(), "--hostname-override", "node-a");
        assertThat(fromFile.mode()).isEqualTo(ProxyMode.NFTABLES);
        assertThat(fromFile.masqueradeAll()).isTrue();
        assertThat(fromFile.masqueradeBit()).isEqualTo(13);
        assertThat(fromFile.minSyncPeriod()).isEqualTo(Duration.ofSeconds(2));
        assertThat(fromFile.syncPeriod()).isEqualTo(Duration.ofMinutes(1));
        // The flags still win, as they do in kube-proxy.
        ProxySettings overridden = resolve("--config", file.toString(), "--hostname-override", "node-a",
                "--iptables-sync-period", "45s", "--nodeport-addresses", "192.0.2.0/24");
        assertThat(overridden.syncPeriod()).isEqualTo(Duration.ofSeconds(45));
        assertThat(overridden.nodePortAddresses()).containsExactly("192.0.2.0/24");
        assertFails(List.of("--config", write("nftables:\n  localhostNodePorts: true\n").toString()),
                "nftables.localhostNodePorts: unknown or unsupported field");
    }

    @Test
    void unsupportedModesAndContradictionsFailAtStartWithTheirNames() {
        assertFails(List.of("--proxy-mode", "ipvs"), "--proxy-mode: proxy mode \"ipvs\" is not supported",
                "use \"iptables\", \"nftables\" or \"userspace\"");
        assertFails(List.of("--bind-address", "127.0.0.1"), "--bind-address only applies to --proxy-mode userspace");
        assertFails(List.of("--proxy-mode", "userspace", "--bind-address", "localhost"), "--bind-address");
        assertFails(List.of("--proxy-mode", "userspace", "--udp-timeout", "0s"), "--udp-timeout must be positive");
        assertFails(List.of("--iptables-backend", "ebtables"), "unknown iptables backend \"ebtables\"");
        assertFails(List.of("--manifests", dir.resolve("missing").toString()), "--manifests " + dir.resolve("missing")
                + ": no such directory");
        assertFails(List.of("--manifests", "../examples/cluster.yaml"), ": not a directory");
        assertFails(List.of("--manifests", dir.toString(), "--kubeconfig", "/etc/k.conf"),
                "--manifests", "--kubeconfig", "cannot be combined");
        assertFails(List.of("--manifests", dir.toString(), "--master", "https://10.0.0.1:6443"),
                "--manifests", "--master", "cannot be combined");
        assertFails(List.of("--iptables-min-sync-period", "1m", "--iptables-sync-period", "30s"),
                "--iptables-min-sync-period (PT1M) is longer than --iptables-sync-period (PT30S)");
        assertFails(List.of("--iptables-sync-period", "0"), "--iptables-sync-period must be positive");
        assertFails(List.of("--iptables-sync-period", "30"), "--iptables-sync-period: \"30\" is not a duration");
        assertFails(List.of("--iptables-masquerade-bit", "32"), "--iptables-masquerade-bit must be within 0-31");
        assertFails(List.of("--healthz-bind-address", "0.0.0.0:10249", "--metrics-bind-address", "127.0.0.1:10249"),
                "--healthz-bind-address 0.0.0.0:10249 and --metrics-bind-address 127.0.0.1:10249 overlap");
        assertFails(List.of("--healthz-bind-address", ":10249"),
                "--healthz-bind-address :10249 and --metrics-bind-address 127.0.0.1:10249 overlap");
        assertFails(List.of("--healthz-bind-address", "localhost:10256"), "localhost is not an IP address");
        assertFails(List.of("--metrics-bind-address", "127.0.0.1:70000"), "the port must be 0-65535");
        assertFails(List.of("--node-ip", "192.0.2.300"), "--node-ip", "192.0.2.300");
        assertFails(List.of("--cluster-cidr", "10.0.0.0/8,10.1.0.0/16"), "--cluster-cidr has two IPv4 CIDRs");
    }

    @Test
    void goDurations() {
        assertThat(GoDurations.parse("x", "1s")).isEqualTo(Duration.ofSeconds(1));
        assertThat(GoDurations.parse("x", "1m30s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(GoDurations.parse("x", "1.5h")).isEqualTo(Duration.ofMinutes(90));
        assertThat(GoDurations.parse("x", "250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(GoDurations.parse("x", "0")).isEqualTo(Duration.ZERO);
        for (String bad : List.of("", "1", "-1s", "1 s", "s", "1d", "1s2")) {
            assertThatThrownBy(() -> GoDurations.parse("--x", bad)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("--x: ");
        }
    }

    private ProxySettings resolve(String... args) {
        CommandLine commandLine = Railyard.commandLine();
        CommandLine.ParseResult result = commandLine.parseArgs(prepend(args));
        ProxyCommand command = (ProxyCommand) result.subcommand().commandSpec().userObject();
        return command.resolve();
    }

    /** Runs the real command: bad settings must stop it before anything runs, with exit status 2. */
    private void assertFails(List<String> args, String... messageParts) {
        StringWriter err = new StringWriter();
        CommandLine commandLine = Railyard.commandLine();
        commandLine.getSubcommands().get("proxy").setErr(new PrintWriter(err));
        List<String> withNode = new java.util.ArrayList<>(List.of("--hostname-override", "n1"));
        withNode.addAll(args);
        int code = commandLine.execute(prepend(withNode.toArray(String[]::new)));
        assertThat(code).as("exit status for %s: %s", args, err).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).startsWith("railyard proxy: ").contains(messageParts);
    }

    private static String[] prepend(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "proxy";
        System.arraycopy(args, 0, all, 1, args.length);
        return all;
    }

    private Path write(String text) throws IOException {
        Path file = Files.createTempFile(dir, "kube-proxy", ".yaml");
        Files.writeString(file, text);
        return file;
    }
}
