package dev.railyard.proxy.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.apply.IptablesBackend;
import dev.railyard.proxy.apply.IptablesRestore;
import dev.railyard.proxy.apply.JumpRules;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.render.IptablesRenderer;
import dev.railyard.testkit.ManualClock;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.RequiresPrivileges;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** railyard apply's sync, in network namespaces: what it leaves is what the daemon's first full sync leaves. */
@RequiresPrivileges(commands = {"iptables-restore", "iptables-save", "iptables", "ip"})
class OneShotSyncKernelTest {

    @Test
    void checkingChangesNothingAndApplyingLeavesWhatTheDaemonsFirstSyncLeaves() throws Exception {
        try (NetworkNamespace daemonNode = NetworkNamespace.create();
             NetworkNamespace oneShotNode = NetworkNamespace.create()) {
            ChangeTracker tracker = new ChangeTracker(States.NODE, "test",
                    new ManualClock(Instant.parse("2026-12-01T00:00:00Z")), () -> { }, p -> { });
            tracker.onServiceChange(null, Kube.nodePortService("web", "10.96.0.10", 80, 30080));
            tracker.onEndpointSliceChange(null, Kube.slice("web-1", "web", "TCP", 8080, "10.244.1.5@node-a",
                    "10.244.2.5@node-b"));
            tracker.onServiceChange(null, Kube.service("dns", "10.96.0.53", "UDP", 53));
            tracker.onServicesSynced();
            tracker.onEndpointSlicesSynced();
            IptablesSyncer daemon = new IptablesSyncer(tracker, new IptablesRenderer(States.config()),
                    IptablesRestore.of(IpFamily.V4).withCommandPrefix(daemonNode.commandPrefix()),
                    JumpRules.of(IpFamily.V4).withCommandPrefix(daemonNode.commandPrefix()),
                    IptablesSyncer.Settings.kubeProxyDefaults(), new ManualClock(Instant.EPOCH), List.of(), r -> { });
            SyncResult first = daemon.syncNow();
            assertThat(first.succeeded()).as(String.valueOf(first.error())).isTrue();

            OneShotSync oneShot = OneShotSync.of(States.config(), IptablesBackend.AUTO, oneShotNode.commandPrefix());
            String before = SavedRuleset.of(oneShotNode);
            OneShotSync.Checked checked = oneShot.check(first.state());
            assertThat(SavedRuleset.of(oneShotNode)).as("after the dry run").isEqualTo(before);
            oneShot.apply(checked);

            assertThat(SavedRuleset.of(oneShotNode)).isEqualTo(SavedRuleset.of(daemonNode));
        }
    }

    @Test
    void chainsAnEarlierRunLeftAreDeletedWhenNoServiceNeedsThem() throws Exception {
        try (NetworkNamespace node = NetworkNamespace.create();
             NetworkNamespace fresh = NetworkNamespace.create()) {
            OneShotSync earlier = OneShotSync.of(States.config(), IptablesBackend.AUTO, node.commandPrefix());
            earlier.apply(earlier.check(States.sample().state()));
            ProxyState withoutGone = States.sample().remove("gone", Protocol.TCP).state();

            OneShotSync later = OneShotSync.of(States.config(), IptablesBackend.AUTO, node.commandPrefix());
            OneShotSync.Checked checked = later.check(withoutGone);
            later.apply(checked);
            OneShotSync reference = OneShotSync.of(States.config(), IptablesBackend.AUTO, fresh.commandPrefix());
            reference.apply(reference.check(withoutGone));

            assertThat(checked.deletedChains()).as("gone's service and endpoint chains").isEqualTo(2);
            assertThat(SavedRuleset.of(node)).isEqualTo(SavedRuleset.of(fresh));
            assertThat(SavedRuleset.of(node)).doesNotContain(States.name("gone", Protocol.TCP).hash());
        }
    }
}
