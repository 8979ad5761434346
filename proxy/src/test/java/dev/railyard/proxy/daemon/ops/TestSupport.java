package dev.railyard.proxy.daemon.ops;

import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePortName;
import dev.railyard.proxy.sync.StaleUdpEndpoint;
import dev.railyard.proxy.sync.SyncResult;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Shared fixtures: a settable clock, SyncResult builders and a bounded HTTP client. */
final class TestSupport {
    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private TestSupport() {
    }

    static SyncResult result(IpFamily family, SyncResult.Kind kind, Instant startedAt, String error,
                             Duration render, Duration restore) {
        return new SyncResult(family, kind, startedAt, error, render, restore, 1234, 10, 40, 5, 8, 2, 1, 3, 6,
                Set.of(), List.of(), Set.of(), Map.of(), null);
    }

    static SyncResult success(IpFamily family, SyncResult.Kind kind, Instant startedAt, Duration took) {
        return result(family, kind, startedAt, null, Duration.ZERO, took);
    }

    static SyncResult udpResult(IpFamily family, List<StaleUdpEndpoint> gone, Set<ServicePortName> newlyActive) {
        return udpResult(family, gone, newlyActive, null);
    }

    static SyncResult udpResult(IpFamily family, List<StaleUdpEndpoint> gone, Set<ServicePortName> newlyActive,
                                ProxyState state) {
        return new SyncResult(family, SyncResult.Kind.PARTIAL, T0, null, Duration.ZERO, Duration.ZERO, 0, 0, 0, 0,
                0, 0, 0, 0, 0, Set.of(), gone, newlyActive, Map.of(), state);
    }

    static HttpResponse<String> get(String url) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).GET().build();
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /** A loopback port that was free a moment ago (healthCheckNodePorts are fixed numbers, not port 0). */
    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
