package dev.railyard.proxy.daemon.ops;

import dev.railyard.testkit.ManualClock;
import static dev.railyard.proxy.daemon.ops.TestSupport.T0;
import static dev.railyard.proxy.daemon.ops.TestSupport.get;
import static dev.railyard.proxy.daemon.ops.TestSupport.success;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonParser;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.sync.SyncResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Real HTTP on loopback. */
class OpsServerTest {
    private final ManualClock clock = new ManualClock(T0);
    private final ProxyHealth health = ProxyHealth.forSyncPeriod(Duration.ofSeconds(30), clock);
    private final ProxyMetrics metrics = new ProxyMetrics(clock);
    private OpsServer server;

    @AfterEach
    void tearDown() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void healthzAndLivezFollowTheProxyHealth() throws Exception {
        server = new OpsServer(at("127.0.0.1:0"), at("127.0.0.1:0"), health, metrics);
        String base = url(server.healthzAddress());
        health.started(IpFamily.V4);
        health.queued(IpFamily.V4);

        HttpResponse<String> ok = get(base + "/healthz");
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(ok.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
        assertThat(JsonParser.parseString(ok.body()).getAsJsonObject().get("nodeEligible").getAsBoolean()).isTrue();

        clock.advance(Duration.ofSeconds(60));
        assertThat(get(base + "/healthz").statusCode()).isEqualTo(503);
        HttpResponse<String> livez = get(base + "/livez");
        assertThat(livez.statusCode()).isEqualTo(503);
        assertThat(JsonParser.parseString(livez.body()).getAsJsonObject().keySet())
                .containsExactlyInAnyOrder("lastUpdated", "currentTime");

        health.accept(success(IpFamily.V4, SyncResult.Kind.FULL, clock.instant(), Duration.ofMillis(1)));
        assertThat(get(base + "/healthz").statusCode()).isEqualTo(200);
        assertThat(get(base + "/healthz/extra").statusCode()).isEqualTo(404);
        assertThat(get(base + "/metrics").statusCode()).as("metrics live on their own address").isEqualTo(404);
    }

    @Test
    void metricsAreServedAsPrometheusTextAndCountProbes() throws Exception {
        server = new OpsServer(at("127.0.0.1:0"), at("127.0.0.1:0"), health, metrics);
        assertThat(server.metricsAddress().getPort()).isNotEqualTo(server.healthzAddress().getPort());
        metrics.accept(success(IpFamily.V4, SyncResult.Kind.FULL, T0, Duration.ofMillis(7)));
        get(url(server.healthzAddress()) + "/healthz");

        HttpResponse<String> response = get(url(server.metricsAddress()) + "/metrics");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/plain; version=0.0.4");
        PrometheusText text = PrometheusText.parse(response.body());
        assertThat(text.value("kubeproxy_sync_full_proxy_rules_duration_seconds_count", Map.of("ip_family", "IPv4")))
                .isEqualTo(1);
        assertThat(text.value("kubeproxy_proxy_healthz_total", Map.of("code", "200"))).isEqualTo(1);
    }

    @Test
    void oneAddressForBothServesAllPaths() throws Exception {
        int port = TestSupport.freePort();
        String address = "127.0.0.1:" + port;
        server = new OpsServer(at(address), at(address), health, metrics);

        assertThat(get("http://" + address + "/healthz").statusCode()).isEqualTo(200);
        assertThat(get("http://" + address + "/metrics").statusCode()).isEqualTo(200);
    }

    @Test
    void anEmptyAddressDisablesThatServer() throws Exception {
        server = new OpsServer(at(""), at("127.0.0.1:0"), health, metrics);

        assertThat(server.healthzAddress()).isNull();
        assertThat(get(url(server.metricsAddress()) + "/healthz").statusCode()).isEqualTo(404);
    }

    @Test
    void aBusyPortFailsConstructionAndLeavesNothingOpen() throws Exception {
        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int free = TestSupport.freePort();
            assertThatThrownBy(() -> new OpsServer(at("127.0.0.1:" + free), at("127.0.0.1:" + busy.getLocalPort()),
                    health, metrics)).isInstanceOf(UncheckedIOException.class);
            // The healthz listener opened before the failure was closed again: its port can be bound.
            try (ServerSocket again = new ServerSocket(free, 1, InetAddress.getLoopbackAddress())) {
                assertThat(again.getLocalPort()).isEqualTo(free);
            }
        }
    }

    @Test
    void closeStopsListening() throws Exception {
        server = new OpsServer(at("127.0.0.1:0"), at(""), health, metrics);
        String base = url(server.healthzAddress());
        assertThat(get(base + "/healthz").statusCode()).isEqualTo(200);

        server.close();
        server = null;

        assertThatThrownBy(() -> get(base + "/healthz")).isInstanceOf(IOException.class);
    }

    private static String url(InetSocketAddress address) {
        return "http://127.0.0.1:" + address.getPort();
    }

    private static BindAddress at(String text) {
        return BindAddress.parse("test", text);
    }
}
