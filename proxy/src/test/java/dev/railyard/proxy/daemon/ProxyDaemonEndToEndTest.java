package dev.railyard.proxy.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.apply.IptablesCleanup;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.testkit.kubernetes.TestApiServer;
import dev.railyard.proxy.sync.SyncResult;
import dev.railyard.testkit.AgentHandle;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.ProbeResult;
import dev.railyard.testkit.RequiresPrivileges;
import io.kubernetes.client.openapi.models.V1Service;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

import static dev.railyard.proxy.daemon.ApiObjects.service;
import static dev.railyard.proxy.daemon.ApiObjects.slice;
import static dev.railyard.proxy.daemon.Awaits.await;
import static dev.railyard.proxy.daemon.Awaits.awaitOk;
import static dev.railyard.proxy.daemon.Awaits.awaitQuiet;
import static dev.railyard.proxy.daemon.Awaits.indexOf;
import static dev.railyard.proxy.daemon.EndToEndCluster.CLIENT_POD;
import static dev.railyard.proxy.daemon.EndToEndCluster.DUAL_STACK_WEB_MANIFEST;
import static dev.railyard.proxy.daemon.EndToEndCluster.NODE;
import static dev.railyard.proxy.daemon.EndToEndCluster.WEB_IP;
import static dev.railyard.proxy.daemon.EndToEndCluster.WEB_POD;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code railyard proxy} end to end: a list/watch API server on loopback, the daemon in this JVM programming a
 * network namespace through the command prefix, and real traffic from a pod through the rules it wrote.
 *
 * <pre>
 *   client 10.244.2.2/24 ─── 10.244.2.1 ┐ node "node-a" (ip_forward=1): the daemon's rules
 *   web    10.244.1.2/24 ─── 10.244.1.1 ┘
 * </pre>
 */
@RequiresPrivileges(commands = {"iptables-restore", "iptables-save", "iptables", "ip6tables-restore",
        "ip6tables-save", "ip6tables", "ip"})
class ProxyDaemonEndToEndTest {
    private static final Pattern SEP_DNAT = Pattern.compile("(?m)^-A (KUBE-SEP-\\w+) .*--to-destination "
            + Pattern.quote(WEB_POD) + ":8080$");

    @Test
    void programsTheClusterFollowsChangesSurvivesRestartsAndCleansUp() throws Exception {
        try (NetworkNamespace node = NetworkNamespace.create();
             NetworkNamespace webNs = NetworkNamespace.create();
             NetworkNamespace clientNs = NetworkNamespace.create();
             TestApiServer apiServer = TestApiServer.start()) {
            EndToEndCluster.link(node, webNs, clientNs);
            // Someone else's rules, which the proxy and its cleanup must leave alone.
            node.execChecked("iptables", "-t", "filter", "-N", "UNRELATED");
            node.execChecked("iptables", "-t", "filter", "-A", "INPUT", "-s", "192.0.2.99", "-j", "UNRELATED");
            node.execChecked("iptables", "-t", "nat", "-A", "POSTROUTING", "-s", "198.51.100.0/24",
                    "-j", "MASQUERADE");

            EndToEndCluster.createWebAndDb(apiServer);

            List<SyncResult> results = new CopyOnWriteArrayList<>();
            List<ProxyDaemon> daemons = new ArrayList<>();
            ProxyDaemon daemon = start(node, apiServer, results);
            daemons.add(daemon);
            try (AgentHandle web = webNs.startAgent(); AgentHandle client = clientNs.startAgent()) {
                web.tcpServe(8080, "web");
                awaitNat(node, nat -> nat.contains("\"default/web cluster IP\"")
                        && SEP_DNAT.matcher(nat).find() && nat.contains("--to-destination 10.244.1.7:5432"),
                        "web and db programmed");
                String nat = natRules(node);
                assertThat(nat).containsPattern("(?m)^:KUBE-SVC-\\w+")
                        .containsPattern("(?m)^-A KUBE-SERVICES -d " + WEB_IP + "/32 .*-j KUBE-SVC-\\w+$");
                assertThat(daemon.isSynced()).isTrue();
                assertThat(daemon.lastResults()).containsKey(IpFamily.V4);
                assertThat(results).anyMatch(r -> r.succeeded() && r.kind() == SyncResult.Kind.FULL);

                ProbeResult probe = client.tcpGet(WEB_IP, 80, Duration.ofSeconds(2));
                assertThat(probe.isOk()).as("traffic through the service: %s", probe).isTrue();
                assertThat(probe.serverReply().serverName()).isEqualTo("web");
                assertThat(probe.serverReply().clientIp()).as("pod to pod keeps the source").isEqualTo(CLIENT_POD);

                // The endpoint goes away: its chain goes, and the service now rejects.
                Matcher sep = SEP_DNAT.matcher(nat);
                assertThat(sep.find()).isTrue();
                String sepChain = sep.group(1);
                apiServer.update(slice("web-1", "web", NODE, 8080));
                awaitNat(node, rules -> !rules.contains(":" + sepChain + " "), sepChain + " deleted");
                assertThat(natRules(node)).doesNotContain(sepChain);
                assertThat(node.execChecked("iptables-save", "-t", "filter").stdout())
                        .containsPattern("-d " + WEB_IP + "/32 .*default/web has no endpoints.* -j REJECT");
                assertThat(client.tcpGet(WEB_IP, 80, Duration.ofSeconds(2)).isOk())
                        .as("no endpoints: rejected").isFalse();
                apiServer.update(slice("web-1", "web", NODE, 8080, WEB_POD));
                awaitNat(node, rules -> SEP_DNAT.matcher(rules).find(), "endpoint back");
                assertThat(awaitOk(client, WEB_IP, 80)).isTrue();

                // An invalid Service is skipped and reported; everything else stays programmed.
                V1Service bad = service("bad", "10.96.0.12", 99999);
                apiServer.create(bad);
                await(() -> daemon.problems().stream().anyMatch(p -> p.object().contains("default/bad")),
                        "the invalid service reported");
                assertThat(daemon.problems()).singleElement()
                        .satisfies(p -> assertThat(p.field()).contains("port"));
                apiServer.create(service("cache", "10.96.0.13", 6379));
                apiServer.create(slice("cache-1", "cache", NODE, 6379, "10.244.1.8"));
                awaitNat(node, rules -> rules.contains("\"default/cache cluster IP\"")
                        && rules.contains("--to-destination 10.244.1.8:6379"), "a later service programmed");
                assertThat(natRules(node)).doesNotContain("default/bad").doesNotContain("10.96.0.12")
                        .contains("\"default/web cluster IP\"", "--to-destination 10.244.1.7:5432");

                // Someone else deletes web's service chain behind the daemon's back. The next partial sync (a new
                // service: the dispatch chain changes, so it is rewritten whole) jumps to web's chain without
                // declaring it, so iptables-restore fails; the retry is a full sync, which brings web back too.
                Matcher webJump = Pattern.compile("(?m)^-A KUBE-SERVICES -d " + Pattern.quote(WEB_IP)
                        + "/32 .*-j (KUBE-SVC-\\w+)$").matcher(natRules(node));
                assertThat(webJump.find()).isTrue();
                String webChain = webJump.group(1);
                node.execChecked("iptables", "-t", "nat", "-F", "KUBE-SERVICES");
                node.execChecked("iptables", "-t", "nat", "-F", webChain);
                node.execChecked("iptables", "-t", "nat", "-X", webChain);
                int syncsBefore = results.size();
                apiServer.create(service("queue", "10.96.0.14", 5672));
                apiServer.create(slice("queue-1", "queue", NODE, 5672, "10.244.1.9"));
                awaitNat(node, rules -> rules.contains("--to-destination 10.244.1.9:5672")
                        && rules.contains(":" + webChain + " "), "the new service and web's chain applied");
                await(() -> results.subList(syncsBefore, results.size()).stream()
                        .anyMatch(r -> r.succeeded() && r.kind() == SyncResult.Kind.FULL), "the full resync reported");
                List<SyncResult> recovery = List.copyOf(results.subList(syncsBefore, results.size()));
                int failed = indexOf(recovery, r -> !r.succeeded() && r.kind() == SyncResult.Kind.PARTIAL);
                int resynced = indexOf(recovery, r -> r.succeeded() && r.kind() == SyncResult.Kind.FULL);
                assertThat(failed).as("a failed partial sync in %s", recovery).isNotNegative();
                assertThat(recovery.get(failed).error()).contains(webChain);
                assertThat(resynced).as("then a full one").isGreaterThan(failed);
                assertThat(awaitOk(client, WEB_IP, 80)).as("web reachable again").isTrue();

                // The API server goes away and comes back: the rules do not change.
                String before = awaitQuiet(() -> ruleset(node), results);
                int listsBefore = apiServer.listRequests(TestApiServer.Resource.SERVICES);
                apiServer.stop();
                Thread.sleep(1500);
                assertThat(ruleset(node)).as("while the API server is down").isEqualTo(before);
                apiServer.restart();
                await(() -> apiServer.listRequests(TestApiServer.Resource.SERVICES) > listsBefore,
                        "the source relisted after the restart");
                assertThat(awaitQuiet(() -> ruleset(node), results)).as("after the API server came back").isEqualTo(before);
                assertThat(awaitOk(client, WEB_IP, 80)).isTrue();

                // The daemon stops (SIGTERM) and starts again: the rules stay, and the new one rewrites the same.
                daemon.close();
                assertThat(ruleset(node)).as("rules stay after stop").isEqualTo(before);
                results.clear();
                daemons.add(start(node, apiServer, results));
                await(() -> results.stream().anyMatch(r -> r.succeeded() && r.kind() == SyncResult.Kind.FULL),
                        "the restarted daemon's first full sync");
                assertThat(awaitQuiet(() -> ruleset(node), results)).as("after a daemon restart").isEqualTo(before);
            } finally {
                daemons.forEach(ProxyDaemon::close);
            }

            // --cleanup: ours gone, everyone else's kept.
            for (IpFamily family : IpFamily.values()) {
                IptablesCleanup.of(family).withCommandPrefix(node.commandPrefix()).run();
            }
            String all = node.execChecked("iptables-save").stdout();
            assertThat(all).doesNotContain("KUBE-")
                    .contains(":UNRELATED", "-A INPUT -s 192.0.2.99/32 -j UNRELATED",
                            "-A POSTROUTING -s 198.51.100.0/24 -j MASQUERADE");
            assertThat(node.execChecked("ip6tables-save").stdout()).doesNotContain("KUBE-");
            assertThat(IptablesCleanup.of(IpFamily.V4).withCommandPrefix(node.commandPrefix()).run())
                    .as("a second cleanup finds nothing").isEmpty();
        }
    }

    /**
     * Both families from a manifest directory; a service deleted while the daemon was down loses its chains at
     * the next start, because the daemon reads which per-service chains the previous run left.
     */
    @Test
    void dualStackFromManifestsAndChainsOfServicesDeletedWhileStopped(@TempDir Path manifests) throws Exception {
        try (NetworkNamespace node = NetworkNamespace.create()) {
            Files.writeString(manifests.resolve("web.yaml"), DUAL_STACK_WEB_MANIFEST);
            Files.writeString(manifests.resolve("db.yaml"), """
                    apiVersion: v1
                    kind: Service
                    metadata: {name: db}
                    spec: {type: ClusterIP, clusterIP: 10.96.0.11, clusterIPs: [10.96.0.11],
                           ports: [{protocol: TCP, port: 5432}]}
                    ---
                    apiVersion: discovery.k8s.io/v1
                    kind: EndpointSlice
                    metadata: {name: db-1, labels: {kubernetes.io/service-name: db}}
                    addressType: IPv4
                    ports: [{protocol: TCP, port: 5432}]
                    endpoints: [{addresses: [10.244.1.7], conditions: {ready: true}}]
                    """);
            List<SyncResult> results = new CopyOnWriteArrayList<>();
            try (ProxyDaemon daemon = startFromManifests(node, manifests, results)) {
                assertThat(daemon.families()).containsExactly(IpFamily.V4, IpFamily.V6);
                awaitNat(node, nat -> nat.contains("--to-destination 10.244.1.5:8080")
                        && nat.contains("--to-destination 10.244.1.7:5432"), "IPv4 rules");
                await(() -> node.execChecked("ip6tables-save", "-t", "nat").stdout()
                        .contains("--to-destination [fd00:244::5]:8080"), "IPv6 rules");
                assertThat(node.execChecked("ip6tables-save", "-t", "nat").stdout())
                        .contains("-d fd00:96::10/128").doesNotContain("10.244.1.5");
                await(() -> daemon.lastResults().keySet().containsAll(List.of(IpFamily.V4, IpFamily.V6))
                        && daemon.lastResults().values().stream().allMatch(SyncResult::succeeded), "both synced");
            }
            String dbChains = natRules(node);
            assertThat(dbChains).contains("default/db");

            Files.delete(manifests.resolve("db.yaml"));
            results.clear();
            try (ProxyDaemon daemon = startFromManifests(node, manifests, results)) {
                await(() -> results.stream().anyMatch(r -> r.family() == IpFamily.V4 && r.succeeded()),
                        "the first sync after the restart");
                SyncResult first = results.stream().filter(r -> r.family() == IpFamily.V4 && r.succeeded())
                        .findFirst().orElseThrow();
                assertThat(first.kind()).isEqualTo(SyncResult.Kind.FULL);
                assertThat(first.deletedChains()).as("db's SVC and SEP chains").isEqualTo(2);
                assertThat(natRules(node)).doesNotContain("default/db").contains("--to-destination 10.244.1.5:8080");
            }
        }
    }

    private static ProxyDaemon startFromManifests(NetworkNamespace node, Path manifests, List<SyncResult> results)
            throws Exception {
        List<RenderConfig> families = new ArrayList<>();
        for (IpFamily family : IpFamily.values()) {
            families.add(RenderConfig.builder(family).nodeName(NODE).nodeIps(List.of("10.244.1.1", "fd00:244::1"))
                    .clusterCidrs(List.of("10.244.0.0/16", "fd00:244::/64")).build());
        }
        return TestDaemons.fromManifests(new ProxyDaemonSettings(NODE, families, TestDaemons.QUICK,
                node.commandPrefix(), Duration.ofSeconds(10)), manifests, results);
    }

    private static ProxyDaemon start(NetworkNamespace node, TestApiServer apiServer, List<SyncResult> results)
            throws Exception {
        RenderConfig v4 = RenderConfig.builder(IpFamily.V4).nodeName(NODE).nodeIps(List.of("10.244.1.1"))
                .clusterCidrs(List.of("10.244.0.0/16")).build();
        return TestDaemons.fromApiServer(new ProxyDaemonSettings(NODE, List.of(v4), TestDaemons.QUICK,
                node.commandPrefix(), Duration.ofSeconds(10)), apiServer, results);
    }

    private static String natRules(NetworkNamespace node) {
        return node.execChecked("iptables-save", "-t", "nat").stdout();
    }

    /** Every table's rules and chains, without counters and comments, order-independent. */
    private static String ruleset(NetworkNamespace node) {
        TreeSet<String> lines = new TreeSet<>();
        for (String line : node.execChecked("iptables-save").stdout().split("\n")) {
            if (!line.startsWith("#")) {
                lines.add(line.replaceAll(" \\[\\d+:\\d+\\]$", ""));
            }
        }
        return String.join("\n", lines);
    }

    private static void awaitNat(NetworkNamespace node, java.util.function.Predicate<String> condition,
                                 String what) throws InterruptedException {
        await(() -> condition.test(natRules(node)), what);
    }
}
