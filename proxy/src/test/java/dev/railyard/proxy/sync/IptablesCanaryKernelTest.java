package dev.railyard.proxy.sync;

import static dev.railyard.proxy.sync.SyncResult.Kind.FULL;
import static dev.railyard.proxy.sync.SyncResult.Kind.PARTIAL;
import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.apply.IptablesRestore;
import dev.railyard.proxy.apply.JumpRules;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.render.IptablesRenderer;
import dev.railyard.testkit.ManualClock;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.RequiresPrivileges;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * iptables mode syncs fully once an hour, as kube-proxy 1.28+; what brings the rules back sooner after someone
 * flushed the tables is kube-proxy's canary: an empty chain in mangle, nat and filter whose loss asks for a full
 * sync. Against the real iptables of a namespace.
 */
@RequiresPrivileges(commands = {"iptables-restore", "iptables-save", "iptables", "ip"})
class IptablesCanaryKernelTest {
    private static final Duration SYNC_PERIOD = Duration.ofSeconds(30);

    @Test
    void aFlushOfTheTablesBringsAFullSyncThatPutsTheRulesBack() throws Exception {
        try (NetworkNamespace node = NetworkNamespace.create()) {
            ManualClock clock = new ManualClock(Instant.parse("2026-12-03T10:00:00Z"));
            ChangeTracker tracker = new ChangeTracker(States.NODE, "test", clock, () -> { }, p -> { });
            IptablesSyncer syncer = new IptablesSyncer(tracker, new IptablesRenderer(States.config()),
                    IptablesRestore.of(IpFamily.V4).withCommandPrefix(node.commandPrefix()),
                    JumpRules.of(IpFamily.V4).withCommandPrefix(node.commandPrefix()),
                    new IptablesSyncer.Settings(Duration.ZERO, SYNC_PERIOD, SYNC_PERIOD), clock, List.of(),
                    r -> { });
            tracker.onServiceChange(null, Kube.service("web", "10.96.0.10", "TCP", 80));
            tracker.onEndpointSliceChange(null, Kube.slice("web-1", "web", "TCP", 8080, "10.244.1.5"));
            tracker.onServicesSynced();
            tracker.onEndpointSlicesSynced();
            assertThat(syncer.syncNow().kind()).isEqualTo(FULL);

            try (IptablesCanary canary = IptablesCanary.start(
                    JumpRules.of(IpFamily.V4).withCommandPrefix(node.commandPrefix()), syncer, Duration.ofHours(1))) {
                for (String table : IptablesCanary.TABLES) {
                    node.execChecked("iptables", "-t", table, "-S", "KUBE-PROXY-CANARY");
                }
                assertThat(canary.look()).as("nothing flushed").isFalse();
                clock.advance(SYNC_PERIOD.plusSeconds(1));
                assertThat(syncer.syncNow().kind()).as("a sync period later, nothing asked for").isEqualTo(PARTIAL);

                // What a firewall service's reload does: every rule and chain of the nat table gone.
                node.execChecked("iptables", "-t", "nat", "-F");
                node.execChecked("iptables", "-t", "nat", "-X");
                assertThat(node.execChecked("iptables-save", "-t", "nat").stdout()).doesNotContain("KUBE-SERVICES");

                assertThat(canary.look()).as("the nat canary is gone").isTrue();
                SyncResult repair = syncer.syncNow();
                assertThat(repair.kind()).isEqualTo(FULL);
                assertThat(repair.succeeded()).isTrue();
                assertThat(node.execChecked("iptables-save", "-t", "nat").stdout()).contains(
                        "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
                        "--to-destination 10.244.1.5:8080", ":KUBE-PROXY-CANARY");
                assertThat(canary.look()).as("planted again").isFalse();
            }
        }
    }
}
