package dev.railyard.overlay.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.railyard.overlay.etcd.EtcdCluster;
import dev.railyard.overlay.etcd.RequiresEtcd;
import dev.railyard.overlay.lease.EtcdOptions;
import dev.railyard.overlay.lease.EtcdSubnetManager;
import dev.railyard.overlay.lease.Lease;
import dev.railyard.testkit.RequiresPrivileges;
import dev.railyard.testkit.SharedLink;
import dev.railyard.testkit.kubernetes.TestApiServer;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeSpec;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

@RequiresEtcd
class OverlayCommandTest {
    private static EtcdCluster etcd;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        etcd = EtcdCluster.start(1);
    }

    @AfterAll
    static void stop() {
        if (etcd != null) {
            etcd.close();
        }
    }

    private record Run(int exit, String out, String err) {
    }

    private static Run run(String... args) {
        return run(Map.of(), args);
    }

    private static Run run(Map<String, String> environment, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        OverlayCommand command = new OverlayCommand();
        command.environment = environment;
        CommandLine cl = new CommandLine(command).setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    private String endpoints() {
        return String.join(",", etcd.clientUrls());
    }

    @Test
    void configPutThenGetRoundTrips() throws Exception {
        Path file = dir.resolve("net-conf.json");
        String json = "{\"Network\":\"10.90.0.0/16\",\"Backend\":{\"Type\":\"vxlan\",\"VNI\":3}}";
        Files.writeString(file, json);

        Run missing = run("config", "get", "--etcd-endpoints", endpoints(), "--etcd-prefix", "/cli1");
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).contains("no network config at /cli1/config");

        // flags before the subcommand (flannel style) and after it both work
        Run put = run("--etcd-endpoints", endpoints(), "--etcd-prefix", "/cli1", "config", "put", file.toString());
        assertThat(put.exit()).as(put.err()).isZero();
        assertThat(put.out()).contains("stored network config at /cli1/config: Network 10.90.0.0/16, SubnetLen 24, 255 subnets, backend vxlan");

        Run get = run("config", "get", "--etcd-endpoints", endpoints(), "--etcd-prefix", "/cli1");
        assertThat(get.exit()).isZero();
        assertThat(get.out().strip()).isEqualTo(json);
    }

    @Test
    void configPutSummarisesEachEnabledFamily() throws Exception {
        Path v6 = dir.resolve("v6.json");
        Files.writeString(v6, "{\"EnableIPv4\":false,\"EnableIPv6\":true,\"IPv6Network\":\"fd00:83::/56\","
                + "\"Backend\":{\"Type\":\"host-gw\"}}");
        Run put = run("config", "put", v6.toString(), "--etcd-endpoints", endpoints(), "--etcd-prefix", "/cli6");
        assertThat(put.exit()).as(put.err()).isZero();
        assertThat(put.out().strip()).isEqualTo("stored network config at /cli6/config: IPv6Network fd00:83::/56, "
                + "IPv6SubnetLen 64, 255 subnets, backend host-gw");

        Path dual = dir.resolve("dual.json");
        Files.writeString(dual, "{\"Network\":\"10.91.0.0/16\",\"EnableIPv6\":true,\"IPv6Network\":\"fd00:84::/56\","
                + "\"Backend\":{\"Type\":\"vxlan\"}}\n");
        Run both = run("config", "put", dual.toString(), "--etcd-endpoints", endpoints(), "--etcd-prefix", "/cli7");
        assertThat(both.exit()).as(both.err()).isZero();
        assertThat(both.out()).contains(": Network 10.91.0.0/16, SubnetLen 24, 255 subnets; IPv6Network "
                + "fd00:84::/56, IPv6SubnetLen 64, 255 subnets, backend vxlan");

        Run get = run("config", "get", "--etcd-endpoints", endpoints(), "--etcd-prefix", "/cli7");
        assertThat(get.out()).as("the stored JSON and one line break").isEqualTo(Files.readString(dual));
    }

    @Test
    void badConfigIsRejectedNamingTheFileAndField() throws Exception {
        Path file = dir.resolve("bad.json");
        Files.writeString(file, "{\"Network\":\"10.0.0.0/16\",\"SubnetLen\":40}");
        Run put = run("config", "put", file.toString(), "--etcd-endpoints", endpoints(), "--etcd-prefix", "/cli2");
        assertThat(put.exit()).isEqualTo(1);
        assertThat(put.err()).contains(file.toString()).contains("field SubnetLen: 40 must be in 1..30");

        Run nofile = run("config", "put", dir.resolve("nope.json").toString(), "--etcd-endpoints", endpoints());
        assertThat(nofile.exit()).isEqualTo(1);
        assertThat(nofile.err()).contains("cannot read").contains("nope.json: no such file");
    }

    /** Checked at start, before etcd is asked anything: an unreachable etcd must not hide a typo for minutes. */
    @Test
    void badPublicAddressesFailAtStart() {
        Run v4 = run("--public-ip", "1.2.3", "--etcd-endpoints", "http://127.0.0.1:1");
        assertThat(v4.exit()).isEqualTo(2);
        assertThat(v4.err().strip()).startsWith("railyard overlay: --public-ip: ").contains("1.2.3");
        Run v6 = run("--public-ipv6", "zz::1::2", "--etcd-endpoints", "http://127.0.0.1:1");
        assertThat(v6.exit()).isEqualTo(2);
        assertThat(v6.err().strip()).startsWith("railyard overlay: --public-ipv6: ").contains("zz::1::2");
    }

    @Test
    void durationsAcceptFlannelMinutesAndUnits() {
        assertThat(OverlayCommand.duration("60", "--x", "m")).isEqualTo(Duration.ofMinutes(60));
        assertThat(OverlayCommand.duration("30s", "--x", "m")).isEqualTo(Duration.ofSeconds(30));
        assertThat(OverlayCommand.duration("24h", "--x", "s")).isEqualTo(Duration.ofHours(24));
        assertThatThrownBy(() -> OverlayCommand.duration("soon", "--subnet-lease-ttl", "s"))
                .hasMessageContaining("--subnet-lease-ttl: 'soon' is not a duration");
    }

    @Test
    @RequiresPrivileges(commands = {"ip", "bridge"})
    void daemonLeasesASubnetAndWritesSubnetEnv() throws Exception {
        try (SharedLink lan = SharedLink.builder().hosts(1).ipv4Subnet("192.168.88.0/24").create();
             EtcdSubnetManager m = new EtcdSubnetManager(EtcdOptions.plain(etcd.clientUrls(), "/cli3"))) {
            Path env = dir.resolve("run/flannel/subnet.env");
            List<Run> result = new ArrayList<>();
            Thread daemon = new Thread(() -> result.add(run("--etcd-endpoints", endpoints(), "--etcd-prefix", "/cli3",
                    "--netns", lan.host(0).namespace().name(), "--iface", "eth0", "--subnet-file", env.toString(),
                    "--subnet-lease-ttl", "60s", "--subnet-lease-renew-margin", "20s")));
            daemon.start();
            try {
                // the node starts before the operator stores the config: the daemon waits for it
                Thread.sleep(1500);
                assertThat(daemon.isAlive()).as("daemon waits for a missing config; result %s", result).isTrue();
                assertThat(env).doesNotExist();
                m.putNetworkConfig("{\"Network\":\"10.91.0.0/16\",\"Backend\":{\"Type\":\"vxlan\"}}");
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();

                while (!Files.exists(env) && System.nanoTime() < deadline && daemon.isAlive()) {
                    Thread.sleep(100);
                }
                assertThat(env).as("subnet.env written; result so far %s", result).exists();
                List<Lease> leases = m.list().leases();
                assertThat(leases).hasSize(1);
                Lease l = leases.get(0);
                assertThat(l.attrs().publicIpString()).isEqualTo("192.168.88.1");
                assertThat(l.attrs().backendType()).isEqualTo("vxlan");
                assertThat(Files.readString(env)).isEqualTo("FLANNEL_NETWORK=10.91.0.0/16\nFLANNEL_SUBNET="
                        + dev.railyard.overlay.config.Ip4Net.formatAddress(l.subnet().addressAt(1)) + "/24\n"
                        + "FLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n");
                assertThat(lan.host(0).namespace().execChecked("ip", "-4", "addr", "show", "flannel.1").stdout())
                        .contains(l.subnet().addressString() + "/32");
            } finally {
                daemon.interrupt();
                daemon.join(10_000);
            }
        }
    }

    @Test
    @RequiresPrivileges(commands = {"ip", "bridge"})
    void kubeModeTakesTheNodesPodCidrAndExplainsWhatIsMissing() throws Exception {
        try (SharedLink lan = SharedLink.builder().hosts(1).ipv4Subnet("192.168.89.0/24").create();
             TestApiServer api = TestApiServer.start()) {
            Path netConf = dir.resolve("net-conf.json");
            Files.writeString(netConf, "{\"Network\":\"10.92.0.0/16\",\"Backend\":{\"Type\":\"host-gw\"}}");
            Path env = dir.resolve("kube/subnet.env");
            String ns = lan.host(0).namespace().name();
            List<String> args = List.of("--kube-subnet-mgr", "--kube-api-url", api.url(), "--net-config-path",
                    netConf.toString(), "--netns", ns, "--subnet-file", env.toString());

            Run noName = run(args.toArray(String[]::new));
            assertThat(noName.exit()).isEqualTo(1);
            assertThat(noName.err()).contains("railyard overlay: --kube-subnet-mgr needs this node's name: set NODE_NAME");
            Run noConf = run(Map.of("NODE_NAME", "n1"), "--kube-subnet-mgr", "--net-config-path", "/nonexistent/net-conf.json");
            assertThat(noConf.exit()).isEqualTo(1);
            assertThat(noConf.err()).contains("--net-config-path /nonexistent/net-conf.json: cannot read it: no such file");

            api.create(new V1Node().metadata(new V1ObjectMeta().name("n1"))
                    .spec(new V1NodeSpec().podCIDR("10.92.7.0/24").podCIDRs(List.of("10.92.7.0/24"))));
            List<String> withIface = new ArrayList<>(args);
            withIface.addAll(List.of("--iface", "eth9", "--iface-regex", "^wlan"));
            Run badIface = run(Map.of("NODE_NAME", "n1"), withIface.toArray(String[]::new));
            assertThat(badIface.exit()).isEqualTo(1);
            assertThat(badIface.err()).contains("railyard overlay: no interface matches --iface eth9: no interface with "
                    + "that name or address; --iface-regex ^wlan: no interface address or name matches");

            // the namespace has no default route, so the interface is named as an operator would
            List<String> withEth0 = new ArrayList<>(args);
            withEth0.addAll(List.of("--iface", "eth0"));
            List<Run> result = new ArrayList<>();
            Thread daemon = new Thread(() -> result.add(run(Map.of("NODE_NAME", "n1"), withEth0.toArray(String[]::new))));
            daemon.start();
            try {
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (!Files.exists(env) && System.nanoTime() < deadline && daemon.isAlive()) {
                    Thread.sleep(100);
                }
                assertThat(env).as("subnet.env written; result so far %s", result).exists();
                assertThat(Files.readString(env)).isEqualTo("FLANNEL_NETWORK=10.92.0.0/16\nFLANNEL_SUBNET=10.92.7.1/24\n"
                        + "FLANNEL_MTU=1500\nFLANNEL_IPMASQ=false\n");
                V1Node node = api.get(TestApiServer.Resource.NODES, null, "n1");
                assertThat(node.getMetadata().getAnnotations()).containsEntry("flannel.alpha.coreos.com/public-ip", "192.168.89.1")
                        .containsEntry("flannel.alpha.coreos.com/backend-type", "host-gw");
            } finally {
                daemon.interrupt();
                daemon.join(10_000);
            }
        }
    }
}
