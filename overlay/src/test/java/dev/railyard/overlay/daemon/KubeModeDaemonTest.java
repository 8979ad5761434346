package dev.railyard.overlay.daemon;

import static dev.railyard.overlay.daemon.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.overlay.config.NetworkConfig;
import dev.railyard.testkit.ProbeResult;
import dev.railyard.testkit.RequiresPrivileges;
import dev.railyard.testkit.kubernetes.TestApiServer;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeSpec;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Dual-stack vxlan nodes in kube mode beside a node flanneld annotated: its annotations become routes, neighbour
 * and FDB entries on both VXLAN devices; a rebooted node comes back with the VTEP MACs its Node published (so
 * peers' entries stay valid) without rewriting its annotations; a deleted Node disappears from its peers.
 */
@RequiresPrivileges(commands = {"ip", "bridge", "sysctl"})
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class KubeModeDaemonTest {
    private static final String P = "flannel.alpha.coreos.com/";
    private static final NetworkConfig DUAL = NetworkConfig.parse("{\"Network\":\"10.88.0.0/16\",\"EnableIPv6\":true,"
            + "\"IPv6Network\":\"fd00:88::/56\",\"Backend\":{\"Type\":\"vxlan\"}}");

    private static String mac(OverlayHosts.Host h, String device) {
        return h.ns().execChecked("cat", "/sys/class/net/" + device + "/address").stdout().strip();
    }

    private static String fdb(OverlayHosts.Host h, String device) {
        return h.ns().execChecked("bridge", "fdb", "show", "dev", device).stdout();
    }

    private static String neigh(OverlayHosts.Host h, String device) {
        return h.ns().execChecked("ip", "neigh", "show", "dev", device).stdout();
    }

    @Test
    void interoperatesWithFlannelsAnnotationsKeepsItsMacsAndForgetsDeletedNodes() throws Exception {
        try (TestApiServer api = TestApiServer.start(); OverlayHosts hosts = OverlayHosts.kube(api, DUAL, 2)) {
            OverlayHosts.Host a = hosts.host(0);
            OverlayHosts.Host b = hosts.host(1);
            for (OverlayHosts.Host h : hosts.hosts()) {
                h.start(false);
                h.addPod();
                h.agent.tcpServe(8080, h.nodeName);
            }
            for (String to : b.podIps()) {
                eventually(Duration.ofSeconds(15), () -> assertThat(a.agent.tcpGet(to, 8080, Duration.ofSeconds(2)).isOk()).isTrue());
            }

            // a node running flanneld, as its annotations say
            api.create(new V1Node().metadata(new V1ObjectMeta().name("flanneld-node").annotations(Map.of(
                            P + "kube-subnet-manager", "true", P + "backend-type", "vxlan",
                            P + "backend-data", "{\"VNI\":1,\"VtepMAC\":\"aa:bb:cc:dd:00:01\"}",
                            P + "backend-v6-data", "{\"VNI\":1,\"VtepMAC\":\"aa:bb:cc:dd:00:02\"}",
                            P + "public-ip", "192.168.77.50", P + "public-ipv6", "fd77::50")))
                    .spec(new V1NodeSpec().podCIDR("10.88.50.0/24").podCIDRs(List.of("10.88.50.0/24", "fd00:88:0:50::/64"))));
            eventually(Duration.ofSeconds(10), () -> {
                assertThat(a.routes()).contains("10.88.50.0/24 via 10.88.50.0 dev flannel.1 onlink");
                assertThat(a.routes6()).contains("fd00:88:0:50::/64 via fd00:88:0:50:: dev flannel-v6.1");
                assertThat(fdb(a, "flannel.1")).contains("aa:bb:cc:dd:00:01 dst 192.168.77.50 self permanent");
                assertThat(fdb(a, "flannel-v6.1")).contains("aa:bb:cc:dd:00:02 dst fd77::50 self permanent");
                assertThat(neigh(a, "flannel.1")).contains("10.88.50.0 lladdr aa:bb:cc:dd:00:01 PERMANENT");
                assertThat(neigh(a, "flannel-v6.1")).contains("fd00:88:0:50:: lladdr aa:bb:cc:dd:00:02 PERMANENT");
            });
            assertThat(a.ns().execChecked("cat", "/proc/sys/net/ipv6/conf/flannel-v6.1/accept_ra").stdout().strip())
                    .as("router advertisements ignored, as flannel sets it").isEqualTo("0");

            // a reboot: the daemon stops and the devices are gone; the new ones carry the published MACs
            String mac4 = mac(a, "flannel.1");
            String mac6 = mac(a, "flannel-v6.1");
            assertThat(api.<V1Node>get(TestApiServer.Resource.NODES, null, a.nodeName).getMetadata().getAnnotations())
                    .containsEntry(P + "backend-data", "{\"VNI\":1,\"VtepMAC\":\"" + mac4 + "\"}")
                    .containsEntry(P + "backend-v6-data", "{\"VNI\":1,\"VtepMAC\":\"" + mac6 + "\"}");
            a.stop();
            a.ns().execChecked("ip", "link", "del", "flannel.1");
            a.ns().execChecked("ip", "link", "del", "flannel-v6.1");
            int patches = api.patchRequests();
            a.start(false);
            assertThat(mac(a, "flannel.1")).isEqualTo(mac4);
            assertThat(mac(a, "flannel-v6.1")).isEqualTo(mac6);
            // same annotations as before: only the NetworkUnavailable condition is patched
            assertThat(api.patchRequests()).isEqualTo(patches + 1);
            for (String to : b.podIps()) {
                eventually(Duration.ofSeconds(15), () -> {
                    ProbeResult r = a.agent.tcpGet(to, 8080, Duration.ofSeconds(2));
                    assertThat(r.isOk()).as("%s", r).isTrue();
                });
            }
            // b's entries for a never had to change
            assertThat(fdb(b, "flannel.1")).contains(mac4 + " dst " + a.link.ipv4());

            // b's Node is deleted: a forgets it in both families
            String bSubnet = b.subnet().toString();
            String bSubnet6 = b.subnet6().toString();
            String bMac = mac(b, "flannel.1");
            hosts.leave(b);
            eventually(Duration.ofSeconds(10), () -> {
                assertThat(a.routes()).doesNotContain(bSubnet);
                assertThat(a.routes6()).doesNotContain(bSubnet6);
                assertThat(fdb(a, "flannel.1")).doesNotContain(bMac);
                assertThat(neigh(a, "flannel.1")).doesNotContain(bSubnet.replace("/24", " "));
            });
            assertThat(a.routes()).contains("10.88.50.0/24 via 10.88.50.0 dev flannel.1 onlink");
        }
    }
}
