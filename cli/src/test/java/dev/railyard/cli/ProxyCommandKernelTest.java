package dev.railyard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.RequiresPrivileges;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The railyard proxy command itself, with --manifests, programming a network namespace; then --cleanup. */
@RequiresPrivileges(commands = {"iptables-restore", "iptables-save", "iptables", "ip6tables-restore",
        "ip6tables-save", "ip6tables", "ip"})
class ProxyCommandKernelTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path manifests;

    @Test
    void programsFromAManifestDirectoryFollowsChangesStopsAndCleansUp() throws Exception {
        try (NetworkNamespace node = NetworkNamespace.create()) {
            node.execChecked("iptables", "-t", "nat", "-A", "POSTROUTING", "-s", "198.51.100.0/24",
                    "-j", "MASQUERADE");
            write("web.yaml", service("web", "10.96.0.10") + "---\n" + slice("web-1", "web", "10.244.1.5"));

            InProcessProxy proxy = InProcessProxy.start("--manifests", manifests.toString(), "--netns", node.name(),
                    "--hostname-override", "node-a", "--cluster-cidr", "10.244.0.0/16",
                    "--iptables-min-sync-period", "100ms", "--healthz-bind-address", "", "--metrics-bind-address", "");
            try {
                awaitNat(node, nat -> nat.contains("--to-destination 10.244.1.5:8080"), "web programmed");
                assertThat(nat(node)).contains("\"default/web cluster IP\"");

                write("web.yaml", service("web", "10.96.0.10") + "---\n" + slice("web-1", "web", "10.244.1.6"));
                awaitNat(node, nat -> nat.contains("--to-destination 10.244.1.6:8080")
                        && !nat.contains("10.244.1.5"), "the changed file followed");
            } finally {
                proxy.stop();
            }
            proxy.assertStoppedCleanly();
            assertThat(nat(node)).as("rules stay after stop").contains("--to-destination 10.244.1.6:8080");

            StringWriter cleanupErr = new StringWriter();
            picocli.CommandLine cleanup = Railyard.commandLine();
            cleanup.getSubcommands().get("proxy").setErr(new PrintWriter(cleanupErr));
            assertThat(cleanup.execute("proxy", "--cleanup", "--netns", node.name(), "--hostname-override", "node-a"))
                    .as("cleanup; stderr: %s", cleanupErr).isZero();
            String all = node.execChecked("iptables-save").stdout() + node.execChecked("ip6tables-save").stdout();
            assertThat(all).doesNotContain("KUBE-").contains("-A POSTROUTING -s 198.51.100.0/24 -j MASQUERADE");
        }
    }

    /** The running command serves /healthz, /metrics and a service's health-check node port. */
    @Test
    void servesHealthzMetricsAndServiceHealthChecks() throws Exception {
        try (NetworkNamespace node = NetworkNamespace.create()) {
            int healthzPort = freePort();
            int metricsPort = freePort();
            int healthCheckPort = freePort();
            write("lb.yaml", localLoadBalancer("lb", "10.96.0.20", healthCheckPort) + "---\n"
                    + slice("lb-1", "lb", "10.244.1.7").replace("conditions: {ready: true}\n",
                    "conditions: {ready: true}\n  nodeName: node-a\n"));

            InProcessProxy proxy = InProcessProxy.start("--manifests", manifests.toString(), "--netns", node.name(),
                    "--hostname-override", "node-a", "--cluster-cidr", "10.244.0.0/16",
                    "--iptables-min-sync-period", "100ms", "--healthz-bind-address", "127.0.0.1:" + healthzPort,
                    "--metrics-bind-address", "127.0.0.1:" + metricsPort);
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            try {
                awaitNat(node, nat -> nat.contains("--to-destination 10.244.1.7:8080"), "lb programmed");
                HttpResponse<String> healthz = awaitGet(http, healthzPort, "/healthz", 200);
                assertThat(healthz.body()).contains("lastUpdated");
                HttpResponse<String> metrics = awaitGet(http, metricsPort, "/metrics", 200);
                assertThat(metrics.body()).contains("kubeproxy_sync_proxy_rules_last_timestamp_seconds");
                HttpResponse<String> serviceHealth = awaitGet(http, healthCheckPort, "/", 200);
                assertThat(serviceHealth.body()).contains("\"localEndpoints\": 1");
            } finally {
                proxy.stop();
            }
            proxy.assertStoppedCleanly();
            for (int port : new int[] {healthzPort, metricsPort, healthCheckPort}) {
                try (ServerSocket again = new ServerSocket(port, 50, InetAddress.getLoopbackAddress())) {
                    assertThat(again.getLocalPort()).as("port %d released on stop", port).isEqualTo(port);
                }
            }
        }
    }

    /** As in a DaemonSet: a separate JVM, stopped by SIGTERM, which stops it cleanly and leaves the rules. */
    @Test
    void sigtermStopsTheProcessAndLeavesTheRules() throws Exception {
        try (NetworkNamespace node = NetworkNamespace.create()) {
            write("web.yaml", service("web", "10.96.0.10") + "---\n" + slice("web-1", "web", "10.244.1.5"));
            Path log = Files.createTempFile("railyard-proxy", ".log");
            String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process process = new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"),
                    Railyard.class.getName(), "proxy", "--manifests", manifests.toString(), "--netns", node.name(),
                    "--hostname-override", "node-a", "--iptables-min-sync-period", "100ms",
                    "--healthz-bind-address", "127.0.0.1:" + freePort(),
                    "--metrics-bind-address", "127.0.0.1:" + freePort())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                awaitNat(node, nat -> nat.contains("--to-destination 10.244.1.5:8080"), "web programmed");
                String before = node.execChecked("iptables-save", "-t", "nat").stdout()
                        .replaceAll("(?m)^#.*\n", "");
                process.destroy(); // SIGTERM
                assertThat(process.waitFor(WAIT.toMillis(), TimeUnit.MILLISECONDS))
                        .as("exited after SIGTERM").isTrue();
                assertThat(Files.readString(log)).contains("stopping", "proxy stopped; rules left in place");
                assertThat(node.execChecked("iptables-save", "-t", "nat").stdout().replaceAll("(?m)^#.*\n", ""))
                        .as("rules unchanged by the stop").isEqualTo(before);
            } finally {
                process.destroyForcibly();
                process.waitFor(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                Files.deleteIfExists(log);
            }
        }
    }

    private void write(String name, String text) throws Exception {
        Path temp = Files.createTempFile(manifests, ".tmp", ".part");
        Files.writeString(temp, text);
        Files.move(temp, manifests.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static String service(String name, String clusterIp) {
        return "apiVersion: v1\nkind: Service\nmetadata:\n  name: " + name + "\nspec:\n  type: ClusterIP\n"
                + "  clusterIP: " + clusterIp + "\n  clusterIPs: [" + clusterIp + "]\n"
                + "  ports:\n  - protocol: TCP\n    port: 80\n    targetPort: 8080\n";
    }

    private static String localLoadBalancer(String name, String clusterIp, int healthCheckNodePort) {
        return "apiVersion: v1\nkind: Service\nmetadata:\n  name: " + name + "\nspec:\n  type: LoadBalancer\n"
                + "  clusterIP: " + clusterIp + "\n  clusterIPs: [" + clusterIp + "]\n"
                + "  externalTrafficPolicy: Local\n  healthCheckNodePort: " + healthCheckNodePort + "\n"
                + "  ports:\n  - protocol: TCP\n    port: 80\n    targetPort: 8080\n    nodePort: 30080\n";
    }

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static HttpResponse<String> awaitGet(HttpClient http, int port, String path, int status)
            throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        HttpResponse<String> last = null;
        Exception failure = null;
        while (System.nanoTime() < deadline) {
            try {
                last = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                if (last.statusCode() == status) {
                    return last;
                }
            } catch (java.io.IOException e) {
                failure = e;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("timed out after " + WAIT + " waiting for " + status + " from " + path + " on "
                + port + "; last: " + (last == null ? failure : last.statusCode() + " " + last.body()));
    }

    private static String slice(String name, String service, String address) {
        return "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: " + name + "\n"
                + "  labels:\n    kubernetes.io/service-name: " + service + "\naddressType: IPv4\n"
                + "ports:\n- protocol: TCP\n  port: 8080\nendpoints:\n- addresses: [" + address + "]\n"
                + "  conditions: {ready: true}\n";
    }

    private static String nat(NetworkNamespace node) {
        return node.execChecked("iptables-save", "-t", "nat").stdout();
    }

    private static void awaitNat(NetworkNamespace node, Predicate<String> condition, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.test(nat(node))) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("timed out after " + WAIT + " waiting for: " + what);
    }
}
