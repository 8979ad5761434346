package dev.railyard.proxy.daemon.ops;

import dev.railyard.proxy.userspace.TrafficStats;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * Userspace mode's per-service traffic: one series per service port and family, labelled
 * {@code service="namespace/name:port"}, {@code protocol} and {@code ip_family}. kube-proxy has no such metrics
 * (its userspace mode exported none), so the names are Railyard's. Collected from a snapshot the proxier takes at
 * scrape time; no state here.
 */
final class UserspaceTrafficMetrics implements MultiCollector {
    private volatile Supplier<List<TrafficStats>> source = List::of;

    void source(Supplier<List<TrafficStats>> stats) {
        this.source = Objects.requireNonNull(stats, "stats");
    }

    @Override
    public MetricSnapshots collect() {
        List<TrafficStats> stats = source.get();
        if (stats.isEmpty()) {
            return MetricSnapshots.of();
        }
        List<MetricSnapshot> snapshots = new ArrayList<>();
        snapshots.add(counter(stats, "railyard_userspace_connections",
                "TCP connections accepted by the userspace proxy", TrafficStats::connectionsOpened));
        snapshots.add(gauge(stats, "railyard_userspace_active_connections",
                "TCP connections through the userspace proxy now open", TrafficStats::connectionsActive));
        CounterSnapshot.Builder bytes = CounterSnapshot.builder().name("railyard_userspace_bytes")
                .help("Bytes relayed by the userspace proxy: in = client to endpoint, out = endpoint to client");
        for (TrafficStats s : stats) {
            bytes.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
                    .labels(labels(s).add("direction", "in")).value(s.bytesIn()).build());
            bytes.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
                    .labels(labels(s).add("direction", "out")).value(s.bytesOut()).build());
        }
        snapshots.add(bytes.build());
        snapshots.add(counter(stats, "railyard_userspace_connect_errors",
                "Failed connection attempts from the userspace proxy to endpoints", TrafficStats::connectErrors));
        snapshots.add(counter(stats, "railyard_userspace_rejected",
                "Connections and UDP sessions refused: no usable endpoint, or every attempt failed",
                TrafficStats::rejected));
        snapshots.add(counter(stats, "railyard_userspace_resets",
                "TCP connections aborted by a reset or an I/O error on either side", TrafficStats::resets));
        snapshots.add(counter(stats, "railyard_userspace_udp_sessions",
                "UDP client sessions opened by the userspace proxy", TrafficStats::udpSessionsOpened));
        snapshots.add(gauge(stats, "railyard_userspace_udp_active_sessions", "UDP client sessions now open",
                TrafficStats::udpSessionsActive));
        snapshots.add(counter(stats, "railyard_userspace_udp_dropped",
                "Datagrams dropped: session limit reached or a socket not writable", TrafficStats::udpDropped));
        snapshots.add(counter(stats, "railyard_userspace_source_range_denied",
                "Load-balancer traffic from outside loadBalancerSourceRanges: TCP connections reset, UDP datagrams "
                        + "dropped", TrafficStats::sourceRangeDenied));
        return new MetricSnapshots(snapshots);
    }

    /** Counter snapshots are named without "_total"; the text format adds it to each sample. */
    private static CounterSnapshot counter(List<TrafficStats> stats, String name, String help,
                                           ToLongFunction<TrafficStats> value) {
        CounterSnapshot.Builder builder = CounterSnapshot.builder().name(name).help(help);
        for (TrafficStats s : stats) {
            builder.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().labels(labels(s))
                    .value(value.applyAsLong(s)).build());
        }
        return builder.build();
    }

    private static GaugeSnapshot gauge(List<TrafficStats> stats, String name, String help,
                                       ToLongFunction<TrafficStats> value) {
        GaugeSnapshot.Builder builder = GaugeSnapshot.builder().name(name).help(help);
        for (TrafficStats s : stats) {
            builder.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels(s))
                    .value(value.applyAsLong(s)).build());
        }
        return builder.build();
    }

    private static Labels labels(TrafficStats s) {
        return Labels.of("service", s.service().toString(), "protocol", s.service().protocol().name(),
                "ip_family", s.family().kubernetesName());
    }
}
