package dev.railyard.overlay.daemon;

import static dev.railyard.overlay.daemon.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.overlay.config.NetworkConfig;
import dev.railyard.overlay.etcd.EtcdCluster;
import dev.railyard.overlay.etcd.RequiresEtcd;
import dev.railyard.overlay.lease.EtcdSubnetManager;
import dev.railyard.overlay.lease.EtcdOptions;
import dev.railyard.testkit.ProbeResult;
import dev.railyard.testkit.RequiresPrivileges;
import dev.railyard.testkit.kubernetes.TestApiServer;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeCondition;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Pod traffic between two hosts for every backend and address family the kernel here carries (host-gw and vxlan
 * over IPv4, IPv6 and dual-stack; udp over IPv4), with leases from etcd and from Node objects alike: each pod
 * reaches the other over every family, with its own address (no NAT), and each host writes flannel's subnet.env.
 */
@RequiresEtcd
@RequiresPrivileges(commands = {"ip", "bridge", "sysctl", "ss"})
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class BackendFamilyMatrixTest {
    private static final Duration PROBE = Duration.ofSeconds(2);
    private static final AtomicInteger PREFIXES = new AtomicInteger();
    private static EtcdCluster etcd;
    private static TestApiServer api;

    @BeforeAll
    static void start() throws Exception {
        etcd = EtcdCluster.start(1);
        api = TestApiServer.start();
    }

    @AfterAll
    static void stop() {
        if (api != null) {
            api.close();
        }
        if (etcd != null) {
            etcd.close();
        }
    }

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (String store : List.of("etcd", "kube")) {
            for (String backend : List.of("host-gw", "vxlan")) {
                for (String family : List.of("ipv4", "ipv6", "dual")) {
                    b.add(Arguments.of(store, backend, family));
                }
            }
            b.add(Arguments.of(store, "udp", "ipv4"));
        }
        return b.build();
    }

    private static String config(String backend, String family) {
        int n = PREFIXES.incrementAndGet();
        String four = "\"Network\":\"10." + (100 + n) + ".0.0/16\"";
        String six = "\"EnableIPv6\":true,\"IPv6Network\":\"fd00:" + Integer.toHexString(n) + "::/48\"";
        String families = switch (family) {
            case "ipv4" -> four;
            case "ipv6" -> "\"EnableIPv4\":false," + six;
            default -> four + "," + six;
        };
        // udp is what a config without a Backend means
        String be = backend.equals("udp") ? "" : ",\"Backend\":{\"Type\":\"" + backend + "\"}";
        return "{" + families + be + "}";
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void podsReachEachOtherAcrossHosts(String store, String backend, String family) throws Exception {
        String json = config(backend, family);
        NetworkConfig config = NetworkConfig.parse(json);
        boolean v4 = config.enableIPv4();
        boolean v6 = config.enableIPv6();
        OverlayHosts hosts;
        if (store.equals("etcd")) {
            String prefix = "/matrix" + PREFIXES.incrementAndGet() + "/network";
            try (EtcdSubnetManager m = new EtcdSubnetManager(EtcdOptions.plain(etcd.clientUrls(), prefix))) {
                m.putNetworkConfig(json);
            }
            hosts = OverlayHosts.etcd(etcd, prefix, Duration.ofMinutes(5), v4, v6, 2);
        } else {
            hosts = OverlayHosts.kube(api, config, 2);
        }
        try (hosts) {
            for (OverlayHosts.Host h : hosts.hosts()) {
                h.start(false);
                h.addPod();
                h.agent.tcpServe(8080, "pod-" + h.ordinal);
            }
            OverlayHosts.Host a = hosts.host(0);
            OverlayHosts.Host b = hosts.host(1);
            String env = Files.readString(a.subnetFile);
            assertThat(env.contains("FLANNEL_SUBNET=")).isEqualTo(v4);
            assertThat(env.contains("FLANNEL_IPV6_SUBNET=")).isEqualTo(v6);
            if (v6) {
                assertThat(env).contains("FLANNEL_IPV6_NETWORK=" + config.ipv6Network() + "\n")
                        .contains("FLANNEL_IPV6_SUBNET=" + a.subnet6().addressAt(1) + "/" + a.subnet6().prefixLength() + "\n");
            }
            int mtu = switch (backend) {
                case "udp" -> 1500 - 28;
                case "vxlan" -> v6 ? 1500 - 70 : 1500 - 50;
                default -> 1500;
            };
            assertThat(env).contains("FLANNEL_MTU=" + mtu + "\n");
            if (backend.equals("vxlan")) {
                assertThat(a.ns().exec("ip", "link", "show", "flannel.1").succeeded()).isEqualTo(v4);
                assertThat(a.ns().exec("ip", "link", "show", "flannel-v6.1").succeeded()).isEqualTo(v6);
            }
            if (backend.equals("udp")) {
                assertThat(a.ns().execChecked("ip", "-d", "link", "show", "flannel0").stdout()).contains("tun");
                assertThat(a.ns().execChecked("ss", "-uln").stdout()).contains("192.168.77.1:8285");
            }
            for (OverlayHosts.Host client : List.of(a, b)) {
                OverlayHosts.Host server = client == a ? b : a;
                for (int f = 0; f < client.podIps().size(); f++) {
                    String from = client.podIps().get(f);
                    String to = server.podIps().get(f);
                    eventually(Duration.ofSeconds(15), () -> {
                        ProbeResult r = client.agent.tcpGet(to, 8080, PROBE);
                        assertThat(r.isOk()).as("%s -> %s: %s", from, to, r).isTrue();
                        assertThat(r.serverReply().clientIp()).isEqualTo(from);
                        assertThat(r.serverReply().serverName()).isEqualTo("pod-" + server.ordinal);
                    });
                }
            }
            if (store.equals("kube")) {
                V1Node node = api.get(TestApiServer.Resource.NODES, null, a.nodeName);
                Map<String, String> annotations = node.getMetadata().getAnnotations();
                assertThat(annotations).containsEntry("flannel.alpha.coreos.com/kube-subnet-manager", "true")
                        .containsEntry("flannel.alpha.coreos.com/backend-type", backend);
                if (v4) {
                    assertThat(annotations).containsEntry("flannel.alpha.coreos.com/public-ip", a.link.ipv4());
                }
                if (v6) {
                    assertThat(annotations).containsEntry("flannel.alpha.coreos.com/public-ipv6", a.link.ipv6());
                }
                if (backend.equals("vxlan") && v6) {
                    assertThat(annotations.get("flannel.alpha.coreos.com/backend-v6-data")).contains("\"VtepMAC\"");
                }
                assertThat(node.getStatus().getConditions()).filteredOn(c -> c.getType().equals("NetworkUnavailable"))
                        .singleElement().extracting(V1NodeCondition::getStatus, V1NodeCondition::getReason)
                        .containsExactly("False", "FlannelIsUp");
            }
        }
    }
}
