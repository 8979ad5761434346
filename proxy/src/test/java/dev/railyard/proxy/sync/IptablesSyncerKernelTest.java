package dev.railyard.proxy.sync;

import dev.railyard.testkit.ManualClock;
import static dev.railyard.proxy.sync.SyncResult.Kind.FULL;
import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.apply.IptablesRestore;
import dev.railyard.proxy.apply.JumpRules;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.render.IptablesRenderer;
import dev.railyard.proxy.render.LineBuffer;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.RequiresPrivileges;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/** The proxier end to end in a network namespace: cluster events in, rules in the kernel. */
@RequiresPrivileges(commands = {"iptables-restore", "iptables-save", "iptables", "ip", "nfacct"})
class IptablesSyncerKernelTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Duration SYNC_PERIOD = Duration.ofHours(1);

    @Test
    void eventsBecomeRulesFirstWithAFullSyncThenWithPartialOnes() throws Exception {
        try (NetworkNamespace node = NetworkNamespace.create()) {
            ManualClock clock = new ManualClock(Instant.parse("2026-11-23T10:00:00Z"));
            ChangeTracker tracker = new ChangeTracker(States.NODE, "test", clock, () -> { }, p -> { });
            IptablesSyncer syncer = syncer(node, tracker, States.config(), clock, Duration.ofHours(1), r -> { });

            tracker.onServiceChange(null, Kube.service("web", "10.96.0.10", "TCP", 80));
            tracker.onServiceChange(null, Kube.service("db", "10.96.0.11", "TCP", 5432));
            tracker.onEndpointSliceChange(null, Kube.slice("web-1", "web", "TCP", 8080, "10.244.1.5"));
            tracker.onEndpointSliceChange(null, Kube.slice("db-1", "db", "TCP", 5432, "10.244.1.7"));
            tracker.onServicesSynced();
            SyncResult early = syncer.syncNow();
            assertThat(early.kind()).as("endpoint slices not listed yet").isEqualTo(SyncResult.Kind.SKIPPED);
            assertThat(node.exec("iptables", "-t", "nat", "-S", "KUBE-SERVICES").exitCode())
                    .as("nothing written before both kinds synced").isNotZero();

            tracker.onEndpointSlicesSynced();
            SyncResult first = syncer.syncNow();
            assertThat(first.succeeded()).as(String.valueOf(first.error())).isTrue();
            assertThat(first.kind()).isEqualTo(SyncResult.Kind.FULL);
            assertThat(first.services()).isEqualTo(2);
            assertThat(first.bytesWritten()).isPositive();
            String nat = node.execChecked("iptables-save", "-t", "nat").stdout();
            assertThat(nat).contains(
                    "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
                    "\"default/web cluster IP\"", "--to-destination 10.244.1.5:8080",
                    "--to-destination 10.244.1.7:5432");
            States expected = new States().clusterIp("web", Protocol.TCP, "10.96.0.10", 80)
                    .endpoint("web", Protocol.TCP, "10.244.1.5", 8080, null)
                    .clusterIp("db", Protocol.TCP, "10.96.0.11", 5432)
                    .endpoint("db", Protocol.TCP, "10.244.1.7", 5432, null);
            assertKernelHoldsAFullSyncOf(node, expected.state());

            tracker.onEndpointSliceChange(null, Kube.slice("web-1", "web", "TCP", 8080, "10.244.1.5", "10.244.1.6"));
            SyncResult second = syncer.syncNow();
            assertThat(second.succeeded()).isTrue();
            assertThat(second.kind()).isEqualTo(SyncResult.Kind.PARTIAL);
            assertThat(second.changedServices()).containsExactly("default/web");
            assertThat(second.natRulesSkipped()).as("db's chains").isPositive();
            assertThat(node.execChecked("iptables-save", "-t", "nat").stdout())
                    .contains("--to-destination 10.244.1.6:8080");
            expected.endpoint("web", Protocol.TCP, "10.244.1.6", 8080, null);
            assertKernelHoldsAFullSyncOf(node, expected.state());

            String db = States.name("db", Protocol.TCP).hash();
            tracker.onServiceChange(Kube.service("db", "10.96.0.11", "TCP", 5432), null);
            tracker.onEndpointSliceChange(Kube.slice("db-1", "db", "TCP", 5432), null);
            SyncResult third = syncer.syncNow();
            assertThat(third.kind()).isEqualTo(SyncResult.Kind.PARTIAL);
            assertThat(third.deletedChains()).as("db's SVC and SEP chains").isEqualTo(2);
            assertThat(node.execChecked("iptables-save", "-t", "nat").stdout()).doesNotContain("KUBE-SVC-" + db);
            assertThat(syncer.activeNatChains()).noneMatch(c -> c.endsWith(db));
            assertKernelHoldsAFullSyncOf(node, expected.remove("db", Protocol.TCP).state());

            clock.advance(SYNC_PERIOD);
            assertThat(syncer.syncNow().kind()).as("a sync period after the last full one").isEqualTo(FULL);
            assertThat(syncer.syncNow().kind()).isEqualTo(SyncResult.Kind.PARTIAL);
            syncer.requestFullSync();
            SyncResult asked = syncer.syncNow();
            assertThat(asked.kind()).isEqualTo(FULL);
            assertThat(asked.succeeded()).isTrue();
            assertKernelHoldsAFullSyncOf(node, expected.state());
        }
    }

    /** Crossing kube-proxy's large-cluster threshold changes every endpoint chain, so it takes a full sync. */
    @Test
    void crossingTheLargeClusterThresholdForcesAFullSync() throws Exception {
        try (NetworkNamespace node = NetworkNamespace.create()) {
            ManualClock clock = new ManualClock(Instant.parse("2026-11-23T10:00:00Z"));
            ChangeTracker tracker = new ChangeTracker(States.NODE, "test", clock, () -> { }, p -> { });
            IptablesSyncer syncer = syncer(node, tracker, States.config(), clock, Duration.ofHours(1), r -> { });
            String[] endpoints = new String[IptablesRenderer.LARGE_CLUSTER_ENDPOINTS_THRESHOLD];
            for (int i = 0; i < endpoints.length; i++) {
                endpoints[i] = "10.244." + (i / 250) + "." + (i % 250 + 1);
            }
            tracker.onServiceChange(null, Kube.service("big", "10.96.0.20", "TCP", 80));
            tracker.onServiceChange(null, Kube.service("small", "10.96.0.21", "TCP", 80));
            tracker.onEndpointSliceChange(null, Kube.slice("big-1", "big", "TCP", 8080, endpoints));
            tracker.onServicesSynced();
            tracker.onEndpointSlicesSynced();
            assertThat(syncer.syncNow().succeeded()).isTrue();

            tracker.onEndpointSliceChange(null, Kube.slice("small-1", "small", "TCP", 8080, "10.244.9.1"));
            SyncResult crossing = syncer.syncNow();

            assertThat(crossing.endpoints()).isGreaterThan(IptablesRenderer.LARGE_CLUSTER_ENDPOINTS_THRESHOLD);
            assertThat(crossing.kind()).isEqualTo(FULL);
            assertThat(crossing.succeeded()).isTrue();
            assertThat(node.execChecked("iptables-save", "-t", "nat").stdout())
                    .as("per-endpoint comments are gone from every service")
                    .doesNotContain("\"default/big -> 10.244.0.1:8080\"");
        }
    }

    /**
     * The restore input counts packets in an nfacct object the namespace lacks, as on a node where nobody
     * created kube-proxy's counters: iptables-restore rejects it. Once the object exists, the retry succeeds,
     * and it is a full sync.
     */
    @Test
    void aFailedSyncIsRetriedAndFollowedByAFullSync() throws Exception {
        RenderConfig countingInvalidPackets = RenderConfig.builder(IpFamily.V4).nodeName(States.NODE)
                .nodeIps(List.of(States.NODE_IP)).clusterCidrs(List.of("10.244.0.0/16")).nfacctCounters(true).build();
        List<SyncResult> results = new CopyOnWriteArrayList<>();
        AtomicReference<IptablesSyncer> syncerRef = new AtomicReference<>();
        try (NetworkNamespace node = NetworkNamespace.create()) {
            ChangeTracker tracker = new ChangeTracker(States.NODE, "test", Clock.systemUTC(),
                    () -> {
                        IptablesSyncer s = syncerRef.get();
                        if (s != null) {
                            s.requestSync();
                        }
                    }, p -> { });
            IptablesSyncer syncer = syncer(node, tracker, countingInvalidPackets, Clock.systemUTC(),
                    Duration.ofMillis(200), results::add);
            syncerRef.set(syncer);
            syncer.start();
            try {
                tracker.onServiceChange(null, Kube.service("web", "10.96.0.10", "TCP", 80));
                tracker.onEndpointSliceChange(null, Kube.slice("web-1", "web", "TCP", 8080, "10.244.1.5"));
                tracker.onServicesSynced();
                tracker.onEndpointSlicesSynced();

                SyncResult failed = await(results, SyncResult::failed);
                assertThat(failed.kind()).isEqualTo(SyncResult.Kind.FULL);
                assertThat(failed.error()).contains("iptables-restore");
                node.execChecked("nfacct", "add", IptablesRenderer.INVALID_DROPPED_COUNTER);

                SyncResult recovered = await(results, SyncResult::succeeded);
                assertThat(recovered.kind()).isEqualTo(SyncResult.Kind.FULL);
                assertThat(results.indexOf(recovered)).isGreaterThan(results.indexOf(failed));
                assertThat(recovered.firstChangeTimes()).as("reported once programmed").containsKey("default/web");
                assertThat(node.execChecked("iptables-save", "-t", "nat").stdout())
                        .contains("--to-destination 10.244.1.5:8080");

                results.clear();
                tracker.onEndpointSliceChange(null, Kube.slice("web-1", "web", "TCP", 8080, "10.244.1.6"));
                SyncResult partial = await(results, r -> r.kind() != SyncResult.Kind.SKIPPED);
                assertThat(partial.succeeded()).isTrue();
                assertThat(partial.kind()).isEqualTo(SyncResult.Kind.PARTIAL);
                assertThat(node.execChecked("iptables-save", "-t", "nat").stdout())
                        .contains("--to-destination 10.244.1.6:8080").doesNotContain("10.244.1.5:8080");
            } finally {
                assertThat(syncer.stop(Duration.ofSeconds(10))).isTrue();
            }
        }
    }

    private static IptablesSyncer syncer(NetworkNamespace node, ChangeTracker tracker, RenderConfig config,
                                         Clock clock, Duration retry, Consumer<SyncResult> listener) {
        IptablesRestore restore = IptablesRestore.of(IpFamily.V4).withCommandPrefix(node.commandPrefix());
        JumpRules jumps = JumpRules.of(IpFamily.V4).withCommandPrefix(node.commandPrefix());
        return new IptablesSyncer(tracker, new IptablesRenderer(config), restore, jumps,
                new IptablesSyncer.Settings(Duration.ZERO, SYNC_PERIOD, retry), clock, List.of(),
                listener);
    }

    /** What the kernel holds equals what a full sync of {@code state} gives in a fresh namespace. */
    private static void assertKernelHoldsAFullSyncOf(NetworkNamespace node, ProxyState state) throws Exception {
        try (NetworkNamespace reference = NetworkNamespace.create()) {
            JumpRules.of(IpFamily.V4).withCommandPrefix(reference.commandPrefix()).ensure();
            LineBuffer full = new IptablesRenderer(States.config()).render(state);
            IptablesRestore.of(IpFamily.V4).withCommandPrefix(reference.commandPrefix())
                    .restore(full::writeTo);
            assertThat(SavedRuleset.of(node)).isEqualTo(SavedRuleset.of(reference));
        }
    }

    private static SyncResult await(List<SyncResult> results, Predicate<SyncResult> condition)
            throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            for (SyncResult result : results) {
                if (condition.test(result)) {
                    return result;
                }
            }
            TimeUnit.MILLISECONDS.sleep(20);
        }
        throw new AssertionError("no such sync within " + WAIT + "; syncs: " + results);
    }
}
