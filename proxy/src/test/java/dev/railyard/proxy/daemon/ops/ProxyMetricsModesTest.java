package dev.railyard.proxy.daemon.ops;

import static dev.railyard.proxy.daemon.ops.TestSupport.T0;
import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.conntrack.ConntrackReconciler;
import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;
import dev.railyard.proxy.sync.SyncResult;
import dev.railyard.testkit.ManualClock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Each mode's kube-proxy metric set, the conntrack reconciler's metrics and no_local_endpoints_total. */
class ProxyMetricsModesTest {
    private static final Map<String, String> V4 = Map.of("ip_family", "IPv4");

    private static SyncResult sync(String error, boolean cleanupFailed, ProxyState state) {
        return new SyncResult(IpFamily.V4, SyncResult.Kind.PARTIAL, T0, error, Duration.ZERO, Duration.ofMillis(5), 0,
                0, 0, 0, 0, 0, 0, 0, 0, Set.of(), List.of(), Set.of(), Map.of(), state, cleanupFailed);
    }

    @Test
    void nftablesModeCountsSyncAndCleanupFailuresInsteadOfIptablesRestoreFailures() {
        ProxyMetrics metrics = new ProxyMetrics(new ManualClock(T0), true, "node-a");
        metrics.accept(sync("refused", false, null));
        metrics.accept(sync(null, true, null));
        metrics.accept(sync(null, true, null));
        PrometheusText text = PrometheusText.parse(metrics.scrape());
        assertThat(text.value("kubeproxy_sync_proxy_rules_nftables_sync_failures_total", V4)).isEqualTo(1);
        assertThat(text.value("kubeproxy_sync_proxy_rules_nftables_cleanup_failures_total", V4)).isEqualTo(2);
        assertThat(text.types).doesNotContainKeys("kubeproxy_sync_proxy_rules_iptables_restore_failures_total",
                "kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total",
                "kubeproxy_sync_proxy_rules_iptables_total", "kubeproxy_sync_proxy_rules_iptables_last");

        ProxyMetrics iptables = new ProxyMetrics(new ManualClock(T0), false, "node-a");
        iptables.accept(sync("refused", false, null));
        PrometheusText iptablesText = PrometheusText.parse(iptables.scrape());
        assertThat(iptablesText.value("kubeproxy_sync_proxy_rules_iptables_restore_failures_total", V4)).isEqualTo(1);
        assertThat(iptablesText.types).doesNotContainKeys("kubeproxy_sync_proxy_rules_nftables_sync_failures_total",
                "kubeproxy_sync_proxy_rules_nftables_cleanup_failures_total");
    }

    @Test
    void conntrackReconcilesAreCountedPerFamily() {
        ProxyMetrics metrics = new ProxyMetrics(new ManualClock(T0), false, "node-a");
        metrics.conntrackReconciled(IpFamily.V4, new ConntrackReconciler.Report(10, 2, 3, List.of(),
                Duration.ofMillis(3)));
        metrics.conntrackReconciled(IpFamily.V4, new ConntrackReconciler.Report(10, 1, 1, List.of(),
                Duration.ofMillis(1)));
        PrometheusText text = PrometheusText.parse(metrics.scrape());
        assertThat(text.value("kubeproxy_conntrack_reconciler_deleted_entries_total", V4)).isEqualTo(4);
        assertThat(text.value("kubeproxy_conntrack_reconciler_sync_duration_seconds_count", V4)).isEqualTo(2);
        assertThat(text.types).containsEntry("kubeproxy_conntrack_reconciler_sync_duration_seconds", "histogram");
    }

    @Test
    void servicesWithALocalPolicyAndNoLocalEndpointsAreCountedPerPolicy() {
        ServicePortName itp = ServicePortName.of("ns", "itp", "p", Protocol.TCP);
        ServicePortName etp = ServicePortName.of("ns", "etp", "p", Protocol.TCP);
        ServicePortName ok = ServicePortName.of("ns", "ok", "p", Protocol.TCP);
        ServicePortName none = ServicePortName.of("ns", "none", "p", Protocol.TCP);
        ProxyState state = ProxyState.of(IpFamily.V4, List.of(
                ServicePort.builder(itp, "10.96.0.1", 80).internalPolicyLocal(true).build(),
                ServicePort.builder(etp, "10.96.0.2", 80).nodePort(30002).externalPolicyLocal(true).build(),
                ServicePort.builder(ok, "10.96.0.3", 80).internalPolicyLocal(true).build(),
                ServicePort.builder(none, "10.96.0.4", 80).internalPolicyLocal(true).build()), Map.of(
                itp, List.of(Endpoint.builder(itp, "10.244.2.1", 80).nodeName("node-b").build()),
                etp, List.of(Endpoint.builder(etp, "10.244.2.2", 80).nodeName("node-b").build()),
                ok, List.of(Endpoint.builder(ok, "10.244.1.3", 80).nodeName("node-a").build())));
        ProxyMetrics metrics = new ProxyMetrics(new ManualClock(T0), false, "node-a");
        metrics.accept(sync(null, false, state));
        PrometheusText text = PrometheusText.parse(metrics.scrape());
        assertThat(text.value("kubeproxy_sync_proxy_rules_no_local_endpoints_total",
                Map.of("ip_family", "IPv4", "traffic_policy", "internal"))).isEqualTo(1);
        assertThat(text.value("kubeproxy_sync_proxy_rules_no_local_endpoints_total",
                Map.of("ip_family", "IPv4", "traffic_policy", "external"))).isEqualTo(1);
    }
}
