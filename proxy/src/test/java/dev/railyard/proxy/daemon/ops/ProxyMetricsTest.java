package dev.railyard.proxy.daemon.ops;

import dev.railyard.testkit.ManualClock;
import static dev.railyard.proxy.daemon.ops.TestSupport.T0;
import static dev.railyard.proxy.daemon.ops.TestSupport.result;
import static dev.railyard.proxy.daemon.ops.TestSupport.success;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.sync.SyncResult;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class ProxyMetricsTest {
    private static final Map<String, String> V4 = Map.of("ip_family", "IPv4");
    private static final Map<String, String> V6 = Map.of("ip_family", "IPv6");

    private final ManualClock clock = new ManualClock(T0);
    private final ProxyMetrics metrics = new ProxyMetrics(clock);

    @Test
    void aFamilyAppearsWithEverySeriesAtZeroOnItsFirstReport() {
        assertThat(PrometheusText.parse(metrics.scrape()).samples).as("nothing reported yet").isEmpty();

        metrics.queued(IpFamily.V4);
        PrometheusText text = PrometheusText.parse(metrics.scrape());
        assertThat(text.types).containsEntry("kubeproxy_sync_proxy_rules_duration_seconds", "histogram")
                .containsEntry("kubeproxy_sync_full_proxy_rules_duration_seconds", "histogram")
                .containsEntry("kubeproxy_sync_partial_proxy_rules_duration_seconds", "histogram")
                .containsEntry("kubeproxy_sync_proxy_rules_last_timestamp_seconds", "gauge")
                .containsEntry("kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds", "gauge")
                .containsEntry("kubeproxy_network_programming_duration_seconds", "histogram")
                .containsEntry("kubeproxy_sync_proxy_rules_iptables_total", "gauge")
                .containsEntry("kubeproxy_sync_proxy_rules_iptables_last", "gauge")
                .containsEntry("kubeproxy_sync_proxy_rules_iptables_restore_failures_total", "counter")
                .containsEntry("kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total", "counter")
                .containsEntry("kubeproxy_sync_proxy_rules_no_local_endpoints_total", "gauge")
                .containsEntry("kubeproxy_conntrack_reconciler_deleted_entries_total", "counter")
                .containsEntry("railyard_sync_proxy_rules_restore_bytes", "gauge");
        assertThat(text.helps).containsEntry("kubeproxy_sync_proxy_rules_duration_seconds",
                "SyncProxyRules latency in seconds");
        assertThat(text.value("kubeproxy_sync_proxy_rules_iptables_restore_failures_total", V4)).isZero();
        assertThat(text.value("kubeproxy_sync_proxy_rules_iptables_total",
                Map.of("ip_family", "IPv4", "table", "nat"))).isZero();
        assertThat(text.value("kubeproxy_sync_proxy_rules_duration_seconds_count", V4)).isZero();
        assertThat(text.samples).noneMatch(sample -> "IPv6".equals(sample.labels().get("ip_family")));

        metrics.healthProbe(ProxyMetrics.HealthProbe.HEALTHZ, 200);
        assertThat(PrometheusText.parse(metrics.scrape()).types)
                .containsEntry("kubeproxy_proxy_healthz_total", "counter");
    }

    @Test
    void bucketsAreKubeProxys() {
        metrics.accept(success(IpFamily.V4, SyncResult.Kind.FULL, T0, Duration.ofMillis(1)));
        PrometheusText text = PrometheusText.parse(metrics.scrape());

        // As numbers: the Java client writes le="1.0" where Go's writes le="1"; Prometheus reads both as 1.
        assertThat(bounds(text, "kubeproxy_sync_proxy_rules_duration_seconds")).containsExactly(
                0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024,
                2.048, 4.096, 8.192, 16.384, Double.POSITIVE_INFINITY);
        List<Double> programming = bounds(text, "kubeproxy_network_programming_duration_seconds");
        assertThat(programming).hasSize(3 + 59 + 12 + 7 + 1);
        assertThat(programming.subList(0, 5)).containsExactly(0.0, 0.25, 0.5, 1.0, 2.0);
        assertThat(programming.subList(programming.size() - 4, programming.size()))
                .containsExactly(240.0, 270.0, 300.0, Double.POSITIVE_INFINITY);
    }

    private static List<Double> bounds(PrometheusText text, String histogram) {
        return text.bucketBounds(histogram, V4).stream()
                .map(le -> le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le)).toList();
    }

    @Test
    void syncsAreCountedByKindFamilyAndOutcome() {
        metrics.accept(result(IpFamily.V4, SyncResult.Kind.FULL, T0, null, Duration.ofMillis(100),
                Duration.ofMillis(200)));
        metrics.accept(success(IpFamily.V4, SyncResult.Kind.PARTIAL, T0.plusSeconds(5), Duration.ofMillis(3)));
        metrics.accept(result(IpFamily.V4, SyncResult.Kind.PARTIAL, T0.plusSeconds(9), "iptables-restore: line 7 failed",
                Duration.ofMillis(1), Duration.ofMillis(2)));
        metrics.accept(success(IpFamily.V6, SyncResult.Kind.FULL, T0, Duration.ofMillis(20)));

        PrometheusText text = PrometheusText.parse(metrics.scrape());

        assertThat(text.value("kubeproxy_sync_proxy_rules_duration_seconds_count", V4)).isEqualTo(3);
        assertThat(text.value("kubeproxy_sync_proxy_rules_duration_seconds_sum", V4)).isCloseTo(0.306, within(1e-9));
        assertThat(text.bucket("kubeproxy_sync_proxy_rules_duration_seconds", V4, "0.004")).isEqualTo(2);
        assertThat(text.bucket("kubeproxy_sync_proxy_rules_duration_seconds", V4, "0.256")).isEqualTo(2);
        assertThat(text.bucket("kubeproxy_sync_proxy_rules_duration_seconds", V4, "0.512")).isEqualTo(3);
        assertThat(text.value("kubeproxy_sync_full_proxy_rules_duration_seconds_count", V4)).isEqualTo(1);
        assertThat(text.value("kubeproxy_sync_partial_proxy_rules_duration_seconds_count", V4)).isEqualTo(2);
        assertThat(text.value("kubeproxy_sync_proxy_rules_iptables_restore_failures_total", V4)).isEqualTo(1);
        assertThat(text.value("kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total", V4)).isEqualTo(1);
        // The last successful sync (the partial one at T0+5s, 3 ms) sets the timestamp; the failure does not.
        assertThat(text.value("kubeproxy_sync_proxy_rules_last_timestamp_seconds", V4))
                .isCloseTo(T0.getEpochSecond() + 5.003, within(1e-3));
        // nat total = written 40 + skipped 5 - deleted chains 1, as SyncResult.natRulesTotal.
        assertThat(text.value("kubeproxy_sync_proxy_rules_iptables_total", labels(V4, "table", "nat"))).isEqualTo(44);
        assertThat(text.value("kubeproxy_sync_proxy_rules_iptables_total", labels(V4, "table", "filter"))).isEqualTo(10);
        assertThat(text.value("kubeproxy_sync_proxy_rules_iptables_last", labels(V4, "table", "nat"))).isEqualTo(40);
        assertThat(text.value("railyard_sync_proxy_rules_restore_bytes", V4)).isEqualTo(1234);
        assertThat(text.value("railyard_sync_proxy_rules_deleted_chains_total", V4)).isEqualTo(2);

        assertThat(text.value("kubeproxy_sync_proxy_rules_duration_seconds_count", V6)).isEqualTo(1);
        assertThat(text.value("kubeproxy_sync_proxy_rules_iptables_restore_failures_total", V6)).isEqualTo(0);
        assertThat(text.value("kubeproxy_sync_partial_proxy_rules_duration_seconds_count", V6)).isEqualTo(0);
    }

    /** A partial sync that leaves the filter table alone still has its rules in the kernel. */
    @Test
    void filterRulesAPartialSyncLeftInTheKernelStillCount() {
        metrics.accept(new SyncResult(IpFamily.V4, SyncResult.Kind.PARTIAL, T0, null, Duration.ZERO, Duration.ZERO,
                12, 0, 3, 40, 1, 9, 0, 5, 5, Set.of("a/x"), List.of(), Set.of(), Map.of(), null, false, 6));

        PrometheusText text = PrometheusText.parse(metrics.scrape());

        assertThat(text.value("kubeproxy_sync_proxy_rules_iptables_total", labels(V4, "table", "filter"))).isEqualTo(6);
        assertThat(text.value("kubeproxy_sync_proxy_rules_iptables_last", labels(V4, "table", "filter"))).isZero();
        assertThat(text.value("kubeproxy_sync_proxy_rules_iptables_total", labels(V4, "table", "nat"))).isEqualTo(43);
    }

    @Test
    void skippedSyncsOnlyCountAsSkipped() {
        metrics.accept(new SyncResult(IpFamily.V4, SyncResult.Kind.SKIPPED, T0, null, Duration.ZERO, Duration.ZERO,
                0, 0, 0, 0, 0, 0, 0, 0, 0, Set.of(), List.of(), Set.of(), Map.of(), null));

        PrometheusText text = PrometheusText.parse(metrics.scrape());

        assertThat(text.value("railyard_sync_proxy_rules_skipped_total", V4)).isEqualTo(1);
        assertThat(text.value("kubeproxy_sync_proxy_rules_duration_seconds_count", V4)).isEqualTo(0);
        assertThat(text.value("kubeproxy_sync_proxy_rules_last_timestamp_seconds", V4)).isEqualTo(0);
        assertThat(text.has("kubeproxy_sync_proxy_rules_duration_seconds_count", V6)).isFalse();
    }

    @Test
    void networkProgrammingLatencyRunsFromEachFirstChangeToTheEndOfTheSync() {
        Instant end = T0.plusSeconds(10);
        SyncResult sync = new SyncResult(IpFamily.V4, SyncResult.Kind.PARTIAL, end.minusMillis(500), null,
                Duration.ofMillis(200), Duration.ofMillis(300), 0, 0, 0, 0, 0, 0, 0, 0, 0, Set.of("a/x", "b/y"),
                List.of(), Set.of(), Map.of("a/x", end.minusMillis(2100), "b/y", end.minusMillis(400),
                "c/z", end.plusSeconds(3)), null);

        metrics.accept(sync);
        PrometheusText text = PrometheusText.parse(metrics.scrape());

        String name = "kubeproxy_network_programming_duration_seconds";
        // Two observations (2.1 s and 0.4 s); the change stamped in the future is dropped.
        assertThat(text.value(name + "_count", V4)).isEqualTo(2);
        assertThat(text.bucket(name, V4, "0.25")).isEqualTo(0);
        assertThat(text.bucket(name, V4, "0.5")).isEqualTo(1);
        assertThat(text.bucket(name, V4, "2")).isEqualTo(1);
        assertThat(text.bucket(name, V4, "3")).isEqualTo(2);
        assertThat(text.value(name + "_sum", V4)).isCloseTo(2.5, within(1e-9));
    }

    @Test
    void failedSyncsDoNotReportNetworkProgramming() {
        metrics.accept(new SyncResult(IpFamily.V4, SyncResult.Kind.FULL, T0, "boom", Duration.ZERO, Duration.ZERO,
                0, 0, 0, 0, 0, 0, 0, 0, 0, Set.of(), List.of(), Set.of(), Map.of("a/x", T0.minusSeconds(1)), null));

        PrometheusText text = PrometheusText.parse(metrics.scrape());

        assertThat(text.value("kubeproxy_network_programming_duration_seconds_count", V4)).isEqualTo(0);
    }

    @Test
    void queuedSetsTheQueuedTimestampFromTheClock() {
        clock.advance(Duration.ofMillis(1500));
        metrics.queued(IpFamily.V6);

        PrometheusText text = PrometheusText.parse(metrics.scrape());

        assertThat(text.value("kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds", V6))
                .isEqualTo(T0.getEpochSecond() + 1.5);
        assertThat(text.has("kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds", V4)).isFalse();
    }

    @Test
    void healthProbesAreCountedByCode() {
        metrics.healthProbe(ProxyMetrics.HealthProbe.HEALTHZ, 200);
        metrics.healthProbe(ProxyMetrics.HealthProbe.HEALTHZ, 200);
        metrics.healthProbe(ProxyMetrics.HealthProbe.HEALTHZ, 503);
        metrics.healthProbe(ProxyMetrics.HealthProbe.LIVEZ, 200);

        PrometheusText text = PrometheusText.parse(metrics.scrape());

        assertThat(text.value("kubeproxy_proxy_healthz_total", Map.of("code", "200"))).isEqualTo(2);
        assertThat(text.value("kubeproxy_proxy_healthz_total", Map.of("code", "503"))).isEqualTo(1);
        assertThat(text.value("kubeproxy_proxy_livez_total", Map.of("code", "200"))).isEqualTo(1);
        assertThat(text.has("kubeproxy_proxy_livez_total", Map.of("code", "503"))).isFalse();
    }

    private static Map<String, String> labels(Map<String, String> base, String key, String value) {
        Map<String, String> result = new TreeMap<>(base);
        result.put(key, value);
        return result;
    }
}
