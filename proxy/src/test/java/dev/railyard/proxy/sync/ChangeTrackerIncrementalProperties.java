package dev.railyard.proxy.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.testkit.ManualClock;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1Service;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The tracker's state, updated service by service between drains, is the state a fresh tracker builds whole. */
class ChangeTrackerIncrementalProperties {
    private static final Instant START = Instant.parse("2026-12-03T10:00:00Z");
    private static final List<String> NAMES = List.of("api", "db", "web", "zz");

    /** One change: a service (re)defined or deleted, or its slice given endpoints; then maybe a drain. */
    record Change(String name, int kind, int port, List<Integer> hosts, boolean drain) {
    }

    @Provide
    Arbitrary<List<Change>> changes() {
        return Combinators.combine(Arbitraries.of(NAMES), Arbitraries.integers().between(0, 3),
                Arbitraries.of(80, 443), Arbitraries.integers().between(1, 9).list().ofMaxSize(4),
                Arbitraries.of(true, false)).as(Change::new).list().ofMinSize(1).ofMaxSize(30);
    }

    @Property(tries = 200)
    void everyDrainedStateEqualsOneBuiltFromScratch(@ForAll("changes") List<Change> changes) {
        ChangeTracker tracker = tracker();
        Map<String, V1Service> services = new HashMap<>();
        Map<String, V1EndpointSlice> slices = new HashMap<>();
        for (Change change : changes) {
            switch (change.kind()) {
                case 0 -> {
                    V1Service service = Kube.service(change.name(), "10.96.0." + (NAMES.indexOf(change.name()) + 10),
                            "TCP", change.port());
                    tracker.onServiceChange(services.put(change.name(), service), service);
                }
                case 1 -> tracker.onServiceChange(services.remove(change.name()), null);
                case 2 -> {
                    String[] endpoints = change.hosts().stream().distinct().map(h -> "10.244.1." + h)
                            .toArray(String[]::new);
                    V1EndpointSlice slice = Kube.slice(change.name() + "-1", change.name(), "TCP", 8080, endpoints);
                    tracker.onEndpointSliceChange(slices.put(change.name(), slice), slice);
                }
                default -> tracker.onEndpointSliceChange(slices.remove(change.name()), null);
            }
            if (change.drain()) {
                assertSameEntries(tracker.drain(IpFamily.V4).state(), fresh(services, slices));
            }
        }
        assertSameEntries(tracker.drain(IpFamily.V4).state(), fresh(services, slices));
    }

    private static ProxyState fresh(Map<String, V1Service> services, Map<String, V1EndpointSlice> slices) {
        ChangeTracker fresh = tracker();
        services.values().forEach(service -> fresh.onServiceChange(null, service));
        slices.values().forEach(slice -> fresh.onEndpointSliceChange(null, slice));
        return fresh.drain(IpFamily.V4).state();
    }

    private static void assertSameEntries(ProxyState actual, ProxyState expected) {
        assertThat(describe(actual)).isEqualTo(describe(expected));
        assertThat(actual.endpointCount()).isEqualTo(expected.endpointCount());
    }

    private static List<String> describe(ProxyState state) {
        List<String> lines = new ArrayList<>();
        for (ProxyState.Entry entry : state.entries()) {
            lines.add(entry.service() + " -> " + entry.endpoints());
        }
        return lines;
    }

    private static ChangeTracker tracker() {
        ChangeTracker tracker = new ChangeTracker(States.NODE, "test", new ManualClock(START), () -> { }, p -> { });
        tracker.onServicesSynced();
        tracker.onEndpointSlicesSynced();
        return tracker;
    }
}
