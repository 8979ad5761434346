package dev.railyard.proxy.daemon.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ServicePortName;
import dev.railyard.proxy.userspace.TrafficStats;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UserspaceTrafficMetricsTest {
    private final ProxyMetrics metrics = new ProxyMetrics();

    @Test
    void iptablesModeScrapesNoUserspaceFamilies() {
        assertThat(PrometheusText.parse(metrics.scrape()).types).doesNotContainKey("railyard_userspace_bytes_total");
    }

    @Test
    void eachServicePortIsOneSeriesPerCounterReadAtScrapeTime() {
        ServicePortName web = ServicePortName.of("default", "web", "http", Protocol.TCP);
        ServicePortName dns = ServicePortName.of("kube-system", "dns", "dns", Protocol.UDP);
        List<TrafficStats> now = List.of(
                new TrafficStats(web, IpFamily.V4, 10, 2, 1500, 90000, 1, 0, 3, 0, 0, 0, 7),
                new TrafficStats(dns, IpFamily.V6, 0, 0, 640, 1280, 0, 4, 0, 8, 5, 2, 0));
        metrics.userspaceTraffic(() -> now);

        PrometheusText text = PrometheusText.parse(metrics.scrape());

        Map<String, String> webLabels = Map.of("service", "default/web:http", "protocol", "TCP",
                "ip_family", "IPv4");
        Map<String, String> dnsLabels = Map.of("service", "kube-system/dns:dns", "protocol", "UDP",
                "ip_family", "IPv6");
        assertThat(text.types).containsEntry("railyard_userspace_connections_total", "counter")
                .containsEntry("railyard_userspace_active_connections", "gauge")
                .containsEntry("railyard_userspace_udp_active_sessions", "gauge");
        assertThat(text.value("railyard_userspace_connections_total", webLabels)).isEqualTo(10);
        assertThat(text.value("railyard_userspace_active_connections", webLabels)).isEqualTo(2);
        assertThat(text.value("railyard_userspace_bytes_total", with(webLabels, "direction", "in"))).isEqualTo(1500);
        assertThat(text.value("railyard_userspace_bytes_total", with(webLabels, "direction", "out")))
                .isEqualTo(90000);
        assertThat(text.value("railyard_userspace_connect_errors_total", webLabels)).isEqualTo(1);
        assertThat(text.value("railyard_userspace_resets_total", webLabels)).isEqualTo(3);
        assertThat(text.value("railyard_userspace_rejected_total", dnsLabels)).isEqualTo(4);
        assertThat(text.value("railyard_userspace_udp_sessions_total", dnsLabels)).isEqualTo(8);
        assertThat(text.value("railyard_userspace_udp_active_sessions", dnsLabels)).isEqualTo(5);
        assertThat(text.value("railyard_userspace_udp_dropped_total", dnsLabels)).isEqualTo(2);
        assertThat(text.types).containsEntry("railyard_userspace_source_range_denied_total", "counter");
        assertThat(text.value("railyard_userspace_source_range_denied_total", webLabels)).isEqualTo(7);
        assertThat(text.value("railyard_userspace_source_range_denied_total", dnsLabels)).isZero();
    }

    private static Map<String, String> with(Map<String, String> labels, String key, String value) {
        java.util.Map<String, String> all = new java.util.HashMap<>(labels);
        all.put(key, value);
        return all;
    }
}
