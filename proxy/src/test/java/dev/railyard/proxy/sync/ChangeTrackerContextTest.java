package dev.railyard.proxy.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.model.IpFamily;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1ServiceCIDR;
import io.kubernetes.client.openapi.models.V1ServiceCIDRSpec;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The node's zone and the cluster's ServiceCIDRs reach the state, and a change of either makes the sync full. */
class ChangeTrackerContextTest {
    private final AtomicInteger notified = new AtomicInteger();
    private final ChangeTracker tracker = new ChangeTracker("node-a", notified::incrementAndGet);

    private static V1Node node(String name, String zone) {
        return new V1Node().metadata(new V1ObjectMeta().name(name)
                .labels(zone == null ? Map.of() : Map.of("topology.kubernetes.io/zone", zone)));
    }

    private static V1ServiceCIDR serviceCidr(String name, String... cidrs) {
        return new V1ServiceCIDR().metadata(new V1ObjectMeta().name(name))
                .spec(new V1ServiceCIDRSpec().cidrs(List.of(cidrs)));
    }

    @Test
    void aZoneLabelChangeOfThisNodeChangesTheStateAndAsksForAFullSync() {
        tracker.onServiceChange(null, Kube.service("web", "10.96.0.10", "TCP", 80));
        assertThat(tracker.drain(IpFamily.V4).contextChanged()).isFalse();

        tracker.onNodeChange(null, node("node-b", "zone-b"));
        assertThat(tracker.drain(IpFamily.V4).state().zone()).as("another node's labels").isEmpty();

        int before = notified.get();
        tracker.onNodeChange(null, node("node-a", "zone-a"));
        assertThat(notified.get()).as("a sync is asked for").isGreaterThan(before);
        StateUpdate update = tracker.drain(IpFamily.V4);
        assertThat(update.contextChanged()).isTrue();
        assertThat(update.state().zone()).isEqualTo("zone-a");
        assertThat(update.state().serviceCount()).isEqualTo(1);
        assertThat(tracker.drain(IpFamily.V6).state().zone()).as("every family").isEqualTo("zone-a");

        StateUpdate again = tracker.drain(IpFamily.V4);
        assertThat(again.contextChanged()).as("no change since the last drain").isFalse();
        assertThat(again.state().zone()).isEqualTo("zone-a");

        tracker.onNodeChange(node("node-a", "zone-a"), node("node-a", null));
        StateUpdate unlabelled = tracker.drain(IpFamily.V4);
        assertThat(unlabelled.contextChanged()).isTrue();
        assertThat(unlabelled.state().zone()).isEmpty();
    }

    @Test
    void serviceCidrsReachTheStateByFamilyAndAChangeAsksForAFullSync() {
        assertThat(tracker.drain(IpFamily.V4).state().serviceCidrs()).as("none delivered: unknown").isNull();

        tracker.onServiceCidrChange(null, serviceCidr("kubernetes", "10.96.0.0/12", "fd00:96::/112"));
        StateUpdate v4 = tracker.drain(IpFamily.V4);
        assertThat(v4.contextChanged()).isTrue();
        assertThat(v4.state().serviceCidrs()).containsExactly("10.96.0.0/12");
        assertThat(tracker.drain(IpFamily.V6).state().serviceCidrs()).containsExactly("fd00:96::/112");

        tracker.onServiceCidrChange(null, serviceCidr("extra", "172.50.0.0/16"));
        assertThat(tracker.drain(IpFamily.V4).state().serviceCidrs()).containsExactly("172.50.0.0/16", "10.96.0.0/12");

        tracker.onServiceCidrChange(null, serviceCidr("broken", "not-a-cidr"));
        assertThat(tracker.problems()).singleElement().satisfies(p -> assertThat(p.field()).isEqualTo("spec.cidrs[0]"));
        assertThat(tracker.drain(IpFamily.V4).contextChanged()).as("an invalid one changes nothing").isFalse();

        tracker.onServiceCidrChange(serviceCidr("extra", "172.50.0.0/16"), null);
        tracker.onServiceCidrChange(serviceCidr("kubernetes", "10.96.0.0/12", "fd00:96::/112"), null);
        StateUpdate none = tracker.drain(IpFamily.V4);
        assertThat(none.contextChanged()).isTrue();
        assertThat(none.state().serviceCidrs()).as("all deleted: known to be none").isEmpty();
    }
}
