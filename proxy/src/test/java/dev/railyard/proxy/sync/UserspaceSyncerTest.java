package dev.railyard.proxy.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.apply.IptablesRestore;
import dev.railyard.proxy.apply.JumpRules;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.render.CaptureRulesRenderer;
import dev.railyard.proxy.userspace.ListenMode;
import dev.railyard.proxy.userspace.TrafficKind;
import dev.railyard.proxy.userspace.UserspaceConfig;
import dev.railyard.proxy.userspace.UserspaceProxier;
import dev.railyard.testkit.ManualClock;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The userspace syncer on loopback: listeners follow the tracker; a failed capture restore is retried in full. */
class UserspaceSyncerTest {
    private static final IptablesSyncer.Settings SETTINGS = new IptablesSyncer.Settings(Duration.ZERO,
            Duration.ofSeconds(30), Duration.ofSeconds(1));

    private final ManualClock clock = new ManualClock(Instant.parse("2026-11-23T10:00:00Z"));
    private final ChangeTracker tracker = new ChangeTracker(States.NODE, "test", clock, () -> { }, p -> { });
    private final List<SyncResult> results = new CopyOnWriteArrayList<>();
    private UserspaceProxier proxier;

    @AfterEach
    void close() {
        if (proxier != null) {
            proxier.close();
        }
    }

    @Test
    void listenersFollowTheTrackerOnceBothKindsHaveSynced() throws Exception {
        proxier = new UserspaceProxier(UserspaceConfig.builder(States.NODE, InetAddress.getLoopbackAddress(),
                ListenMode.SERVICE_ADDRESSES).eventLoopThreads(1).build());
        UserspaceSyncer syncer = new UserspaceSyncer(IpFamily.V4, tracker, proxier, null, SETTINGS, clock,
                results::add);
        tracker.onServiceChange(null, Kube.service("web", "127.0.0.61", "TCP", 18461));
        tracker.onEndpointSliceChange(null, Kube.slice("web-1", "web", "TCP", 8080, "127.0.0.1"));
        tracker.onServicesSynced();

        assertThat(syncer.syncNow().kind()).isEqualTo(SyncResult.Kind.SKIPPED);
        assertThat(proxier.listeners()).isEmpty();

        tracker.onEndpointSlicesSynced();
        SyncResult first = syncer.syncNow();
        assertThat(first.succeeded()).isTrue();
        assertThat(first.services()).isEqualTo(1);
        assertThat(first.bytesWritten()).as("no capture, no iptables").isZero();
        assertThat(proxier.listeners()).singleElement().satisfies(l -> {
            assertThat(l.local().getAddress().getHostAddress()).isEqualTo("127.0.0.61");
            assertThat(l.local().getPort()).isEqualTo(18461);
            assertThat(l.traffic()).isEqualTo(TrafficKind.INTERNAL);
        });

        tracker.onServiceChange(Kube.service("web", "127.0.0.61", "TCP", 18461), null);
        assertThat(syncer.syncNow().services()).isZero();
        assertThat(proxier.listeners()).as("a removed service closes its listener").isEmpty();
        assertThat(results).hasSize(3);
    }

    @Test
    void aFailedCaptureRestoreIsReportedWhileTheListenersStayOpen() throws Exception {
        proxier = new UserspaceProxier(UserspaceConfig.builder(States.NODE, InetAddress.getLoopbackAddress(),
                ListenMode.CAPTURE).eventLoopThreads(1).build());
        // "false" in front of every command: iptables never runs, and every restore fails.
        UserspaceSyncer.Capture failing = new UserspaceSyncer.Capture(new CaptureRulesRenderer(IpFamily.V4),
                IptablesRestore.of(IpFamily.V4).withCommandPrefix(List.of("false")),
                JumpRules.of(IpFamily.V4).withRules(List.of()).withCommandPrefix(List.of("false")));
        UserspaceSyncer syncer = new UserspaceSyncer(IpFamily.V4, tracker, proxier, failing, SETTINGS, clock,
                results::add);
        tracker.onServiceChange(null, Kube.service("web", "10.96.0.10", "TCP", 80));
        tracker.onEndpointSliceChange(null, Kube.slice("web-1", "web", "TCP", 8080, "127.0.0.1"));
        tracker.onServicesSynced();
        tracker.onEndpointSlicesSynced();

        SyncResult failed = syncer.syncNow();

        assertThat(failed.failed()).isTrue();
        assertThat(failed.error()).contains("iptables-restore");
        assertThat(failed.bytesWritten()).as("the capture rules were rendered").isPositive();
        assertThat(proxier.listeners()).as("the listeners opened all the same").hasSize(1);
        assertThat(syncer.lastResult()).isSameAs(failed);
    }
}
