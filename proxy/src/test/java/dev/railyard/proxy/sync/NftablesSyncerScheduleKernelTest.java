package dev.railyard.proxy.sync;

import static dev.railyard.proxy.sync.SyncResult.Kind.FULL;
import static dev.railyard.proxy.sync.SyncResult.Kind.PARTIAL;
import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.nftables.Family;
import dev.railyard.nftables.NftApplier;
import dev.railyard.nftables.netlink.NetlinkApplier;
import dev.railyard.proxy.render.nftables.Layout;
import dev.railyard.proxy.render.nftables.NftablesLayout;
import dev.railyard.proxy.render.nftables.NftablesRenderer;
import dev.railyard.testkit.ManualClock;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.RequiresPrivileges;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1Service;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * nftables mode's schedule is kube-proxy's nftables proxier's: full syncs at start, when asked and once an hour
 * (FullSyncPeriod), partial ones each sync period in between, because a full sync at 10,000 services is seconds
 * of kernel work. Against a real table in a namespace.
 */
@RequiresPrivileges(commands = {"nft", "ip"})
class NftablesSyncerScheduleKernelTest {
    private static final Duration SYNC_PERIOD = Duration.ofSeconds(30);

    private final ManualClock clock = new ManualClock(Instant.parse("2026-12-03T10:00:00Z"));
    private final ChangeTracker tracker = new ChangeTracker(States.NODE, "test", clock, () -> { }, p -> { });

    private NftablesSyncer syncer(NftablesRenderer renderer, NftApplier applier) {
        return new NftablesSyncer(tracker, renderer, applier,
                new IptablesSyncer.Settings(Duration.ZERO, SYNC_PERIOD, SYNC_PERIOD), clock, r -> { });
    }

    /** Service web (10.96.0.10:80) with one endpoint, then both kinds listed: syncs may begin. */
    private void webListed() {
        tracker.onServiceChange(null, web());
        tracker.onEndpointSliceChange(null, webSlice("10.244.1.5"));
        tracker.onServicesSynced();
        tracker.onEndpointSlicesSynced();
    }

    private static V1Service web() {
        return Kube.service("web", "10.96.0.10", "TCP", 80);
    }

    private static V1EndpointSlice webSlice(String endpoint) {
        return Kube.slice("web-1", "web", "TCP", 8080, endpoint);
    }

    @Test
    void aFullSyncEveryHourAndPartialOnesEverySyncPeriodInBetween() throws Exception {
        try (NetworkNamespace node = NetworkNamespace.create();
             NetlinkApplier applier = NetlinkApplier.open(node.name())) {
            NftablesRenderer renderer = new NftablesRenderer(States.config(), Layout.FLAT,
                    NftApplier.TableObjects.none()).splitFullSyncs(100);
            NftablesSyncer syncer = syncer(renderer, applier);
            webListed();

            SyncResult first = syncer.syncNow();
            assertThat(first.succeeded()).isTrue();
            assertThat(first.kind()).as("the first sync").isEqualTo(FULL);

            clock.advance(SYNC_PERIOD.plusSeconds(1));
            assertThat(syncer.syncNow().kind()).as("a sync period later, nothing asked for").isEqualTo(PARTIAL);
            tracker.onEndpointSliceChange(webSlice("10.244.1.5"), webSlice("10.244.1.6"));
            clock.advance(Duration.ofMinutes(30));
            SyncResult change = syncer.syncNow();
            assertThat(change.kind()).as("half an hour later, one endpoint changed").isEqualTo(PARTIAL);
            assertThat(change.succeeded()).isTrue();
            assertThat(change.bytesWritten()).as("netlink bytes of the partial sync, logged as bytes=")
                    .isPositive().isLessThan(first.bytesWritten());
            assertThat(applier.listElements(Family.IP, NftablesLayout.TABLE, endpointMap(applier)))
                    .extracting(e -> e.valueText()).containsExactly("10.244.1.6 . 8080");

            clock.advance(Duration.ofMinutes(30));
            assertThat(syncer.syncNow().kind()).as("an hour after the last full sync").isEqualTo(FULL);
            assertThat(syncer.syncNow().kind()).isEqualTo(PARTIAL);
            syncer.requestFullSync();
            assertThat(syncer.syncNow().kind()).as("asked for").isEqualTo(FULL);
        }
    }

    /**
     * A stale chain something else still jumps to cannot be deleted (EBUSY). kube-proxy makes the next sync full;
     * refused again, the deletion waits for the sync period instead of a full sync every second, and no chain is
     * counted as deleted until one is.
     */
    @Test
    void aStaleChainStillReferencedElsewhereDoesNotKeepForcingFullSyncs() throws Exception {
        try (NetworkNamespace node = NetworkNamespace.create();
             NetlinkApplier applier = NetlinkApplier.open(node.name())) {
            NftablesRenderer renderer = new NftablesRenderer(States.config(), Layout.KUBE_PROXY,
                    NftApplier.TableObjects.none());
            NftablesSyncer syncer = syncer(renderer, applier);
            webListed();
            assertThat(syncer.syncNow().kind()).isEqualTo(FULL);
            String serviceChain = applier.listObjects(Family.IP, NftablesLayout.TABLE).chains().stream()
                    .filter(c -> c.startsWith("service-") && c.contains("/web/")).findFirst().orElseThrow();
            node.execChecked("nft", "add chain ip kube-proxy foreign");
            node.execChecked("nft", "add rule ip kube-proxy foreign jump " + serviceChain);

            tracker.onEndpointSliceChange(webSlice("10.244.1.5"), null);
            tracker.onServiceChange(web(), null);
            clock.advance(Duration.ofSeconds(1));
            assertThat(syncer.syncNow().succeeded()).as("the service's chains flushed").isTrue();
            clock.advance(Duration.ofSeconds(2));
            SyncResult refused = syncer.syncNow();
            assertThat(refused.cleanupFailed()).as("deletion refused: still referenced").isTrue();
            assertThat(refused.deletedChains()).isZero();
            clock.advance(Duration.ofSeconds(2));
            assertThat(syncer.syncNow().kind()).as("kube-proxy's full sync after a refusal").isEqualTo(FULL);
            clock.advance(Duration.ofSeconds(2));
            SyncResult again = syncer.syncNow();
            assertThat(again.kind()).as("refused again: no full sync every second").isEqualTo(PARTIAL);
            assertThat(again.cleanupFailed()).isTrue();

            node.execChecked("nft", "flush chain ip kube-proxy foreign");
            clock.advance(SYNC_PERIOD);
            SyncResult freed = syncer.syncNow();
            assertThat(freed.cleanupFailed()).isFalse();
            assertThat(freed.deletedChains()).isPositive();
            assertThat(applier.listObjects(Family.IP, NftablesLayout.TABLE).chains()).doesNotContain(serviceChain);
        }
    }

    /**
     * Someone put a set where kube-proxy's layout has a map: every ordinary full sync is refused (EEXIST), since it
     * never deletes what it does not know. After two in a row the table is deleted and written whole, atomically.
     */
    @Test
    void aTableOthersBrokeIsRecreatedAfterRepeatedFullSyncFailures() throws Exception {
        try (NetworkNamespace node = NetworkNamespace.create();
             NetlinkApplier applier = NetlinkApplier.open(node.name())) {
            node.execChecked("nft", "add table ip kube-proxy");
            node.execChecked("nft", "add set ip kube-proxy service-ips { type ipv4_addr ; }");
            NftablesRenderer renderer = new NftablesRenderer(States.config(), Layout.KUBE_PROXY,
                    applier.listObjects(Family.IP, NftablesLayout.TABLE)).splitFullSyncs(100);
            NftablesSyncer syncer = syncer(renderer, applier);
            webListed();

            for (int attempt = 1; attempt <= NftablesSyncer.RECREATE_AFTER_FAILED_FULL_SYNCS; attempt++) {
                SyncResult refused = syncer.syncNow();
                assertThat(refused.kind()).isEqualTo(FULL);
                assertThat(refused.error()).as("attempt %d", attempt).contains("service-ips");
            }
            SyncResult recreated = syncer.syncNow();
            assertThat(recreated.succeeded()).as(String.valueOf(recreated.error())).isTrue();
            NftApplier.TableObjects table = applier.listObjects(Family.IP, NftablesLayout.TABLE);
            assertThat(table.maps()).contains("service-ips");
            assertThat(table.sets()).doesNotContain("service-ips");
            assertThat(applier.listElements(Family.IP, NftablesLayout.TABLE, "service-ips"))
                    .extracting(e -> e.keyText()).anySatisfy(key -> assertThat(key).startsWith("10.96.0.10 . tcp . 80"));

            tracker.onEndpointSliceChange(webSlice("10.244.1.5"), webSlice("10.244.1.6"));
            clock.advance(SYNC_PERIOD);
            SyncResult next = syncer.syncNow();
            assertThat(next.kind()).as("ordinary syncs again").isEqualTo(PARTIAL);
            assertThat(next.succeeded()).isTrue();
        }
    }

    private static String endpointMap(NftApplier applier) throws Exception {
        return applier.listObjects(Family.IP, NftablesLayout.TABLE).maps().stream()
                .filter(NftablesLayout::isEndpointMap).findFirst().orElseThrow();
    }
}
