package dev.railyard.proxy.daemon.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * kube-proxy's two operational HTTP servers: /healthz and /livez on the healthz bind address (default
 * 0.0.0.0:10256), /metrics on the metrics bind address (default 127.0.0.1:10249). An empty address disables that
 * server, as in kube-proxy. When both addresses are the same non-zero port, one server serves all three paths.
 */
public final class OpsServer implements AutoCloseable {
    private final ProxyHealth health;
    private final ProxyMetrics metrics;
    private final ExecutorService executor;
    private final HttpServer healthzServer;
    private final HttpServer metricsServer;

    /**
     * Binds both servers and starts serving.
     *
     * @param healthzBindAddress where /healthz and /livez listen, or {@link BindAddress#DISABLED}
     * @param metricsBindAddress where /metrics listens (the same server when the address is the same)
     * @throws UncheckedIOException when an address cannot be bound (e.g. port in use)
     */
    public OpsServer(BindAddress healthzBindAddress, BindAddress metricsBindAddress, ProxyHealth health,
                     ProxyMetrics metrics) {
        this.health = Objects.requireNonNull(health, "health");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        // Two threads: a probe must not wait behind a slow /metrics scrape.
        this.executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "railyard-ops-http");
            t.setDaemon(true);
            return t;
        });
        boolean shared = !healthzBindAddress.disabled() && healthzBindAddress.equals(metricsBindAddress)
                && healthzBindAddress.port() != 0;
        HttpServer healthzServer = null;
        HttpServer metricsServer = null;
        try {
            if (!healthzBindAddress.disabled()) {
                healthzServer = bind(healthzBindAddress);
                healthzServer.createContext("/healthz", exact("/healthz", this::healthz));
                healthzServer.createContext("/livez", exact("/livez", this::livez));
            }
            if (shared) {
                metricsServer = healthzServer;
            } else if (!metricsBindAddress.disabled()) {
                metricsServer = bind(metricsBindAddress);
            }
            if (metricsServer != null) {
                metricsServer.createContext("/metrics", exact("/metrics", this::metrics));
            }
        } catch (RuntimeException e) {
            if (healthzServer != null) {
                // A listening channel registered with a selector is only really closed by the next select(),
                // which the dispatcher thread runs: stopping a never-started server would leak the port.
                healthzServer.start();
                healthzServer.stop(0);
            }
            executor.shutdownNow();
            throw e;
        }
        this.healthzServer = healthzServer;
        this.metricsServer = metricsServer;
        if (healthzServer != null) {
            healthzServer.start();
        }
        if (metricsServer != null && metricsServer != healthzServer) {
            metricsServer.start();
        }
    }

    /** The bound healthz address (with the real port when 0 was asked for); null when disabled. */
    public InetSocketAddress healthzAddress() {
        return healthzServer == null ? null : healthzServer.getAddress();
    }

    /** The bound metrics address; null when disabled. */
    public InetSocketAddress metricsAddress() {
        return metricsServer == null ? null : metricsServer.getAddress();
    }

    @Override
    public void close() {
        stop(healthzServer);
        if (metricsServer != healthzServer) {
            stop(metricsServer);
        }
        executor.shutdownNow();
    }

    private HttpServer bind(BindAddress address) {
        try {
            HttpServer server = HttpServer.create(address.socketAddress(), 16);
            server.setExecutor(executor);
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + address + ": " + e.getMessage(), e);
        }
    }

    private static void stop(HttpServer server) {
        if (server != null) {
            server.stop(0);
        }
    }

    private void healthz(HttpExchange exchange) throws IOException {
        ProxyHealth.Status status = health.healthzStatus();
        metrics.healthProbe(ProxyMetrics.HealthProbe.HEALTHZ, status.httpStatus());
        respond(exchange, status.httpStatus(), "application/json", status.healthzJson());
    }

    private void livez(HttpExchange exchange) throws IOException {
        ProxyHealth.Status status = health.status();
        metrics.healthProbe(ProxyMetrics.HealthProbe.LIVEZ, status.httpStatus());
        respond(exchange, status.httpStatus(), "application/json", status.livezJson());
    }

    private void metrics(HttpExchange exchange) throws IOException {
        respond(exchange, 200, ProxyMetrics.CONTENT_TYPE, metrics.scrape());
    }

    /** HttpServer contexts match by prefix; kube-proxy's mux answers only the exact paths. */
    private static HttpHandler exact(String path, HttpHandler handler) {
        return exchange -> {
            if (!exchange.getRequestURI().getPath().equals(path)) {
                respond(exchange, 404, "text/plain; charset=utf-8", "404 page not found\n");
                return;
            }
            handler.handle(exchange);
        };
    }

    static void respond(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        try {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", contentType);
            exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
            boolean head = "HEAD".equals(exchange.getRequestMethod());
            exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
            if (!head) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(bytes);
                }
            }
        } finally {
            exchange.close();
        }
    }
}
