package dev.railyard.proxy.daemon.ops;

import static dev.railyard.proxy.daemon.ops.TestSupport.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Real listeners on loopback. */
class ServiceHealthServersTest {
    private final AtomicBoolean proxyHealthy = new AtomicBoolean(true);
    private final ServiceHealthServers servers =
            new ServiceHealthServers(InetAddress.getLoopbackAddress(), proxyHealthy::get);

    @AfterEach
    void tearDown() {
        servers.close();
    }

    @Test
    void answersWithTheLocalEndpointCountAndClosesWhenTheServiceGoes() throws Exception {
        int port = TestSupport.freePort();
        String url = "http://127.0.0.1:" + port + "/";

        servers.sync(Map.of(port, new HealthCheckTarget("shop", "web", 0)));
        HttpResponse<String> none = get(url);
        assertThat(none.statusCode()).isEqualTo(503);
        assertThat(none.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(none.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
        assertThat(none.headers().firstValue("X-Load-Balancing-Endpoint-Weight")).hasValue("0");
        JsonObject body = JsonParser.parseString(none.body()).getAsJsonObject();
        assertThat(body.getAsJsonObject("service").get("namespace").getAsString()).isEqualTo("shop");
        assertThat(body.getAsJsonObject("service").get("name").getAsString()).isEqualTo("web");
        assertThat(body.get("localEndpoints").getAsInt()).isEqualTo(0);
        assertThat(body.get("serviceProxyHealthy").getAsBoolean()).isTrue();

        servers.sync(Map.of(port, new HealthCheckTarget("shop", "web", 2)));
        HttpResponse<String> two = get(url);
        assertThat(two.statusCode()).isEqualTo(200);
        assertThat(two.headers().firstValue("X-Load-Balancing-Endpoint-Weight")).hasValue("2");
        assertThat(JsonParser.parseString(two.body()).getAsJsonObject().get("localEndpoints").getAsInt()).isEqualTo(2);
        assertThat(get("http://127.0.0.1:" + port + "/any/path").statusCode()).isEqualTo(200);

        servers.sync(Map.of());
        assertThat(servers.openPorts()).isEmpty();
        assertThatThrownBy(() -> get(url)).isInstanceOf(IOException.class);
    }

    @Test
    void anUnhealthyProxyAnswers503EvenWithLocalEndpoints() throws Exception {
        int port = TestSupport.freePort();
        servers.sync(Map.of(port, new HealthCheckTarget("shop", "web", 3)));
        proxyHealthy.set(false);

        HttpResponse<String> response = get("http://127.0.0.1:" + port + "/");

        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(JsonParser.parseString(response.body()).getAsJsonObject().get("serviceProxyHealthy")
                .getAsBoolean()).isFalse();
    }

    @Test
    void bodyIsKubeProxysByteForByte() {
        assertThat(ServiceHealthServers.body(new HealthCheckTarget("ns", "svc", 1), true)).isEqualTo(
                "{\n\t\"service\": {\n\t\t\"namespace\": \"ns\",\n\t\t\"name\": \"svc\"\n\t},\n"
                        + "\t\"localEndpoints\": 1,\n\t\"serviceProxyHealthy\": true\n}");
    }

    @Test
    void aBusyPortIsRetriedByTheNextSync() throws Exception {
        int port;
        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = busy.getLocalPort();
            servers.sync(Map.of(port, new HealthCheckTarget("shop", "web", 1)));
            assertThat(servers.openPorts()).isEmpty();
        }

        servers.sync(Map.of(port, new HealthCheckTarget("shop", "web", 1)));

        assertThat(servers.openPorts()).containsExactly(port);
        assertThat(get("http://127.0.0.1:" + port + "/").statusCode()).isEqualTo(200);
    }

    @Test
    void aPortHandedToAnotherServiceAnswersForTheNewOne() throws Exception {
        int port = TestSupport.freePort();
        servers.sync(Map.of(port, new HealthCheckTarget("shop", "web", 1)));

        servers.sync(Map.of(port, new HealthCheckTarget("shop", "api", 1)));

        JsonObject body = JsonParser.parseString(get("http://127.0.0.1:" + port + "/").body()).getAsJsonObject();
        assertThat(body.getAsJsonObject("service").get("name").getAsString()).isEqualTo("api");
    }

    @Test
    void manyPortsAreServedByOneThread() throws Exception {
        Map<Integer, HealthCheckTarget> wanted = new java.util.HashMap<>();
        for (int i = 0; i < 60; i++) {
            wanted.put(TestSupport.freePort(), new HealthCheckTarget("shop", "svc-" + i, i % 3));
        }

        servers.sync(wanted);

        assertThat(servers.openPorts()).containsExactlyInAnyOrderElementsOf(wanted.keySet());
        for (Map.Entry<Integer, HealthCheckTarget> entry : wanted.entrySet()) {
            HttpResponse<String> response = get("http://127.0.0.1:" + entry.getKey() + "/");
            assertThat(response.statusCode()).isEqualTo(entry.getValue().localEndpoints() > 0 ? 200 : 503);
            assertThat(JsonParser.parseString(response.body()).getAsJsonObject().getAsJsonObject("service")
                    .get("name").getAsString()).isEqualTo(entry.getValue().name());
        }
        assertThat(Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("railyard-service-health"))).hasSize(1);
    }

    @Test
    void targetsCountDistinctReadyLocalEndpointIpsOverPorts() {
        ServicePortName http = ServicePortName.of("shop", "web", "http", Protocol.TCP);
        ServicePortName https = ServicePortName.of("shop", "web", "https", Protocol.TCP);
        ServicePortName other = ServicePortName.of("shop", "db", "", Protocol.TCP);
        ServicePort httpPort = ServicePort.builder(http, "10.96.0.10", 80).nodePort(30080)
                .externalPolicyLocal(true).healthCheckNodePort(32000).build();
        ServicePort httpsPort = ServicePort.builder(https, "10.96.0.10", 443).nodePort(30443)
                .externalPolicyLocal(true).healthCheckNodePort(32000).build();
        ServicePort dbPort = ServicePort.builder(other, "10.96.0.11", 5432).build();
        ProxyState state = ProxyState.of(IpFamily.V4, List.of(httpPort, httpsPort, dbPort), Map.of(
                http, List.of(
                        Endpoint.builder(http, "10.244.1.2", 8080).nodeName("node-a").build(),
                        Endpoint.builder(http, "10.244.1.3", 8080).nodeName("node-a").build(),
                        Endpoint.builder(http, "10.244.1.4", 8080).nodeName("node-a").ready(false)
                                .terminating(true).build(),
                        Endpoint.builder(http, "10.244.2.2", 8080).nodeName("node-b").build()),
                https, List.of(Endpoint.builder(https, "10.244.1.2", 8443).nodeName("node-a").build()),
                other, List.of(Endpoint.builder(other, "10.244.1.9", 5432).nodeName("node-a").build())));

        Map<Integer, HealthCheckTarget> targets = HealthCheckTarget.of("node-a", state);

        assertThat(targets).containsExactly(Map.entry(32000, new HealthCheckTarget("shop", "web", 2)));
    }
}
