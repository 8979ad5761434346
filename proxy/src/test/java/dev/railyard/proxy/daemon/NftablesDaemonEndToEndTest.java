package dev.railyard.proxy.daemon;

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
import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.nftables.Family;
import dev.railyard.nftables.NftCommand;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.render.nftables.Layout;
import dev.railyard.testkit.kubernetes.TestApiServer;
import dev.railyard.proxy.sync.SyncResult;
import dev.railyard.testkit.AgentHandle;
import dev.railyard.testkit.NftListing;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.ProbeResult;
import dev.railyard.testkit.RequiresPrivileges;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code railyard proxy --proxy-mode nftables} end to end: a list/watch API server on loopback (or a manifest
 * directory), the daemon in this JVM programming a network namespace's nftables (kube-proxy's layout through
 * {@code nft}, the flat layout through netlink), and real
 * traffic from a pod through the table it wrote.
 *
 * <pre>
 *   client 10.244.2.2/24 ─── 10.244.2.1 ┐ node "node-a" (ip_forward=1): table ip kube-proxy
 *   web    10.244.1.2/24 ─── 10.244.1.1 ┘
 * </pre>
 */
@RequiresPrivileges(commands = {"nft", "iptables-restore", "iptables-save", "iptables", "ip6tables-restore",
        "ip6tables-save", "ip6tables", "ip"})
class NftablesDaemonEndToEndTest {

    /** The two ways nftables mode is run: as kube-proxy does, and as {@code railyard proxy} does by default. */
    enum Variant {
        KUBE_PROXY_LAYOUT_THROUGH_NFT(NftablesOptions.kubeProxy(),
                Pattern.compile("chain (endpoint-\\S+__" + Pattern.quote(WEB_POD) + "/8080) \\{")),
        FLAT_LAYOUT_THROUGH_NETLINK(NftablesOptions.of(Layout.FLAT, NftablesOptions.Applier.NETLINK),
                Pattern.compile("chain (service-\\S+-default/web/\\S*) \\{"));

        final NftablesOptions options;
        /** What the web service's endpoint needs in the table, flushed when it goes and deleted after the grace. */
        final Pattern webEndpointObject;

        Variant(NftablesOptions options, Pattern webEndpointObject) {
            this.options = options;
            this.webEndpointObject = webEndpointObject;
        }

        /** How an endpoint reads in {@code nft list table}: a dnat rule, or an element of a data map. */
        String endpoint(String ip, int port) {
            return options.layout() == Layout.FLAT ? ip + " . " + port : "dnat to " + ip + ":" + port;
        }
    }
    /** Someone else's table, which neither mode nor the cleanup may touch. */
    private static final String UNRELATED_TABLE = """
            table inet unrelated {
            \tchain input {
            \t\ttype filter hook input priority 10; policy accept;
            \t\tip saddr 192.0.2.99 drop
            \t}
            }
            """;

    @ParameterizedTest
    @EnumSource(Variant.class)
    void programsTheClusterFollowsChangesRecoversAndSurvivesRestarts(Variant variant) throws Exception {
        try (NetworkNamespace node = NetworkNamespace.create();
             NetworkNamespace webNs = NetworkNamespace.create();
             NetworkNamespace clientNs = NetworkNamespace.create();
             TestApiServer apiServer = TestApiServer.start()) {
            EndToEndCluster.link(node, webNs, clientNs);
            node.exec(List.of("nft", "-f", "-"), Duration.ofSeconds(10), UNRELATED_TABLE.getBytes());

            EndToEndCluster.createWebAndDb(apiServer);

            List<SyncResult> results = new CopyOnWriteArrayList<>();
            List<ProxyDaemon> daemons = new ArrayList<>();
            ProxyDaemon daemon = start(node, apiServer, results, variant);
            daemons.add(daemon);
            try (AgentHandle web = webNs.startAgent(); AgentHandle client = clientNs.startAgent()) {
                web.tcpServe(8080, "web");
                awaitTable(node, t -> t.contains(WEB_IP + " . tcp . 80 : goto service-")
                        && t.contains(variant.endpoint(WEB_POD, 8080)) && t.contains(variant.endpoint("10.244.1.7", 5432)),
                        "web and db programmed");
                assertThat(results).anyMatch(r -> r.succeeded() && r.kind() == SyncResult.Kind.FULL);
                ProbeResult probe = client.tcpGet(WEB_IP, 80, Duration.ofSeconds(2));
                assertThat(probe.isOk()).as("traffic through the service: %s", probe).isTrue();
                assertThat(probe.serverReply().serverName()).isEqualTo("web");
                assertThat(probe.serverReply().clientIp()).as("pod to pod keeps the source").isEqualTo(CLIENT_POD);

                // The endpoint goes away: the service rejects, its endpoint chain is flushed, then deleted.
                Matcher chain = variant.webEndpointObject.matcher(table(node));
                assertThat(chain.find()).isTrue();
                String endpointChain = chain.group(1);
                apiServer.update(slice("web-1", "web", NODE, 8080));
                awaitTable(node, t -> t.contains(WEB_IP + " . tcp . 80 comment \"default/web\" : goto reject-chain"),
                        "web without endpoints");
                assertThat(client.tcpGet(WEB_IP, 80, Duration.ofSeconds(2)).isOk()).as("rejected").isFalse();
                awaitTable(node, t -> !t.contains(endpointChain), endpointChain + " deleted after the grace");
                apiServer.update(slice("web-1", "web", NODE, 8080, WEB_POD));
                assertThat(awaitOk(client, WEB_IP, 80)).as("endpoint back").isTrue();

                // An invalid Service is skipped and reported; a later service is programmed by a partial sync.
                apiServer.create(service("bad", "10.96.0.12", 99999));
                await(() -> daemon.problems().stream().anyMatch(p -> p.object().contains("default/bad")),
                        "the invalid service reported");
                int before = results.size();
                apiServer.create(service("cache", "10.96.0.13", 6379));
                apiServer.create(slice("cache-1", "cache", NODE, 6379, "10.244.1.8"));
                awaitTable(node, t -> t.contains(variant.endpoint("10.244.1.8", 6379)), "a later service programmed");
                assertThat(results.subList(before, results.size()))
                        .anyMatch(r -> r.succeeded() && r.kind() == SyncResult.Kind.PARTIAL);
                assertThat(table(node)).doesNotContain("10.96.0.12").contains(variant.endpoint("10.244.1.7", 5432));

                // Someone deletes the whole table: the next partial sync is refused, the retry is a full sync
                // that brings everything back.
                node.execChecked("nft", "delete", "table", "ip", "kube-proxy");
                int syncsBefore = results.size();
                apiServer.create(service("queue", "10.96.0.14", 5672));
                apiServer.create(slice("queue-1", "queue", NODE, 5672, "10.244.1.9"));
                awaitTable(node, t -> t.contains(variant.endpoint("10.244.1.9", 5672))
                        && t.contains(variant.endpoint(WEB_POD, 8080)),
                        "the table rebuilt with the new service");
                await(() -> results.subList(syncsBefore, results.size()).stream()
                        .anyMatch(r -> r.succeeded() && r.kind() == SyncResult.Kind.FULL), "the full resync");
                List<SyncResult> recovery = List.copyOf(results.subList(syncsBefore, results.size()));
                int failed = indexOf(recovery, r -> r.failed() && r.kind() == SyncResult.Kind.PARTIAL);
                int resynced = indexOf(recovery, r -> r.succeeded() && r.kind() == SyncResult.Kind.FULL);
                assertThat(failed).as("a refused partial sync in %s", recovery).isNotNegative();
                assertThat(recovery.get(failed).error()).as("names the operation").contains("(operation ");
                assertThat(resynced).isGreaterThan(failed);
                assertThat(awaitOk(client, WEB_IP, 80)).as("web reachable again through %s", table(node)).isTrue();

                // The API server goes away and comes back: the rules do not change.
                String quiet = awaitQuiet(() -> ruleset(node), results);
                int listsBefore = apiServer.listRequests(TestApiServer.Resource.SERVICES);
                apiServer.stop();
                Thread.sleep(1500);
                assertThat(ruleset(node)).as("while the API server is down").isEqualTo(quiet);
                apiServer.restart();
                await(() -> apiServer.listRequests(TestApiServer.Resource.SERVICES) > listsBefore,
                        "the source relisted after the restart");
                assertThat(awaitQuiet(() -> ruleset(node), results)).isEqualTo(quiet);

                // Stop (SIGTERM) and start again: the table stays, and the new daemon writes the same.
                daemon.close();
                assertThat(ruleset(node)).as("rules stay after stop").isEqualTo(quiet);
                results.clear();
                daemons.add(start(node, apiServer, results, variant));
                await(() -> results.stream().anyMatch(r -> r.succeeded() && r.kind() == SyncResult.Kind.FULL),
                        "the restarted daemon's first full sync");
                // The flat layout's restarted daemon gives its endpoints new keys (the old ones are the old rules'
                // until each is rewritten): the same ruleset but for where the endpoints sit in the maps.
                assertThat(withoutEndpointKeys(awaitQuiet(() -> ruleset(node), results))).as("after a restart")
                        .isEqualTo(withoutEndpointKeys(quiet));
                assertThat(awaitOk(client, WEB_IP, 80)).isTrue();
            } finally {
                daemons.forEach(ProxyDaemon::close);
            }
            assertThat(ruleset(node)).contains("table inet unrelated", "ip saddr 192.0.2.99 drop");
        }
    }

    /**
     * Starting in one mode removes what the other left, and nothing of anyone else: iptables, then nftables,
     * then iptables again, on one node, from one manifest directory, both families.
     */
    @Test
    void switchingModesLeavesNothingOfTheOtherMode(@TempDir Path manifests) throws Exception {
        try (NetworkNamespace node = NetworkNamespace.create()) {
            Files.writeString(manifests.resolve("web.yaml"), DUAL_STACK_WEB_MANIFEST);
            node.exec(List.of("nft", "-f", "-"), Duration.ofSeconds(10), UNRELATED_TABLE.getBytes());
            node.execChecked("iptables", "-t", "filter", "-N", "UNRELATED");
            node.execChecked("iptables", "-t", "filter", "-A", "INPUT", "-s", "192.0.2.99", "-j", "UNRELATED");

            runUntilSynced(node, manifests, ProxyMode.IPTABLES);
            assertThat(iptables(node)).contains("--to-destination 10.244.1.5:8080");
            assertThat(ip6tables(node)).contains("--to-destination [fd00:244::5]:8080");

            runUntilSynced(node, manifests, ProxyMode.NFTABLES);
            assertThat(table(node)).contains("dnat to 10.244.1.5:8080");
            assertThat(node.execChecked("nft", "list", "table", "ip6", "kube-proxy").stdout())
                    .contains("dnat to [fd00:244::5]:8080", "fd00:96::10 . tcp . 80 : goto service-");
            assertThat(iptables(node)).doesNotContain("KUBE-")
                    .contains(":UNRELATED", "-A INPUT -s 192.0.2.99/32 -j UNRELATED");
            assertThat(ip6tables(node)).doesNotContain("KUBE-");

            runUntilSynced(node, manifests, ProxyMode.IPTABLES);
            assertThat(iptables(node)).contains("--to-destination 10.244.1.5:8080", ":UNRELATED");
            assertThat(node.execChecked("nft", "list", "tables").stdout())
                    .doesNotContain("kube-proxy").contains("table inet unrelated");

            // And the cleanup of both modes leaves only what was there before.
            NftCommand nft = NftCommand.create().withCommandPrefix(node.commandPrefix());
            runUntilSynced(node, manifests, ProxyMode.NFTABLES);
            assertThat(nft.deleteTableIfExists(Family.IP, "kube-proxy")).isTrue();
            assertThat(nft.deleteTableIfExists(Family.IP6, "kube-proxy")).isTrue();
            assertThat(nft.deleteTableIfExists(Family.IP, "kube-proxy")).isFalse();
            assertThat(ruleset(node)).contains("table inet unrelated");
        }
    }

    private static void runUntilSynced(NetworkNamespace node, Path manifests, ProxyMode mode) throws Exception {
        List<RenderConfig> families = new ArrayList<>();
        for (IpFamily family : IpFamily.values()) {
            families.add(RenderConfig.builder(family).nodeName(NODE).nodeIps(List.of("10.244.1.1", "fd00:244::1"))
                    .clusterCidrs(List.of("10.244.0.0/16", "fd00:244::/64"))
                    .nodePortAddresses(mode == ProxyMode.NFTABLES ? List.of("primary") : List.of()).build());
        }
        ProxyDaemonSettings settings = new ProxyDaemonSettings(NODE, families, TestDaemons.QUICK,
                node.commandPrefix(), Duration.ofSeconds(10));
        List<SyncResult> results = new CopyOnWriteArrayList<>();
        try (ProxyDaemon daemon = TestDaemons.fromManifests(mode == ProxyMode.NFTABLES ? settings.withNftables()
                : settings, manifests, results)) {
            await(() -> daemon.lastResults().size() == 2
                    && daemon.lastResults().values().stream().allMatch(SyncResult::succeeded), mode + " synced");
        }
    }

    private static ProxyDaemon start(NetworkNamespace node, TestApiServer apiServer, List<SyncResult> results,
                                     Variant variant) throws Exception {
        RenderConfig v4 = RenderConfig.builder(IpFamily.V4).nodeName(NODE).nodeIps(List.of("10.244.1.1"))
                .clusterCidrs(List.of("10.244.0.0/16")).nodePortAddresses(List.of("primary")).build();
        return TestDaemons.fromApiServer(new ProxyDaemonSettings(NODE, List.of(v4), TestDaemons.QUICK,
                node.commandPrefix(), Duration.ofSeconds(10)).withNftables(variant.options), apiServer, results);
    }

    private static String table(NetworkNamespace node) {
        var result = node.exec("nft", "list", "table", "ip", "kube-proxy");
        return result.exitCode() == 0 ? result.stdout() : "";
    }

    private static void awaitTable(NetworkNamespace node, java.util.function.Predicate<String> condition,
                                   String what) throws InterruptedException {
        await(() -> condition.test(table(node)), what);
    }

    private static String iptables(NetworkNamespace node) {
        return node.execChecked("iptables-save").stdout();
    }

    private static String ip6tables(NetworkNamespace node) {
        return node.execChecked("ip6tables-save").stdout();
    }

    private static final Pattern OFFSET = Pattern.compile(
            " offset [0-9]+ map @(endpoints-(?:tcp|udp|sctp)-[0-9]+)");
    private static final Pattern ENDPOINT_MAP_ELEMENTS = Pattern.compile(
            "(map endpoints-(?:tcp|udp|sctp)-[0-9]+ \\{[^}]*?elements = \\{)([^}]*)(\\})");

    /** A listing with the flat layout's endpoint keys left out: offsets dropped, map elements as sorted values. */
    static String withoutEndpointKeys(String listing) {
        String withoutOffsets = OFFSET.matcher(listing).replaceAll(" map @$1");
        Matcher elements = ENDPOINT_MAP_ELEMENTS.matcher(withoutOffsets);
        StringBuilder out = new StringBuilder();
        while (elements.find()) {
            List<String> values = new ArrayList<>();
            for (String element : elements.group(2).split(",")) {
                values.add(element.strip().replaceFirst("^[0-9]+ : ", ""));
            }
            values.sort(null);
            elements.appendReplacement(out, Matcher.quoteReplacement(elements.group(1) + " " + values + " "
                    + elements.group(3)));
        }
        elements.appendTail(out);
        return out.toString();
    }

    /** Every table, as {@link NftListing} normalizes it. */
    static String ruleset(NetworkNamespace node) {
        return NftListing.normalized(node.execChecked("nft", "list", "ruleset").stdout());
    }
}
