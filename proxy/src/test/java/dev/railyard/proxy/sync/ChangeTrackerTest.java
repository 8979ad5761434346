package dev.railyard.proxy.sync;

import dev.railyard.testkit.ManualClock;
import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePortName;
import dev.railyard.proxy.source.Problem;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1Service;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ChangeTrackerTest {
    private static final Instant START = Instant.parse("2026-11-23T10:00:00Z");

    private final ManualClock clock = new ManualClock(START);
    private final AtomicInteger changeCalls = new AtomicInteger();
    private final List<Problem> reported = new ArrayList<>();
    private final ChangeTracker tracker = new ChangeTracker(States.NODE, "test", clock,
            changeCalls::incrementAndGet, reported::add);

    @Test
    void changeAndChangeBackBetweenDrainsIsNoChange() {
        tracker.onServiceChange(null, Kube.service("web", "10.96.0.10", "TCP", 80));
        tracker.onEndpointSliceChange(null, Kube.slice("web-1", "web", "TCP", 8080, "10.244.1.5@node-b"));
        StateUpdate first = tracker.drain(IpFamily.V4);
        assertThat(first.changedServices()).containsExactly("default/web");

        V1Service a = Kube.service("web", "10.96.0.10", "TCP", 80);
        V1Service b = Kube.service("web", "10.96.0.10", "TCP", 81);
        tracker.onServiceChange(a, b);
        tracker.onServiceChange(b, a);
        V1EndpointSlice sliceA = Kube.slice("web-1", "web", "TCP", 8080, "10.244.1.5@node-b");
        V1EndpointSlice sliceB = Kube.slice("web-1", "web", "TCP", 8080, "10.244.1.6@node-b");
        tracker.onEndpointSliceChange(sliceA, sliceB);
        tracker.onEndpointSliceChange(sliceB, sliceA);
        StateUpdate second = tracker.drain(IpFamily.V4);

        assertThat(second.changedServices()).isEmpty();
        assertThat(second.firstChangeTimes()).isEmpty();
        assertThat(second.state()).isSameAs(first.state());
        assertThat(changeCalls).hasValue(6);
    }

    @Test
    void deletingObjectsNeverSeenChangesNothing() {
        tracker.onServiceChange(Kube.service("ghost", "10.96.0.99", "TCP", 80), null);
        tracker.onEndpointSliceChange(Kube.slice("ghost-1", "ghost", "TCP", 80, "10.244.9.9"), null);

        StateUpdate update = tracker.drain(IpFamily.V4);

        assertThat(update.changedServices()).isEmpty();
        assertThat(update.state().serviceCount()).isZero();
        assertThat(tracker.problems()).isEmpty();
    }

    @Test
    void invalidServiceUpdateKeepsItsLastValidStateAndIsReported() {
        V1Service web = Kube.service("web", "10.96.0.10", "TCP", 80);
        tracker.onServiceChange(null, web);
        tracker.onServiceChange(null, Kube.service("db", "10.96.0.11", "TCP", 5432));
        tracker.onEndpointSliceChange(null, Kube.slice("web-1", "web", "TCP", 8080, "10.244.1.5"));
        ProxyState before = tracker.drain(IpFamily.V4).state();

        V1Service broken = Kube.service("web", "10.96.0.10", "TCP", 80);
        broken.getSpec().sessionAffinity("Sticky");
        tracker.onServiceChange(web, broken);
        V1Service brokenNew = Kube.service("cache", "10.96.0.12", "TCP", 99999);
        tracker.onServiceChange(null, brokenNew);
        StateUpdate update = tracker.drain(IpFamily.V4);

        assertThat(update.changedServices()).isEmpty();
        assertThat(update.state()).isSameAs(before);
        assertThat(update.state().entries()).extracting(e -> e.service().name().serviceKey())
                .containsExactly("default/db", "default/web");
        assertThat(tracker.problems()).extracting(Problem::object)
                .containsExactly("Service default/cache", "Service default/web");
        assertThat(tracker.problems().get(1).field()).isEqualTo("spec.sessionAffinity");
        assertThat(tracker.problems().get(1).message()).contains("last valid version stays in effect");
        assertThat(reported).hasSize(2);

        // A valid update clears the problem and is applied; a deletion clears the other.
        tracker.onServiceChange(broken, Kube.service("web", "10.96.0.10", "TCP", 81));
        tracker.onServiceChange(brokenNew, null);
        StateUpdate fixed = tracker.drain(IpFamily.V4);
        assertThat(tracker.problems()).isEmpty();
        assertThat(fixed.changedServices()).containsExactly("default/web");
        assertThat(fixed.state().entries().get(1).service().port()).isEqualTo(81);
    }

    @Test
    void invalidSliceUpdateKeepsItsLastValidEndpoints() {
        tracker.onServiceChange(null, Kube.service("web", "10.96.0.10", "TCP", 80));
        V1EndpointSlice slice = Kube.slice("web-1", "web", "TCP", 8080, "10.244.1.5");
        tracker.onEndpointSliceChange(null, slice);
        tracker.drain(IpFamily.V4);

        V1EndpointSlice broken = Kube.slice("web-1", "web", "TCP", 8080, "10.244.1.6", "not-an-ip");
        tracker.onEndpointSliceChange(slice, broken);
        StateUpdate update = tracker.drain(IpFamily.V4);

        assertThat(update.changedServices()).isEmpty();
        assertThat(update.state().entries().get(0).endpoints()).extracting(Endpoint::ip).containsExactly("10.244.1.5");
        assertThat(tracker.problems()).singleElement().satisfies(p -> {
            assertThat(p.object()).isEqualTo("EndpointSlice default/web-1");
            assertThat(p.field()).isEqualTo("endpoints[1].addresses[0]");
        });
    }

    @Test
    void changedSetNamesOnlyServicesWhoseRulesInputsChanged() {
        tracker.onServiceChange(null, Kube.service("web", "10.96.0.10", "TCP", 80));
        tracker.onServiceChange(null, Kube.service("db", "10.96.0.11", "TCP", 5432));
        tracker.onServiceChange(null, Kube.dualStackService("dual", "10.96.0.12", "fd00:96::12", 80));
        tracker.drain(IpFamily.V4);
        tracker.drain(IpFamily.V6);

        tracker.onEndpointSliceChange(null, Kube.slice("db-1", "db", "TCP", 5432, "10.244.1.7"));
        tracker.onEndpointSliceChange(null, Kube.slice("dual-v6", "dual", "TCP", 8080, "fd00:244::7"));
        // An update that changes nothing the proxy reads (a label) is no change either.
        V1Service relabelled = Kube.service("web", "10.96.0.10", "TCP", 80);
        relabelled.getMetadata().labels(java.util.Map.of("team", "blue"));
        tracker.onServiceChange(Kube.service("web", "10.96.0.10", "TCP", 80), relabelled);

        assertThat(tracker.drain(IpFamily.V4).changedServices()).containsExactly("default/db");
        StateUpdate v6 = tracker.drain(IpFamily.V6);
        assertThat(v6.changedServices()).containsExactly("default/dual");
        assertThat(v6.state().entries().get(0).endpoints()).extracting(Endpoint::ip).containsExactly("fd00:244::7");
        assertThat(tracker.drain(IpFamily.V4).changedServices()).as("drained already").isEmpty();
    }

    @Test
    void endpointsMergeAcrossSlicesPreferringTheCopyOnThisNode() {
        tracker.onServiceChange(null, Kube.service("web", "10.96.0.10", "TCP", 80));
        tracker.onEndpointSliceChange(null, Kube.slice("web-a", "web", "TCP", 8080, "10.244.1.5@node-b",
                "10.244.1.6@node-b"));
        tracker.onEndpointSliceChange(null, Kube.slice("web-b", "web", "TCP", 8080, "10.244.1.5@" + States.NODE,
                "10.244.1.7"));

        List<Endpoint> merged = tracker.drain(IpFamily.V4).state().entries().get(0).endpoints();

        assertThat(merged).extracting(Endpoint::hostPort)
                .containsExactly("10.244.1.5:8080", "10.244.1.6:8080", "10.244.1.7:8080");
        assertThat(merged.get(0).isOn(States.NODE)).isTrue();

        // An endpoint moving out of one slice stays while the other still lists it.
        tracker.onEndpointSliceChange(null, Kube.slice("web-b", "web", "TCP", 8080, "10.244.1.7"));
        List<Endpoint> after = tracker.drain(IpFamily.V4).state().entries().get(0).endpoints();
        assertThat(after).extracting(Endpoint::hostPort)
                .containsExactly("10.244.1.5:8080", "10.244.1.6:8080", "10.244.1.7:8080");
        assertThat(after.get(0).isOn(States.NODE)).isFalse();

        tracker.onEndpointSliceChange(Kube.slice("web-a", "web", "TCP", 8080), null);
        assertThat(tracker.drain(IpFamily.V4).state().entries().get(0).endpoints()).extracting(Endpoint::hostPort)
                .containsExactly("10.244.1.7:8080");
    }

    @Test
    void unchangedServicePortsAndEndpointsAreTheSameObjectsInTheNextState() {
        tracker.onServiceChange(null, Kube.service("web", "10.96.0.10", "TCP", 80));
        tracker.onServiceChange(null, Kube.service("db", "10.96.0.11", "TCP", 5432));
        tracker.onEndpointSliceChange(null, Kube.slice("web-1", "web", "TCP", 8080, "10.244.1.5", "10.244.1.6"));
        ProxyState before = tracker.drain(IpFamily.V4).state();

        tracker.onEndpointSliceChange(null, Kube.slice("web-1", "web", "TCP", 8080, "10.244.1.5", "10.244.1.8"));
        tracker.onServiceChange(null, Kube.service("cache", "10.96.0.12", "TCP", 6379));
        ProxyState after = tracker.drain(IpFamily.V4).state();

        ProxyState.Entry dbBefore = before.entries().get(0);
        ProxyState.Entry webBefore = before.entries().get(1);
        ProxyState.Entry dbAfter = after.entries().get(1);
        ProxyState.Entry webAfter = after.entries().get(2);
        assertThat(dbAfter.service()).isSameAs(dbBefore.service());
        assertThat(webAfter.service()).isSameAs(webBefore.service());
        assertThat(webAfter.endpoints().get(0)).isSameAs(webBefore.endpoints().get(0));
        assertThat(webAfter.endpoints().get(1).ip()).isEqualTo("10.244.1.8");
    }

    @Test
    void udpEndpointsThatStopServingAndPortsThatStartAreReported() {
        tracker.onServiceChange(null, Kube.service("dns", "10.96.0.53", "UDP", 53));
        tracker.onServiceChange(null, Kube.service("web", "10.96.0.10", "TCP", 80));
        tracker.onEndpointSliceChange(null, Kube.slice("web-1", "web", "TCP", 80, "10.244.1.5"));
        StateUpdate first = tracker.drain(IpFamily.V4);
        assertThat(first.newlyActiveUdpPorts()).isEmpty();

        tracker.onEndpointSliceChange(null, Kube.slice("dns-1", "dns", "UDP", 53, "10.244.1.53", "10.244.2.53"));
        StateUpdate active = tracker.drain(IpFamily.V4);
        assertThat(active.newlyActiveUdpPorts()).containsExactly(States.name("dns", Protocol.UDP));
        assertThat(active.goneUdpEndpoints()).isEmpty();

        tracker.onEndpointSliceChange(null, Kube.slice("dns-1", "dns", "UDP", 53, "10.244.2.53"));
        tracker.onEndpointSliceChange(null, Kube.slice("web-1", "web", "TCP", 80)); // TCP needs no cleanup
        StateUpdate gone = tracker.drain(IpFamily.V4);
        assertThat(gone.goneUdpEndpoints()).extracting(StaleUdpEndpoint::toString)
                .containsExactly("default/dns -> 10.244.1.53:53");
        assertThat(gone.newlyActiveUdpPorts()).isEmpty();
    }

    @Test
    void firstChangeTimeIsTheEarliestPendingTriggerOfEachChangedService() {
        tracker.onServiceChange(null, Kube.service("web", "10.96.0.10", "TCP", 80));
        tracker.onServiceChange(null, Kube.service("db", "10.96.0.11", "TCP", 5432));
        tracker.drain(IpFamily.V4);

        clock.advance(Duration.ofSeconds(10));
        Instant triggered = START.plusSeconds(7);
        tracker.onEndpointSliceChange(null, Kube.withTriggerTime(
                Kube.slice("web-1", "web", "TCP", 8080, "10.244.1.5"), triggered.toString()));
        clock.advance(Duration.ofSeconds(5));
        tracker.onEndpointSliceChange(null, Kube.slice("web-1", "web", "TCP", 8080, "10.244.1.5", "10.244.1.6"));
        // A trigger time from before the tracker started (the initial list) is not a change this proxy saw.
        tracker.onEndpointSliceChange(null, Kube.withTriggerTime(
                Kube.slice("db-1", "db", "TCP", 5432, "10.244.1.7"), START.minusSeconds(60).toString()));
        StateUpdate update = tracker.drain(IpFamily.V4);

        assertThat(update.firstChangeTimes()).containsEntry("default/web", triggered)
                .containsEntry("default/db", START.plusSeconds(15)).hasSize(2);
    }

    @Test
    void syncedOnlyOnceBothKindsHaveBeenListed() {
        assertThat(tracker.isSynced()).isFalse();
        tracker.onServicesSynced();
        assertThat(tracker.isSynced()).isFalse();
        tracker.onEndpointSlicesSynced();
        assertThat(tracker.isSynced()).isTrue();
        assertThat(changeCalls).hasValue(2);
    }

    @Test
    void serviceThatBecomesHeadlessIsRemoved() {
        V1Service web = Kube.service("web", "10.96.0.10", "TCP", 80);
        tracker.onServiceChange(null, web);
        tracker.drain(IpFamily.V4);

        V1Service headless = Kube.service("web", "10.96.0.10", "TCP", 80);
        headless.getSpec().clusterIP("None").clusterIPs(List.of("None"));
        tracker.onServiceChange(web, headless);
        StateUpdate update = tracker.drain(IpFamily.V4);

        assertThat(update.changedServices()).containsExactly("default/web");
        assertThat(update.state().serviceCount()).isZero();
        assertThat(tracker.problems()).isEmpty();
    }

    @Test
    void endpointsWithoutTheirServiceAreKeptForWhenItArrives() {
        tracker.onEndpointSliceChange(null, Kube.slice("web-1", "web", "TCP", 8080, "10.244.1.5"));
        assertThat(tracker.drain(IpFamily.V4).state().serviceCount()).isZero();

        tracker.onServiceChange(null, Kube.service("web", "10.96.0.10", "TCP", 80));
        StateUpdate update = tracker.drain(IpFamily.V4);

        assertThat(update.changedServices()).containsExactly("default/web");
        assertThat(update.state().entries().get(0).endpoints()).extracting(Endpoint::ip)
                .containsExactly("10.244.1.5");
        ServicePortName name = update.state().entries().get(0).service().name();
        assertThat(name).isEqualTo(States.name("web", Protocol.TCP));
    }
}
