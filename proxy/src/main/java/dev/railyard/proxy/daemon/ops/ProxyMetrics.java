package dev.railyard.proxy.daemon.ops;

import dev.railyard.proxy.conntrack.ConntrackReconciler;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.sync.SyncResult;
import dev.railyard.proxy.userspace.TrafficStats;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.StatefulMetric;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * kube-proxy 1.33's metrics (pkg/proxy/metrics/metrics.go: the same names, help texts, labels and buckets), plus
 * a few Railyard ones, on the Prometheus Java client: a registry of its counters, gauges and classic histograms,
 * written in the text format 0.0.4 by the client's writer. Every per-proxier metric carries {@code ip_family}
 * ("IPv4"/"IPv6", the Kubernetes spelling); a family's series appear, all of them at zero, once its proxier has
 * reported something, so a single-stack node shows one family.
 *
 * <p>Each mode exports kube-proxy's set for it: iptables mode the restore-failure counters and the rule gauges,
 * nftables mode {@code sync_proxy_rules_nftables_sync_failures_total} and
 * {@code sync_proxy_rules_nftables_cleanup_failures_total} instead. Both export the conntrack reconciler's
 * {@code conntrack_reconciler_deleted_entries_total} and {@code conntrack_reconciler_sync_duration_seconds}
 * ({@link #conntrackReconciled}) and {@code sync_proxy_rules_no_local_endpoints_total}.
 *
 * <p>Fed by {@link #accept(SyncResult)} (pass it as, or chain it into, the syncer's result listener),
 * {@link #queued(IpFamily)} (when a change asks for a sync) and {@link #healthProbe}. The client's metrics are
 * lock-free for updates, so a slow scrape never delays a sync.
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
    static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;

    private static final String FAMILY = "ip_family";

    private final Clock clock;
    private final boolean nftables;
    private final String nodeName;
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = new PrometheusTextFormatWriter(false);
    private final Set<IpFamily> active = ConcurrentHashMap.newKeySet();
    private final List<StatefulMetric<?, ?>> perFamily = new ArrayList<>();
    private final UserspaceTrafficMetrics userspace = new UserspaceTrafficMetrics();

    private final Histogram syncDuration;
    private final Histogram fullSyncDuration;
    private final Histogram partialSyncDuration;
    private final Gauge lastTimestamp;
    private final Gauge lastQueuedTimestamp;
    private final Histogram networkProgramming;
    private final Counter restoreFailures;
    private final Counter partialRestoreFailures;
    private final Gauge iptablesTotal;
    private final Gauge iptablesLast;
    private final Counter nftablesSyncFailures;
    private final Counter nftablesCleanupFailures;
    private final Gauge noLocalEndpoints;
    private final Counter conntrackDeleted;
    private final Histogram conntrackDuration;
    private final Counter healthz;
    private final Counter livez;
    private final Histogram renderDuration;
    private final Histogram restoreDuration;
    private final Gauge restoreBytes;
    private final Gauge services;
    private final Gauge endpoints;
    private final Counter deletedChains;
    private final Counter skipped;

    public ProxyMetrics() {
        this(Clock.systemUTC());
    }

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
        syncDuration = histogram("kubeproxy_sync_proxy_rules_duration_seconds", "SyncProxyRules latency in seconds",
                SYNC_BUCKETS);
        fullSyncDuration = histogram("kubeproxy_sync_full_proxy_rules_duration_seconds",
                "SyncProxyRules latency in seconds for full resyncs", SYNC_BUCKETS);
        partialSyncDuration = histogram("kubeproxy_sync_partial_proxy_rules_duration_seconds",
                "SyncProxyRules latency in seconds for partial resyncs", SYNC_BUCKETS);
        lastTimestamp = gauge("kubeproxy_sync_proxy_rules_last_timestamp_seconds",
                "The last time proxy rules were successfully synced");
        lastQueuedTimestamp = gauge("kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds",
                "The last time a sync of proxy rules was queued");
        networkProgramming = histogram("kubeproxy_network_programming_duration_seconds",
                "In Cluster Network Programming Latency in seconds", NETWORK_PROGRAMMING_BUCKETS);
        if (nftables) {
            nftablesSyncFailures = counter("kubeproxy_sync_proxy_rules_nftables_sync_failures_total",
                    "Cumulative proxy nftables sync failures");
            nftablesCleanupFailures = counter("kubeproxy_sync_proxy_rules_nftables_cleanup_failures_total",
                    "Cumulative proxy nftables cleanup failures");
            restoreFailures = null;
            partialRestoreFailures = null;
            iptablesTotal = null;
            iptablesLast = null;
        } else {
            restoreFailures = counter("kubeproxy_sync_proxy_rules_iptables_restore_failures_total",
                    "Cumulative proxy iptables restore failures");
            partialRestoreFailures = counter("kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total",
                    "Cumulative proxy iptables partial restore failures");
            iptablesTotal = register(Gauge.builder().name("kubeproxy_sync_proxy_rules_iptables_total")
                    .help("Total number of iptables rules owned by kube-proxy").labelNames(FAMILY, "table").build());
            iptablesLast = register(Gauge.builder().name("kubeproxy_sync_proxy_rules_iptables_last")
                    .help("Number of iptables rules written by kube-proxy in last sync").labelNames(FAMILY, "table")
                    .build());
            nftablesSyncFailures = null;
            nftablesCleanupFailures = null;
        }
        noLocalEndpoints = register(Gauge.builder().name("kubeproxy_sync_proxy_rules_no_local_endpoints_total")
                .help("Number of services with a Local traffic policy and no endpoints")
                .labelNames(FAMILY, "traffic_policy").build());
        conntrackDeleted = counter("kubeproxy_conntrack_reconciler_deleted_entries_total",
                "Cumulative conntrack flows deleted by conntrack reconciler");
        conntrackDuration = histogram("kubeproxy_conntrack_reconciler_sync_duration_seconds",
                "ReconcileConntrackFlowsLatency latency in seconds", SYNC_BUCKETS);
        // Labelled by HTTP code only, as kube-proxy's.
        healthz = Counter.builder().name("kubeproxy_proxy_healthz_total")
                .help("Cumulative proxy healthz HTTP status").labelNames("code").register(registry);
        livez = Counter.builder().name("kubeproxy_proxy_livez_total")
                .help("Cumulative proxy livez HTTP status").labelNames("code").register(registry);
        renderDuration = histogram("railyard_sync_proxy_rules_render_duration_seconds",
                "Time spent building the iptables-restore input, per sync", SYNC_BUCKETS);
        restoreDuration = histogram("railyard_sync_proxy_rules_restore_duration_seconds",
                "Time spent in iptables-restore (and ensuring jump rules on full syncs), per sync", SYNC_BUCKETS);
        restoreBytes = gauge("railyard_sync_proxy_rules_restore_bytes",
                "Size in bytes of the last iptables-restore input (nftables mode: netlink batches or nft script)");
        services = gauge("railyard_sync_proxy_rules_services", "Service ports programmed by the last successful sync");
        endpoints = gauge("railyard_sync_proxy_rules_endpoints", "Endpoints known at the last successful sync");
        deletedChains = counter("railyard_sync_proxy_rules_deleted_chains_total",
                "Stale per-service chains deleted by successful syncs");
        skipped = counter("railyard_sync_proxy_rules_skipped_total",
                "Syncs skipped because Services or EndpointSlices had not finished their initial list");
        registry.register(userspace);
    }

    private Histogram histogram(String name, String help, double[] buckets) {
        return register(Histogram.builder().name(name).help(help).labelNames(FAMILY).classicOnly()
                .classicUpperBounds(buckets).build());
    }

    private Gauge gauge(String name, String help) {
        return register(Gauge.builder().name(name).help(help).labelNames(FAMILY).build());
    }

    private Counter counter(String name, String help) {
        return register(Counter.builder().name(name).help(help).labelNames(FAMILY).build());
    }

    /** A metric labelled by family first. */
    private <M extends StatefulMetric<?, ?>> M register(M metric) {
        registry.register(metric);
        perFamily.add(metric);
        return metric;
    }

    /** A family's series, all at zero, from its first report on. */
    private String family(IpFamily family) {
        String name = family.kubernetesName();
        if (active.add(family)) {
            for (StatefulMetric<?, ?> metric : perFamily) {
                if (metric == iptablesTotal || metric == iptablesLast) {
                    metric.initLabelValues(name, "filter");
                    metric.initLabelValues(name, "nat");
                } else if (metric == noLocalEndpoints) {
                    metric.initLabelValues(name, "external");
                    metric.initLabelValues(name, "internal");
                } else {
                    metric.initLabelValues(name);
                }
            }
        }
        return name;
    }

    /** One sync's outcome. Skipped syncs (sources not synced yet) count only in railyard_sync_proxy_rules_skipped_total. */
    @Override
    public void accept(SyncResult result) {
        String f = family(result.family());
        if (result.kind() == SyncResult.Kind.SKIPPED) {
            skipped.labelValues(f).inc();
            return;
        }
        Duration took = result.renderTime().plus(result.restoreTime());
        double seconds = seconds(took);
        syncDuration.labelValues(f).observe(seconds);
        (result.kind() == SyncResult.Kind.FULL ? fullSyncDuration : partialSyncDuration).labelValues(f)
                .observe(seconds);
        renderDuration.labelValues(f).observe(seconds(result.renderTime()));
        restoreDuration.labelValues(f).observe(seconds(result.restoreTime()));
        restoreBytes.labelValues(f).set(result.bytesWritten());
        if (!nftables) {
            // As kube-proxy: "last" is what this sync wrote, whether or not iptables-restore then accepted it.
            iptablesLast.labelValues(f, "filter").set(result.filterRules());
            iptablesLast.labelValues(f, "nat").set(result.natRulesWritten());
        }
        if (nftables && result.cleanupFailed()) {
            nftablesCleanupFailures.labelValues(f).inc();
        }
        if (result.failed()) {
            if (nftables) {
                nftablesSyncFailures.labelValues(f).inc();
            } else {
                restoreFailures.labelValues(f).inc();
                if (result.kind() == SyncResult.Kind.PARTIAL) {
                    partialRestoreFailures.labelValues(f).inc();
                }
            }
            return;
        }
        Instant finishedAt = result.startedAt().plus(took);
        lastTimestamp.labelValues(f).set(epochSeconds(finishedAt));
        if (!nftables) {
            iptablesTotal.labelValues(f, "filter").set(result.filterRulesTotal());
            iptablesTotal.labelValues(f, "nat").set(result.natRulesTotal());
        }
        NoLocalEndpoints.Counts noLocal = NoLocalEndpoints.count(result.state(), nodeName);
        noLocalEndpoints.labelValues(f, "internal").set(noLocal.internal());
        noLocalEndpoints.labelValues(f, "external").set(noLocal.external());
        services.labelValues(f).set(result.services());
        endpoints.labelValues(f).set(result.endpoints());
        deletedChains.labelValues(f).inc(result.deletedChains());
        for (Instant changedAt : result.firstChangeTimes().values()) {
            double latency = seconds(Duration.between(changedAt, finishedAt));
            if (latency >= 0) { // a change stamped by a clock ahead of ours says nothing useful
                networkProgramming.labelValues(f).observe(latency);
            }
        }
    }

    /** A change was queued for {@code family}'s proxier (kube-proxy's Sync() → last_queued_timestamp). */
    public void queued(IpFamily family) {
        lastQueuedTimestamp.labelValues(family(family)).set(epochSeconds(clock.instant()));
    }

    /** One conntrack reconcile of {@code family}: its duration and the flows it deleted. */
    public void conntrackReconciled(IpFamily family, ConntrackReconciler.Report report) {
        String f = family(family);
        conntrackDeleted.labelValues(f).inc(report.deletedEntries());
        conntrackDuration.labelValues(f).observe(seconds(report.took()));
    }

    /** Counts one answer of /healthz or /livez, as kube-proxy's proxy_healthz_total / proxy_livez_total. */
    public void healthProbe(HealthProbe probe, int statusCode) {
        (probe == HealthProbe.HEALTHZ ? healthz : livez).labelValues(Integer.toString(statusCode)).inc();
    }

    public enum HealthProbe {
        HEALTHZ,
        LIVEZ
    }

    /** Userspace mode: where the per-service traffic counters come from at each scrape. */
    public void userspaceTraffic(Supplier<List<TrafficStats>> source) {
        userspace.source(source);
    }

    /** The whole exposition in the text format 0.0.4. */
    public String scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(16384);
        try {
            writer.write(out, registry.scrape(), EscapingScheme.ALLOW_UTF8);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        return out.toString(StandardCharsets.UTF_8);
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
}
