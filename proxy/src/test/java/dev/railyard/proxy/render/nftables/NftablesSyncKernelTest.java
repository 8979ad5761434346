package dev.railyard.proxy.render.nftables;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.nftables.Family;
import dev.railyard.nftables.Element;
import dev.railyard.nftables.NftApplier;
import dev.railyard.nftables.Transaction;
import dev.railyard.nftables.NftCommand;
import dev.railyard.nftables.Ruleset;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.source.ClusterSnapshot;
import dev.railyard.proxy.source.ManifestLoader;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.RequiresPrivileges;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The renderer's syncs (a full one, then partial ones, then a restart) applied to a real kernel with
 * {@link NftCommand}, as a proxy would: every transaction is accepted, and after each the kernel's table is what a
 * fresh {@link NftablesRenderer#script} of the same cluster gives, apart from per-service chains that are stale
 * (flushed, waiting for their grace) until a later sync deletes them.
 */
@RequiresPrivileges(commands = {"nft", "ip"})
class NftablesSyncKernelTest {
    private static final Family FAMILY = Family.IP;
    private static final RenderConfig CONFIG = RenderConfig.builder(IpFamily.V4).nodeName("node-a")
            .nodeIps(List.of("192.168.10.11")).clusterCidrs(List.of("10.244.0.0/16"))
            .serviceCidrs(List.of("10.96.0.0/16")).nodePortAddresses(List.of("primary")).build();

    private final Map<String, String> services = new LinkedHashMap<>();
    /** What the kernel should hold: every transaction applied to it is applied here too. */
    private final Ruleset model = new Ruleset();
    private NetworkNamespace ns;
    private NftCommand nft;
    private Instant now = Instant.parse("2026-01-01T00:00:00Z");

    private Layout layout;
    private int split;

    /**
     * Each layout, whole and with full syncs split into small transactions (after a listing of the kernel, as the
     * daemon does when it splits), and a restart into the other layout, which must leave nothing of the first.
     */
    @ParameterizedTest
    @CsvSource({"KUBE_PROXY, 0", "FLAT, 0", "KUBE_PROXY, 2", "FLAT, 2"})
    void fullPartialAndRestartSyncsLeaveWhatAFreshScriptWould(Layout first, int portsPerTransaction)
            throws Exception {
        layout = first;
        split = portsPerTransaction;
        try (NetworkNamespace namespace = NetworkNamespace.create()) {
            ns = namespace;
            nft = NftCommand.create().withCommandPrefix(ns.commandPrefix());
            services.put("web", service("web", "10.96.0.20", "", endpoints("10.244.1.10", "node-a")
                    + endpoints("10.244.2.10", "node-b")));
            services.put("cart", service("cart", "10.96.0.24", """
                      sessionAffinity: ClientIP
                      sessionAffinityConfig: {clientIP: {timeoutSeconds: 300}}
                    """, endpoints("10.244.1.14", "node-a") + endpoints("10.244.2.14", "node-b")));
            services.put("edge", service("edge", "10.96.0.25", """
                      type: LoadBalancer
                      externalTrafficPolicy: Local
                      loadBalancerSourceRanges: [203.0.113.0/25]
                      ports: [{name: http, port: 80, nodePort: 30081, protocol: TCP}]
                    status:
                      loadBalancer:
                        ingress: [{ip: 198.51.100.25}]
                    """, endpoints("10.244.1.15", "node-a")));
            NftablesRenderer renderer = new NftablesRenderer(CONFIG, layout, NftApplier.TableObjects.none())
                    .splitFullSyncs(split);
            sync(renderer, null);

            services.put("api", service("api", "10.96.0.22", "", endpoints("10.244.1.12", "node-a")));
            sync(renderer, Set.of("ns/api"));

            services.put("web", service("web", "10.96.0.20", "", endpoints("10.244.1.10", "node-a")
                    + endpoints("10.244.3.10", "node-c")));
            sync(renderer, Set.of("ns/web"));
            if (layout == Layout.KUBE_PROXY) {
                assertThat(renderer.staleChains()).singleElement().asString().contains("10.244.2.10");
            } else {
                assertThat(renderer.staleChains()).as("endpoints are data in the flat layout").isEmpty();
            }

            services.remove("cart");
            sync(renderer, Set.of("ns/cart"));
            assertThat(nft.listObjects(FAMILY, NftablesLayout.TABLE).sets())
                    .as("affinity sets of a deleted service").noneMatch(set -> set.contains("cart"));

            services.put("api", service("api", "10.96.0.22", "", ""));
            sync(renderer, Set.of("ns/api"));

            now = now.plus(NftablesRenderer.STALE_CHAIN_GRACE).plusSeconds(1);
            sync(renderer, Set.of());
            assertThat(renderer.staleChains()).as("stale chains after the grace").isEmpty();

            // Someone else edits the table: an element gone from a shared map and from a set, a stranger's
            // element added, a service's chain flushed. The next full sync (the periodic one) repairs all of it.
            String webChain = nft.listObjects(FAMILY, NftablesLayout.TABLE).chains().stream()
                    .filter(chain -> chain.startsWith("service-") && chain.endsWith("ns/web/tcp/http"))
                    .findFirst().orElseThrow();
            apply(dev.railyard.nftables.ScriptParser.parse("delete element ip kube-proxy service-ips "
                    + "{ 10.96.0.20 . tcp . 80 }\ndelete element ip kube-proxy cluster-ips { 10.96.0.25 }\n"
                    + "add element ip kube-proxy cluster-ips { 10.96.0.99 }\n"
                    + "flush chain ip kube-proxy " + webChain + "\n", FAMILY, NftablesLayout.TABLE));
            sync(renderer, null);

            // A restart: a new renderer that knows only what the kernel lists, and a full sync; here in the other
            // layout, whose first sync must remove the first layout's chains, sets and maps.
            NftApplier.TableObjects existing = nft.listObjects(FAMILY, NftablesLayout.TABLE);
            services.put("web", service("web", "10.96.0.20", "", endpoints("10.244.1.10", "node-a")));
            layout = first == Layout.FLAT ? Layout.KUBE_PROXY : Layout.FLAT;
            NftablesRenderer restarted = new NftablesRenderer(CONFIG, layout, existing).splitFullSyncs(split);
            sync(restarted, null);
            now = now.plus(NftablesRenderer.STALE_CHAIN_GRACE).plusSeconds(1);
            sync(restarted, Set.of());
            assertThat(restarted.staleChains()).isEmpty();
        }
    }

    /** One sync as a proxy applies it, then the kernel compared with a fresh script of the same state. */
    private void sync(NftablesRenderer renderer, Set<String> changed) throws Exception {
        now = now.plusMillis(100);
        ProxyState state = state();
        if (changed == null && renderer.needsKernelView()) {
            NftApplier.TableObjects objects = nft.listObjects(FAMILY, NftablesLayout.TABLE);
            Map<String, List<Element>> elements = new TreeMap<>();
            for (String container : renderer.sharedContainers(objects)) {
                elements.put(container, nft.listElements(FAMILY, NftablesLayout.TABLE, container));
            }
            renderer.adoptKernelView(objects, elements);
        }
        NftablesRenderer.Plan plan = renderer.plan(state, changed, now);
        apply(plan.staleChainDeletion());
        renderer.staleDeletionApplied(plan);
        for (Transaction tx : plan.transactions()) {
            apply(tx);
        }
        renderer.committed(plan);

        // The kernel holds what the model of it does, key for key.
        KernelTable kernel = KernelTable.parse(ns.exec(List.of("nft", "-j", "list", "table", FAMILY.keyword(),
                NftablesLayout.TABLE), Duration.ofSeconds(30), null).requireSuccess().stdout());
        assertThat(kernel).as("the kernel and its model after sync (changed: %s)", changed)
                .isEqualTo(KernelTable.of(model, FAMILY));
        Map<String, String> liveChains = new TreeMap<>(kernel.chains());
        for (String stale : renderer.staleChains()) {
            assertThat(liveChains.remove(stale)).as("stale chain %s", stale).isEqualTo(" rules=0");
        }
        // And means what a fresh script does: the same rules, each dispatch reading the same endpoints (where
        // their keys sit in the flat layout's endpoint maps depends on the syncs before).
        Ruleset fresh = new Ruleset();
        fresh.apply(NftablesRenderer.script(CONFIG, layout, state));
        List<String> expected = ResolvedEndpoints.of(fresh.dump());
        List<String> actual = new java.util.ArrayList<>(ResolvedEndpoints.of(model.dump()));
        actual.removeIf(line -> renderer.staleChains().stream().anyMatch(chain -> line.equals(
                "add chain ip kube-proxy " + chain)));
        assertThat(actual).as("rules and elements after sync (changed: %s)", changed)
                .containsExactlyInAnyOrderElementsOf(expected);
    }

    /** Into the kernel and into its model. */
    private void apply(Transaction tx) throws Exception {
        nft.apply(tx);
        model.apply(tx);
    }

    private ProxyState state() throws Exception {
        ClusterSnapshot snapshot = ManifestLoader.parse("sync.yaml", String.join("", services.values()));
        assertThat(snapshot.problems()).isEmpty();
        return snapshot.state(IpFamily.V4, "node-a");
    }

    private static String endpoints(String ip, String node) {
        return "- addresses: [" + ip + "]\n  nodeName: " + node + "\n";
    }

    /** {@code spec} replaces the default port list when it has one; {@code endpoints} empty means none. */
    private static String service(String name, String clusterIp, String spec, String endpoints) {
        String ports = spec.contains("ports:") ? "" : "  ports: [{name: http, port: 80, protocol: TCP}]\n";
        return "---\napiVersion: v1\nkind: Service\nmetadata: {name: " + name + ", namespace: ns}\nspec:\n"
                + "  clusterIP: " + clusterIp + "\n" + ports + spec
                + "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: " + name
                + "-ipv4\n  namespace: ns\n  labels:\n    kubernetes.io/service-name: " + name
                + "\naddressType: IPv4\nendpoints:" + (endpoints.isEmpty() ? " []\n" : "\n" + endpoints)
                + "ports:\n- {name: http, port: 8080, protocol: TCP}\n";
    }
}
