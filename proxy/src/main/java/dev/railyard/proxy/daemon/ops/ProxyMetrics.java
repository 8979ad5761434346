package dev.railyard.proxy.daemon.ops;

import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.sync.SyncResult;
import dev.railyard.proxy.userspace.TrafficStats;

import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * kube-proxy's sync metrics (pkg/proxy/metrics/metrics.go: same names, help texts and buckets), plus a few
 * Railyard ones, in the Prometheus text format 0.0.4. Every per-proxier metric carries an {@code ip_family} label
 * ("IPv4"/"IPv6", the Kubernetes spelling) so a dual-stack node's two proxiers do not overwrite each other; a
 * family appears once its proxier has reported something.
 *
 * <p>Fed by {@link #accept(SyncResult)} (pass it as, or chain it into, the syncer's result listener),
 * {@link #queued(IpFamily)} (when a change asks for a sync) and {@link #healthProbe}. Thread-safe without locks:
 * updates touch adders and atomics only, so a slow scrape never delays a sync.
 *
 * <p>Each mode exports kube-proxy's set for it: iptables mode the restore-failure counters and the rule gauges,
 * nftables mode {@code sync_proxy_rules_nftables_sync_failures_total} and
 * {@code sync_proxy_rules_nftables_cleanup_failures_total} instead. Both export the conntrack reconciler's
 * {@code conntrack_reconciler_deleted_entries_total} and {@code conntrack_reconciler_sync_duration_seconds}
 * ({@link #conntrackReconciled}) and {@code sync_proxy_rules_no_local_endpoints_total}.
 *
 * <p>Not derivable from {@link SyncResult} and so not exported: kube-proxy's
 * {@code sync_proxy_rules_{endpoint,service}_changes_{total,pending}} (a full sync does not say which services
 * changed).
 */
public final class ProxyMetrics implements Consumer<SyncResult> {
    /** kube-proxy: ExponentialBuckets(0.001, 2, 15), 1 ms to 16.384 s. */
    static final double[] SYNC_BUCKETS = exponential("0.001", 2, 15);
    /** kube-proxy: 0, 0.25, 0.5, 1..59, 60..115 by 5, 120..300 by 30 (MergeBuckets starts with a 0 bound). */
    static final double[] NETWORK_PROGRAMMING_BUCKETS = networkProgrammingBuckets();

    private final Clock clock;
    private final boolean nftables;
    private final String nodeName;
    private final Map<IpFamily, FamilyMetrics> families;
    private final Map<String, LongAdder> probes = new ConcurrentHashMap<>();
    private volatile Supplier<List<TrafficStats>> userspaceTraffic = List::of;

    public ProxyMetrics(Clock clock) {
        this(clock, false, "");
    }

    /**
     * @param nftables whether the proxier is kube-proxy's nftables mode, which has its own failure counters
     * @param nodeName this node, whose endpoints are local
     */
    public ProxyMetrics(Clock clock, boolean nftables, String nodeName) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.nftables = nftables;
        this.nodeName = Objects.requireNonNull(nodeName, "nodeName");
        Map<IpFamily, FamilyMetrics> map = new EnumMap<>(IpFamily.class);
        for (IpFamily family : IpFamily.values()) {
            map.put(family, new FamilyMetrics());
        }
        this.families = map; // never modified after construction: safe to read from any thread
    }

    public ProxyMetrics() {
        this(Clock.systemUTC());
    }

    /** One sync's outcome. Skipped syncs (sources not synced yet) count only in railyard_sync_proxy_rules_skipped_total. */
    @Override
    public void accept(SyncResult result) {
        FamilyMetrics m = families.get(result.family());
        m.active = true;
        if (result.kind() == SyncResult.Kind.SKIPPED) {
            m.skipped.increment();
            return;
        }
        Duration took = result.renderTime().plus(result.restoreTime());
        double seconds = seconds(took);
        m.syncDuration.observe(seconds);
        (result.kind() == SyncResult.Kind.FULL ? m.fullSyncDuration : m.partialSyncDuration).observe(seconds);
        m.renderDuration.observe(seconds(result.renderTime()));
        m.restoreDuration.observe(seconds(result.restoreTime()));
        // As kube-proxy: "last" is what this sync wrote, whether or not iptables-restore then accepted it.
        m.iptablesLastFilter.set(result.filterRules());
        m.iptablesLastNat.set(result.natRulesWritten());
        m.restoreBytes.set(result.bytesWritten());
        if (result.cleanupFailed()) {
            m.nftablesCleanupFailures.increment();
        }
        if (result.failed()) {
            if (nftables) {
                m.nftablesSyncFailures.increment();
            } else {
                m.restoreFailures.increment();
                if (result.kind() == SyncResult.Kind.PARTIAL) {
                    m.partialRestoreFailures.increment();
                }
            }
            return;
        }
        NoLocalEndpoints.Counts noLocal = NoLocalEndpoints.count(result.state(), nodeName);
        m.noLocalInternal.set(noLocal.internal());
        m.noLocalExternal.set(noLocal.external());
        Instant finishedAt = result.startedAt().plus(took);
        m.lastTimestamp.set(epochSeconds(finishedAt));
        m.iptablesTotalFilter.set(result.filterRules());
        m.iptablesTotalNat.set(result.natRulesTotal());
        m.services.set(result.services());
        m.endpoints.set(result.endpoints());
        m.deletedChains.add(result.deletedChains());
        for (Instant changedAt : result.firstChangeTimes().values()) {
            double latency = seconds(Duration.between(changedAt, finishedAt));
            if (latency >= 0) { // a change stamped by a clock ahead of ours says nothing useful
                m.networkProgramming.observe(latency);
            }
        }
    }

    /** A change was queued for {@code family}'s proxier (kube-proxy's Sync() → last_queued_timestamp). */
    public void queued(IpFamily family) {
        FamilyMetrics m = families.get(family);
        m.active = true;
        m.lastQueuedTimestamp.set(epochSeconds(clock.instant()));
    }

    /** One conntrack reconcile of {@code family}: its duration and the flows it deleted. */
    public void conntrackReconciled(IpFamily family, dev.railyard.proxy.conntrack.ConntrackReconciler.Report report) {
        FamilyMetrics m = families.get(family);
        m.active = true;
        m.conntrackDeleted.add(report.deletedEntries());
        m.conntrackDuration.observe(seconds(report.took()));
    }

    /** Counts one answer of /healthz or /livez, as kube-proxy's proxy_healthz_total / proxy_livez_total. */
    public void healthProbe(HealthProbe probe, int statusCode) {
        probes.computeIfAbsent(probe.name() + " " + statusCode, k -> new LongAdder()).increment();
    }

    public enum HealthProbe {
        HEALTHZ,
        LIVEZ
    }

    /** Userspace mode: where the per-service traffic counters come from at each scrape. */
    public void userspaceTraffic(Supplier<List<TrafficStats>> source) {
        this.userspaceTraffic = Objects.requireNonNull(source, "source");
    }

    /** The whole exposition, metric families in a fixed order. */
    public String scrape() {
        StringBuilder out = new StringBuilder(16384);
        List<Map.Entry<String, FamilyMetrics>> active = new ArrayList<>();
        for (Map.Entry<IpFamily, FamilyMetrics> e : families.entrySet()) {
            if (e.getValue().active) {
                active.add(Map.entry("ip_family=\"" + e.getKey().kubernetesName() + "\"", e.getValue()));
            }
        }
        histogram(out, active, "kubeproxy_sync_proxy_rules_duration_seconds", "SyncProxyRules latency in seconds",
                m -> m.syncDuration);
        histogram(out, active, "kubeproxy_sync_full_proxy_rules_duration_seconds",
                "SyncProxyRules latency in seconds for full resyncs", m -> m.fullSyncDuration);
        histogram(out, active, "kubeproxy_sync_partial_proxy_rules_duration_seconds",
                "SyncProxyRules latency in seconds for partial resyncs", m -> m.partialSyncDuration);
        gauge(out, active, "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
                "The last time proxy rules were successfully synced", m -> m.lastTimestamp);
        gauge(out, active, "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds",
                "The last time a sync of proxy rules was queued", m -> m.lastQueuedTimestamp);
        histogram(out, active, "kubeproxy_network_programming_duration_seconds",
                "In Cluster Network Programming Latency in seconds", m -> m.networkProgramming);
        if (nftables) {
            counter(out, active, "kubeproxy_sync_proxy_rules_nftables_sync_failures_total",
                    "Cumulative proxy nftables sync failures", m -> m.nftablesSyncFailures);
            counter(out, active, "kubeproxy_sync_proxy_rules_nftables_cleanup_failures_total",
                    "Cumulative proxy nftables cleanup failures", m -> m.nftablesCleanupFailures);
        } else {
            counter(out, active, "kubeproxy_sync_proxy_rules_iptables_restore_failures_total",
                    "Cumulative proxy iptables restore failures", m -> m.restoreFailures);
            counter(out, active, "kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total",
                    "Cumulative proxy iptables partial restore failures", m -> m.partialRestoreFailures);
            tableGauge(out, active, "kubeproxy_sync_proxy_rules_iptables_total",
                    "Total number of iptables rules owned by kube-proxy", m -> m.iptablesTotalFilter,
                    m -> m.iptablesTotalNat);
            tableGauge(out, active, "kubeproxy_sync_proxy_rules_iptables_last",
                    "Number of iptables rules written by kube-proxy in last sync", m -> m.iptablesLastFilter,
                    m -> m.iptablesLastNat);
        }
        TextFormat.header(out, "kubeproxy_sync_proxy_rules_no_local_endpoints_total",
                "Number of services with a Local traffic policy and no endpoints", "gauge");
        for (Map.Entry<String, FamilyMetrics> e : active) {
            sample(out, "kubeproxy_sync_proxy_rules_no_local_endpoints_total",
                    e.getKey() + ",traffic_policy=\"external\"", e.getValue().noLocalExternal.get());
            sample(out, "kubeproxy_sync_proxy_rules_no_local_endpoints_total",
                    e.getKey() + ",traffic_policy=\"internal\"", e.getValue().noLocalInternal.get());
        }
        counter(out, active, "kubeproxy_conntrack_reconciler_deleted_entries_total",
                "Cumulative conntrack flows deleted by conntrack reconciler", m -> m.conntrackDeleted);
        histogram(out, active, "kubeproxy_conntrack_reconciler_sync_duration_seconds",
                "ReconcileConntrackFlowsLatency latency in seconds", m -> m.conntrackDuration);
        probeCounter(out, HealthProbe.HEALTHZ, "kubeproxy_proxy_healthz_total", "Cumulative proxy healthz HTTP status");
        probeCounter(out, HealthProbe.LIVEZ, "kubeproxy_proxy_livez_total", "Cumulative proxy livez HTTP status");
        histogram(out, active, "railyard_sync_proxy_rules_render_duration_seconds",
                "Time spent building the iptables-restore input, per sync", m -> m.renderDuration);
        histogram(out, active, "railyard_sync_proxy_rules_restore_duration_seconds",
                "Time spent in iptables-restore (and ensuring jump rules on full syncs), per sync",
                m -> m.restoreDuration);
        gauge(out, active, "railyard_sync_proxy_rules_restore_bytes",
                "Size in bytes of the last iptables-restore input", m -> m.restoreBytes);
        gauge(out, active, "railyard_sync_proxy_rules_services",
                "Service ports programmed by the last successful sync", m -> m.services);
        gauge(out, active, "railyard_sync_proxy_rules_endpoints",
                "Endpoints known at the last successful sync", m -> m.endpoints);
        counter(out, active, "railyard_sync_proxy_rules_deleted_chains_total",
                "Stale per-service chains deleted by successful syncs", m -> m.deletedChains);
        counter(out, active, "railyard_sync_proxy_rules_skipped_total",
                "Syncs skipped because Services or EndpointSlices had not finished their initial list",
                m -> m.skipped);
        UserspaceTrafficMetrics.write(out, userspaceTraffic.get());
        return out.toString();
    }

    private static void histogram(StringBuilder out, List<Map.Entry<String, FamilyMetrics>> active, String name,
                                  String help, Function<FamilyMetrics, Histogram> metric) {
        TextFormat.header(out, name, help, "histogram");
        for (Map.Entry<String, FamilyMetrics> e : active) {
            metric.apply(e.getValue()).write(out, name, e.getKey());
        }
    }

    private static void gauge(StringBuilder out, List<Map.Entry<String, FamilyMetrics>> active, String name,
                              String help, Function<FamilyMetrics, Gauge> metric) {
        TextFormat.header(out, name, help, "gauge");
        for (Map.Entry<String, FamilyMetrics> e : active) {
            sample(out, name, e.getKey(), metric.apply(e.getValue()).get());
        }
    }

    private static void counter(StringBuilder out, List<Map.Entry<String, FamilyMetrics>> active, String name,
                                String help, Function<FamilyMetrics, LongAdder> metric) {
        TextFormat.header(out, name, help, "counter");
        for (Map.Entry<String, FamilyMetrics> e : active) {
            sample(out, name, e.getKey(), metric.apply(e.getValue()).sum());
        }
    }

    private static void tableGauge(StringBuilder out, List<Map.Entry<String, FamilyMetrics>> active, String name,
                                   String help, Function<FamilyMetrics, Gauge> filter,
                                   Function<FamilyMetrics, Gauge> nat) {
        TextFormat.header(out, name, help, "gauge");
        for (Map.Entry<String, FamilyMetrics> e : active) {
            sample(out, name, e.getKey() + ",table=\"filter\"", filter.apply(e.getValue()).get());
            sample(out, name, e.getKey() + ",table=\"nat\"", nat.apply(e.getValue()).get());
        }
    }

    private void probeCounter(StringBuilder out, HealthProbe probe, String name, String help) {
        TextFormat.header(out, name, help, "counter");
        new TreeMap<>(probes).forEach((key, count) -> {
            int space = key.indexOf(' ');
            if (key.substring(0, space).equals(probe.name())) {
                sample(out, name, "code=\"" + TextFormat.escapeLabelValue(key.substring(space + 1)) + "\"", count.sum());
            }
        });
    }

    private static void sample(StringBuilder out, String name, String labels, double value) {
        out.append(name).append('{').append(labels).append("} ").append(TextFormat.number(value)).append('\n');
    }

    private static double seconds(Duration d) {
        return d.getSeconds() + d.getNano() / 1e9;
    }

    private static double epochSeconds(Instant instant) {
        return instant.getEpochSecond() + instant.getNano() / 1e9;
    }

    private static double[] exponential(String start, int factor, int count) {
        double[] result = new double[count];
        BigDecimal value = new BigDecimal(start); // exact decimal bounds ("0.008", not 0.008000000000000002)
        for (int i = 0; i < count; i++) {
            result[i] = value.doubleValue();
            value = value.multiply(BigDecimal.valueOf(factor));
        }
        return result;
    }

    private static double[] networkProgrammingBuckets() {
        List<Double> bounds = new ArrayList<>();
        bounds.add(0.0);
        bounds.add(0.25);
        bounds.add(0.5);
        for (int s = 1; s <= 59; s++) {
            bounds.add((double) s);
        }
        for (int s = 60; s <= 115; s += 5) {
            bounds.add((double) s);
        }
        for (int s = 120; s <= 300; s += 30) {
            bounds.add((double) s);
        }
        return bounds.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** A double gauge stored as raw bits in an AtomicLong, the lock-free way. */
    private static final class Gauge {
        private final AtomicLong bits = new AtomicLong(Double.doubleToRawLongBits(0));

        void set(double value) {
            bits.set(Double.doubleToRawLongBits(value));
        }

        double get() {
            return Double.longBitsToDouble(bits.get());
        }
    }

    /** Everything one proxier (IP family) reports. */
    private static final class FamilyMetrics {
        /** Reported at least once: only then are its series exported, so a single-stack node shows one family. */
        volatile boolean active;
        final Histogram syncDuration = new Histogram(SYNC_BUCKETS);
        final Histogram fullSyncDuration = new Histogram(SYNC_BUCKETS);
        final Histogram partialSyncDuration = new Histogram(SYNC_BUCKETS);
        final Histogram renderDuration = new Histogram(SYNC_BUCKETS);
        final Histogram restoreDuration = new Histogram(SYNC_BUCKETS);
        final Histogram networkProgramming = new Histogram(NETWORK_PROGRAMMING_BUCKETS);
        final Gauge lastTimestamp = new Gauge();
        final Gauge lastQueuedTimestamp = new Gauge();
        final Gauge iptablesTotalFilter = new Gauge();
        final Gauge iptablesTotalNat = new Gauge();
        final Gauge iptablesLastFilter = new Gauge();
        final Gauge iptablesLastNat = new Gauge();
        final Gauge restoreBytes = new Gauge();
        final Gauge services = new Gauge();
        final Gauge endpoints = new Gauge();
        final LongAdder restoreFailures = new LongAdder();
        final LongAdder partialRestoreFailures = new LongAdder();
        final LongAdder deletedChains = new LongAdder();
        final LongAdder skipped = new LongAdder();
        final LongAdder nftablesSyncFailures = new LongAdder();
        final LongAdder nftablesCleanupFailures = new LongAdder();
        final LongAdder conntrackDeleted = new LongAdder();
        final Histogram conntrackDuration = new Histogram(SYNC_BUCKETS);
        final Gauge noLocalInternal = new Gauge();
        final Gauge noLocalExternal = new Gauge();
    }
}
