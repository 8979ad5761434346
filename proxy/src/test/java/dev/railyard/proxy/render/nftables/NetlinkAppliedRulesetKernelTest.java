package dev.railyard.proxy.render.nftables;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.nftables.NftCommand;
import dev.railyard.nftables.Transaction;
import dev.railyard.nftables.netlink.NetlinkApplier;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.source.ClusterSnapshot;
import dev.railyard.proxy.source.ManifestLoader;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.RequiresPrivileges;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Whole transactions as the renderer writes them, applied through {@link NetlinkApplier} into one namespace and
 * through {@code nft -f} ({@link NftCommand}) into another: nft must list both alike, as text and as expressions
 * ({@code nft --debug=netlink}). The rulesets are those of every kube-proxy nftables vector, of
 * examples/cluster.yaml, and the sequence of syncs (full, then partial ones with stale chains flushed and deleted)
 * of kube-proxy's repeated-sync vectors.
 */
@RequiresPrivileges(commands = {"nft", "ip"})
class NetlinkAppliedRulesetKernelTest {
    private static NetworkNamespace ours;
    private static NetworkNamespace theirs;
    private static NftCommand nft;

    @BeforeAll
    static void namespaces() {
        ours = NetworkNamespace.create();
        theirs = NetworkNamespace.create();
        nft = NftCommand.create().withCommandPrefix(theirs.commandPrefix());
    }

    @AfterAll
    static void cleanup() {
        try {
            if (ours != null) {
                ours.close();
            }
        } finally {
            if (theirs != null) {
                theirs.close();
            }
        }
    }

    private static void flush() {
        ours.execChecked("nft", "flush", "ruleset");
        theirs.execChecked("nft", "flush", "ruleset");
    }

    @TestFactory
    List<DynamicTest> everyKubeProxyVectorsRuleset() {
        List<DynamicTest> tests = new ArrayList<>();
        for (NftCompatCase testCase : NftCompatCase.all()) {
            tests.add(DynamicTest.dynamicTest(testCase.name(), () -> {
                IpFamily family = IpFamily.of(testCase.ipFamily());
                ProxyState state = load(List.of(testCase.manifests()), family, testCase.nodeName());
                Transaction script = NftablesRenderer.script(KubeProxyNftCompatibilityTest.config(testCase, family),
                        state);
                flush();
                try (NetlinkApplier netlink = NetlinkApplier.open(ours.name())) {
                    netlink.apply(script);
                }
                nft.apply(script);
                assertListedAlike();
            }));
        }
        return tests;
    }

    @Test
    void theExampleCluster() throws Exception {
        Path example = Path.of("..", "examples", "cluster.yaml");
        assertThat(Files.exists(example)).as("examples/cluster.yaml from the proxy module").isTrue();
        RenderConfig config = RenderConfig.builder(IpFamily.V4).nodeName("node-a").nodeIps(List.of("192.168.10.11"))
                .clusterCidrs(List.of("10.244.0.0/16")).serviceCidrs(List.of("10.96.0.0/12"))
                .nodePortAddresses(List.of("primary")).build();
        Transaction script = NftablesRenderer.script(config, load(List.of(example), IpFamily.V4, "node-a"));
        flush();
        try (NetlinkApplier netlink = NetlinkApplier.open(ours.name())) {
            netlink.apply(script);
            // Loading the script twice gives the same ruleset (it deletes and re-creates the table).
            netlink.apply(script);
        }
        nft.apply(script);
        assertListedAlike();
        assertThat(listed(ours)).contains("shop/checkout").contains("numgen random mod 3 vmap");
    }

    /**
     * The example cluster in the flat layout, both families: listed alike, and every set's and map's elements read
     * back through netlink equal to what nft lists and to what the in-memory ruleset holds after the same script.
     */
    @Test
    void theFlatLayoutAndItsElementsReadBack() throws Exception {
        Path example = Path.of("..", "examples", "cluster.yaml");
        for (IpFamily family : IpFamily.values()) {
            RenderConfig config = RenderConfig.builder(family).nodeName("node-a")
                    .nodeIps(List.of("192.168.10.11", "fd00:10::11"))
                    .clusterCidrs(List.of("10.244.0.0/16", "fd00:244::/56"))
                    .serviceCidrs(List.of("10.96.0.0/12", "fd00:96::/108")).nodePortAddresses(List.of("primary"))
                    .build();
            Transaction script = NftablesRenderer.script(config, Layout.FLAT, load(List.of(example), family,
                    "node-a"));
            flush();
            dev.railyard.nftables.Ruleset model = new dev.railyard.nftables.Ruleset();
            model.apply(script);
            try (NetlinkApplier netlink = NetlinkApplier.open(ours.name())) {
                netlink.apply(script);
                nft.apply(script);
                assertListedAlike();
                dev.railyard.nftables.Family table = script.family();
                List<String> containers = new ArrayList<>(model.setNames(table, NftablesLayout.TABLE));
                containers.addAll(model.mapNames(table, NftablesLayout.TABLE));
                if (family == IpFamily.V4) { // the example's endpoints are IPv4 only
                    // shop/checkout: sticky sessions over three endpoints and one source range, with no set but
                    // the shared ones
                    assertThat(listed(ours)).contains("numgen random mod 3 0 goto endpoint-",
                            "numgen random mod 2 0 goto endpoint-", "ip saddr 203.0.113.0/24 return")
                            .doesNotContain("vmap {", "saddr != {");
                    assertThat(containers).contains("endpoints-tcp-0", "endpoints-udp-0", "endpoints-sctp-0");
                    assertThat(model.elements(table, NftablesLayout.TABLE, "endpoints-tcp-0")).isNotEmpty();
                }
                for (String container : containers) {
                    Set<dev.railyard.nftables.Element> read = new HashSet<>(netlink.listElements(table,
                            NftablesLayout.TABLE, container));
                    assertThat(read).as("%s %s through netlink", family, container)
                            .isEqualTo(new HashSet<>(model.elements(table, NftablesLayout.TABLE, container)))
                            .isEqualTo(new HashSet<>(nft.listElements(table, NftablesLayout.TABLE, container)));
                }
            }
        }
    }

    /** kube-proxy's repeated-sync vectors in order: each step a sync of the renderer, full first, then partial. */
    @Test
    void aSequenceOfFullAndPartialSyncs() throws Exception {
        List<NftCompatCase> steps = new ArrayList<>();
        for (NftCompatCase testCase : NftCompatCase.all()) {
            if (testCase.name().startsWith("sync-proxy-rules-repeated-")) {
                steps.add(testCase);
            }
        }
        assertThat(steps).hasSizeGreaterThan(5);
        Collections.sort(steps, (a, b) -> a.name().compareTo(b.name()));
        flush();
        IpFamily family = IpFamily.of(steps.get(0).ipFamily());
        NftablesRenderer renderer = new NftablesRenderer(KubeProxyNftCompatibilityTest.config(steps.get(0), family));
        Set<String> previousServices = new HashSet<>();
        Instant now = Instant.EPOCH;
        int partials = 0;
        int deletions = 0;
        try (NetlinkApplier netlink = NetlinkApplier.open(ours.name())) {
            for (NftCompatCase step : steps) {
                ProxyState state = load(List.of(step.manifests()), family, step.nodeName());
                Set<String> services = new HashSet<>();
                state.entries().forEach(entry -> services.add(entry.service().name().serviceKey()));
                Set<String> changed = new HashSet<>(services);
                changed.addAll(previousServices);
                boolean full = previousServices.isEmpty();
                NftablesRenderer.Plan plan = renderer.plan(state, full ? null : changed, now);
                if (!plan.staleChainDeletion().isEmpty()) {
                    netlink.apply(plan.staleChainDeletion());
                    nft.apply(plan.staleChainDeletion());
                    deletions++;
                }
                renderer.staleDeletionApplied(plan);
                netlink.apply(plan.sync());
                nft.apply(plan.sync());
                renderer.committed(plan);
                assertListedAlike();
                partials += full ? 0 : 1;
                previousServices = services;
                now = now.plusSeconds(2);
            }
        }
        assertThat(partials).isGreaterThan(4);
        assertThat(deletions).as("stale chains were deleted by some step").isGreaterThan(0);
    }

    private static ProxyState load(List<Path> manifests, IpFamily family, String nodeName) throws Exception {
        ClusterSnapshot snapshot = ManifestLoader.load(manifests);
        assertThat(snapshot.problems()).isEmpty();
        return snapshot.state(family, nodeName);
    }

    private static void assertListedAlike() {
        String expected = listed(theirs);
        assertThat(expected).contains("table ");
        assertThat(listed(ours)).isEqualTo(expected);
        assertThat(lowLevel(ours)).isEqualTo(lowLevel(theirs));
    }

    private static String listed(NetworkNamespace ns) {
        return ns.execChecked("nft", "list", "ruleset").stdout();
    }

    /** {@code nft --debug=netlink list ruleset} with each run of set elements sorted (hash order differs). */
    private static String lowLevel(NetworkNamespace ns) {
        String text = ns.execChecked("nft", "--debug=netlink", "list", "ruleset").stdout();
        List<String> out = new ArrayList<>();
        List<String> run = new ArrayList<>();
        for (String line : text.split("\n", -1)) {
            if (line.strip().startsWith("element ")) {
                run.add(line);
                continue;
            }
            Collections.sort(run);
            out.addAll(run);
            run.clear();
            out.add(line);
        }
        Collections.sort(run);
        out.addAll(run);
        return String.join("\n", out);
    }
}
