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
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new OverlayCommand()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
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
    void badConfigIsRejectedNamingTheFileAndField() throws Exception {
        Path file = dir.resolve("bad.json");
        Files.writeString(file, "{\"Network\":\"10.0.0.0/16\",\"SubnetLen\":40}");
        Run put = run("config", "put", file.toString(), "--etcd-endpoints", endpoints(), "--etcd-prefix", "/cli2");
        assertThat(put.exit()).isEqualTo(1);
        assertThat(put.err()).contains(file.toString()).contains("field SubnetLen: 40 must be in 1..30");

        Run nofile = run("config", "put", dir.resolve("nope.json").toString(), "--etcd-endpoints", endpoints());
        assertThat(nofile.exit()).isEqualTo(1);
        assertThat(nofile.err()).contains("cannot read").contains("nope.json");
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
}
