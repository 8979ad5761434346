package dev.railyard.proxy.daemon.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;

/**
 * kube-proxy's service health-check responders (pkg/proxy/healthcheck/service_health.go): one HTTP listener per
 * healthCheckNodePort, telling external load balancers whether this node has local endpoints for an
 * externalTrafficPolicy: Local service. 200 when it has some and the proxy is healthy, 503 otherwise, with
 * kube-proxy's JSON body and its {@code X-Load-Balancing-Endpoint-Weight} header (the local endpoint count).
 *
 * <p>{@link #sync} opens listeners for new ports, closes those of services that went away (or moved port) and
 * updates counts in place. A port that cannot be bound (e.g. in use) is logged and retried by the next sync, as
 * kube-proxy does. Thread-safe.
 */
public final class ServiceHealthServers implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ServiceHealthServers.class);

    private final InetAddress bindAddress;
    private final BooleanSupplier proxyHealthy;
    /** Open listeners by port, with what each serves; replaced whole so handlers read without locking. */
    private volatile Map<Integer, HealthCheckTarget> targets = Map.of();
    private final Map<Integer, HttpServer> servers = new HashMap<>();
    private boolean closed;

    /**
     * @param bindAddress  where to listen; null for all addresses (kube-proxy's default)
     * @param proxyHealthy the proxier's own health (e.g. {@link ProxyHealth#isHealthy}): an unhealthy proxy
     *                     answers 503 everywhere, so load balancers move away from a node with stale rules
     */
    public ServiceHealthServers(InetAddress bindAddress, BooleanSupplier proxyHealthy) {
        this.bindAddress = bindAddress;
        this.proxyHealthy = Objects.requireNonNull(proxyHealthy, "proxyHealthy");
    }

    /** Makes the listeners match {@code wanted} (healthCheckNodePort → service and local endpoint count). */
    public synchronized void sync(Map<Integer, HealthCheckTarget> wanted) {
        if (closed) {
            throw new IllegalStateException("closed");
        }
        Map<Integer, HealthCheckTarget> current = targets;
        Map<Integer, HealthCheckTarget> next = new HashMap<>();
        for (Map.Entry<Integer, HttpServer> open : Map.copyOf(servers).entrySet()) {
            HealthCheckTarget target = wanted.get(open.getKey());
            if (target == null || !target.serviceKey().equals(current.get(open.getKey()).serviceKey())) {
                LOG.info("closing health check port {} of {}", open.getKey(), current.get(open.getKey()).serviceKey());
                open.getValue().stop(0);
                servers.remove(open.getKey());
            }
        }
        for (Map.Entry<Integer, HealthCheckTarget> entry : wanted.entrySet()) {
            int port = entry.getKey();
            if (!servers.containsKey(port)) {
                HttpServer server = open(port, entry.getValue());
                if (server == null) {
                    continue;
                }
                servers.put(port, server);
            }
            next.put(port, entry.getValue());
        }
        targets = Map.copyOf(next);
    }

    /** Ports with an open listener. */
    public synchronized Set<Integer> openPorts() {
        return new TreeSet<>(servers.keySet());
    }

    @Override
    public synchronized void close() {
        closed = true;
        servers.values().forEach(server -> server.stop(0));
        servers.clear();
        targets = Map.of();
    }

    private HttpServer open(int port, HealthCheckTarget target) {
        InetSocketAddress address = bindAddress == null ? new InetSocketAddress(port)
                : new InetSocketAddress(bindAddress, port);
        try {
            HttpServer server = HttpServer.create(address, 16);
            // The handler looks the port up on each request: counts change without reopening the listener.
            server.createContext("/", exchange -> answer(exchange, port));
            server.start(); // default executor: the listener's own dispatcher thread, enough for probes
            LOG.info("opened health check port {} for {}", port, target.serviceKey());
            return server;
        } catch (IOException e) {
            LOG.error("cannot open health check port {} for {}: {} (retrying on the next sync)", port,
                    target.serviceKey(), e.getMessage());
            return null;
        }
    }

    private void answer(HttpExchange exchange, int port) throws IOException {
        HealthCheckTarget target = targets.get(port);
        if (target == null) { // closed between accept and now
            exchange.close();
            return;
        }
        boolean healthy = proxyHealthy.getAsBoolean();
        int count = target.localEndpoints();
        exchange.getResponseHeaders().set("X-Load-Balancing-Endpoint-Weight", Integer.toString(count));
        OpsServer.respond(exchange, count > 0 && healthy ? 200 : 503, "application/json", body(target, healthy));
    }

    /** kube-proxy's body, byte for byte (its dedented template keeps tab indentation). */
    static String body(HealthCheckTarget target, boolean proxyHealthy) {
        return "{\n\t\"service\": {\n\t\t\"namespace\": " + quote(target.namespace()) + ",\n\t\t\"name\": "
                + quote(target.name()) + "\n\t},\n\t\"localEndpoints\": " + target.localEndpoints()
                + ",\n\t\"serviceProxyHealthy\": " + proxyHealthy + "\n}";
    }

    private static String quote(String s) {
        // Namespaces and names are DNS labels: nothing to escape beyond what is checked here.
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
