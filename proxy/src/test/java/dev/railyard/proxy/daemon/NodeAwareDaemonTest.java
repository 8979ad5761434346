package dev.railyard.proxy.daemon;

import static dev.railyard.proxy.daemon.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.daemon.ops.BindAddress;
import dev.railyard.proxy.daemon.ops.OpsServer;
import dev.railyard.proxy.daemon.ops.ProxyHealth;
import dev.railyard.proxy.daemon.ops.ProxyMetrics;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.source.kubernetes.ApiClients;
import dev.railyard.proxy.source.kubernetes.KubernetesSource;
import dev.railyard.proxy.source.kubernetes.KubernetesSourceSettings;
import dev.railyard.proxy.source.kubernetes.RetryBackoff;
import dev.railyard.proxy.sync.SyncResult;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.RequiresPrivileges;
import dev.railyard.testkit.kubernetes.TestApiServer;
import io.kubernetes.client.openapi.models.V1EndpointHints;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1ForZone;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeSpec;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1ServiceCIDR;
import io.kubernetes.client.openapi.models.V1ServiceCIDRSpec;
import io.kubernetes.client.openapi.models.V1Taint;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The daemon and this node's Node (and the cluster's ServiceCIDRs) through the test API server: a zone label
 * change re-selects topology-hinted endpoints without a restart, the ToBeDeletedByClusterAutoscaler taint makes
 * /healthz answer 503 (and /livez still 200) until it is removed, and a ServiceCIDR change reaches nftables mode's
 * drop of unallocated cluster IPs.
 */
@RequiresPrivileges(commands = {"iptables-restore", "iptables-save", "ip6tables-restore", "nft", "ip"})
class NodeAwareDaemonTest {
    private static final String NODE = "node-a";
    private static final Pattern DNAT = Pattern.compile("--to-destination (10\\.244\\.\\d+\\.\\d+):8080");
    private final HttpClient http = HttpClient.newHttpClient();

    private static V1Node node(String zone, boolean tainted) {
        V1NodeSpec spec = new V1NodeSpec().podCIDRs(List.of("10.244.1.0/24"));
        if (tainted) {
            spec.taints(List.of(new V1Taint().key("ToBeDeletedByClusterAutoscaler").value("1700000000")
                    .effect("NoSchedule")));
        }
        return new V1Node().apiVersion("v1").kind("Node")
                .metadata(new V1ObjectMeta().name(NODE).labels(Map.of("topology.kubernetes.io/zone", zone)))
                .spec(spec);
    }

    private static V1EndpointSlice zonedSlice() {
        V1EndpointSlice slice = ApiObjects.slice("web-1", "web", NODE, 8080, "10.244.1.2", "10.244.2.2");
        slice.getEndpoints().get(0).nodeName("node-a").hints(new V1EndpointHints()
                .forZones(List.of(new V1ForZone().name("zone-a"))));
        slice.getEndpoints().get(1).nodeName("node-b").hints(new V1EndpointHints()
                .forZones(List.of(new V1ForZone().name("zone-b"))));
        return slice;
    }

    private static ProxyDaemon start(ProxyDaemonSettings settings, TestApiServer apiServer, List<SyncResult> results,
                                     ProxyHealth health) throws Exception {
        KubernetesSourceSettings sourceSettings = KubernetesSourceSettings.defaults()
                .withBackoff(new RetryBackoff(Duration.ofMillis(100), Duration.ofMillis(500)))
                .withNode(NODE).withServiceCidrs(true);
        return ProxyDaemon.start(settings, "api-server",
                handler -> {
                    try {
                        return new KubernetesSource(ApiClients.fromMaster(apiServer.url()), handler, sourceSettings);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, result -> {
                    results.add(result);
                    health.accept(result);
                }, health::queued, health::started, health::nodeChanged);
    }

    private static List<String> endpointsOfWeb(NetworkNamespace node) {
        String nat = node.execChecked("iptables-save", "-t", "nat").stdout();
        Matcher matcher = DNAT.matcher(nat);
        List<String> found = new java.util.ArrayList<>();
        while (matcher.find()) {
            found.add(matcher.group(1));
        }
        return found;
    }

    private HttpResponse<String> get(OpsServer ops, String path) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + ops.healthzAddress().getPort() + path);
        return http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void zoneLabelChangesApplyWithoutRestartAndTheAutoscalerTaintFailsHealthz() throws Exception {
        try (NetworkNamespace node = NetworkNamespace.create(); TestApiServer apiServer = TestApiServer.start()) {
            apiServer.create(node("zone-a", false));
            apiServer.create(ApiObjects.service("web", "10.96.0.10", 80));
            apiServer.create(zonedSlice());
            ProxyDaemonSettings settings = new ProxyDaemonSettings(NODE,
                    List.of(RenderConfig.builder(IpFamily.V4).nodeName(NODE).build()), TestDaemons.QUICK,
                    node.commandPrefix(), Duration.ofSeconds(10));
            ProxyHealth health = ProxyHealth.forSyncPeriod(Duration.ofMinutes(5), Clock.systemUTC());
            ProxyMetrics metrics = new ProxyMetrics();
            List<SyncResult> results = new CopyOnWriteArrayList<>();
            try (OpsServer ops = new OpsServer(BindAddress.parse("test", "127.0.0.1:0"),
                    BindAddress.parse("test", "127.0.0.1:0"), health, metrics);
                 ProxyDaemon daemon = start(settings, apiServer, results, health)) {
                await(() -> endpointsOfWeb(node).equals(List.of("10.244.1.2")), "zone-a: only zone-a's endpoint");

                apiServer.update(node("zone-c", false));
                await(() -> results.stream().anyMatch(r -> r.succeeded() && r.kind() == SyncResult.Kind.FULL
                        && r.state().zone().equals("zone-c")), "a full sync for zone-c");
                assertThat(endpointsOfWeb(node)).as("zone-c (no hints for it): both endpoints").hasSize(2);

                assertThat(get(ops, "/healthz").statusCode()).isEqualTo(200);
                apiServer.update(node("zone-c", true));
                await(() -> status(ops, "/healthz") == 503, "tainted node: /healthz 503");
                HttpResponse<String> healthz = get(ops, "/healthz");
                assertThat(healthz.body()).contains("\"nodeEligible\": false");
                assertThat(get(ops, "/livez").statusCode()).as("/livez keeps its meaning").isEqualTo(200);
                assertThat(health.isHealthy()).as("service health checks ignore the node").isTrue();

                apiServer.update(node("zone-c", false));
                await(() -> status(ops, "/healthz") == 200, "taint removed: /healthz 200");
                assertThat(get(ops, "/healthz").body()).contains("\"nodeEligible\": true");
                assertThat(metrics.scrape()).contains("kubeproxy_proxy_healthz_total{code=\"503\"}")
                        .contains("kubeproxy_proxy_healthz_total{code=\"200\"}")
                        .contains("kubeproxy_proxy_livez_total{code=\"200\"}");
            }
        }
    }

    private int status(OpsServer ops, String path) {
        try {
            return get(ops, path).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    @Test
    void serviceCidrsFromTheApiServerReachNftablesModesUnallocatedDrop() throws Exception {
        try (NetworkNamespace node = NetworkNamespace.create(); TestApiServer apiServer = TestApiServer.start()) {
            apiServer.create(ApiObjects.service("web", "10.96.0.10", 80));
            V1ServiceCIDR cidr = new V1ServiceCIDR().apiVersion("networking.k8s.io/v1").kind("ServiceCIDR")
                    .metadata(new V1ObjectMeta().name("kubernetes"))
                    .spec(new V1ServiceCIDRSpec().cidrs(List.of("10.96.0.0/16", "fd00:96::/112")));
            apiServer.create(cidr);
            ProxyDaemonSettings settings = new ProxyDaemonSettings(NODE,
                    List.of(RenderConfig.builder(IpFamily.V4).nodeName(NODE).build()), TestDaemons.QUICK,
                    node.commandPrefix(), Duration.ofSeconds(10)).withNftables();
            ProxyHealth health = ProxyHealth.forSyncPeriod(Duration.ofMinutes(5), Clock.systemUTC());
            List<SyncResult> results = new CopyOnWriteArrayList<>();
            try (ProxyDaemon daemon = start(settings, apiServer, results, health)) {
                try {
                    await(() -> clusterIpsCheck(node).matches("(?s).*ip daddr \\{? ?10.96.0.0/16 ?}? drop.*"),
                            "10.96.0.0/16 dropped");
                } catch (AssertionError e) {
                    throw new AssertionError(e.getMessage() + "; cluster-ips-check: " + clusterIpsCheck(node)
                            + "; syncs: " + results.stream().map(r -> r.kind() + " " + r.error() + " "
                            + r.state().serviceCidrs()).toList(), e);
                }
                cidr.getSpec().cidrs(List.of("10.96.0.0/16", "172.50.0.0/16"));
                apiServer.update(cidr);
                // Not adjacent to 10.96.0.0/16, which nft would merge with it into one /15.
                await(() -> results.stream().anyMatch(r -> r.succeeded() && r.kind() == SyncResult.Kind.FULL
                        && List.of("10.96.0.0/16", "172.50.0.0/16").equals(r.state().serviceCidrs())),
                        "a full sync with the new CIDRs");
                assertThat(clusterIpsCheck(node)).contains("172.50.0.0/16");
                assertThat(clusterIpsCheck(node)).contains("10.96.0.0/16");
            }
        }
    }

    private static String clusterIpsCheck(NetworkNamespace node) {
        return node.exec("nft", "list", "chain", "ip", "kube-proxy", "cluster-ips-check").stdout();
    }
}
