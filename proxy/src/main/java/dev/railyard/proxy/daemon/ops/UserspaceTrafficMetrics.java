package dev.railyard.proxy.daemon.ops;

import dev.railyard.proxy.userspace.TrafficStats;

import java.util.List;
import java.util.function.ToLongFunction;

/**
 * Userspace mode's per-service traffic in the Prometheus text format: one series per service port and family,
 * labelled {@code service="namespace/name:port"}, {@code protocol} and {@code ip_family}. kube-proxy has no such
 * metrics (its userspace mode exported none), so the names are Railyard's. Written from a snapshot the proxier
 * takes at scrape time; no state here.
 */
final class UserspaceTrafficMetrics {
    private UserspaceTrafficMetrics() {
    }

    static void write(StringBuilder out, List<TrafficStats> stats) {
        if (stats.isEmpty()) {
            return;
        }
        family(out, stats, "railyard_userspace_connections_total", "counter",
                "TCP connections accepted by the userspace proxy", TrafficStats::connectionsOpened);
        family(out, stats, "railyard_userspace_active_connections", "gauge",
                "TCP connections through the userspace proxy now open", TrafficStats::connectionsActive);
        TextFormat.header(out, "railyard_userspace_bytes_total",
                "Bytes relayed by the userspace proxy: in = client to endpoint, out = endpoint to client", "counter");
        for (TrafficStats s : stats) {
            sample(out, "railyard_userspace_bytes_total", s, ",direction=\"in\"", s.bytesIn());
            sample(out, "railyard_userspace_bytes_total", s, ",direction=\"out\"", s.bytesOut());
        }
        family(out, stats, "railyard_userspace_connect_errors_total", "counter",
                "Failed connection attempts from the userspace proxy to endpoints", TrafficStats::connectErrors);
        family(out, stats, "railyard_userspace_rejected_total", "counter",
                "Connections and UDP sessions refused: no usable endpoint, or every attempt failed",
                TrafficStats::rejected);
        family(out, stats, "railyard_userspace_resets_total", "counter",
                "TCP connections aborted by a reset or an I/O error on either side", TrafficStats::resets);
        family(out, stats, "railyard_userspace_udp_sessions_total", "counter",
                "UDP client sessions opened by the userspace proxy", TrafficStats::udpSessionsOpened);
        family(out, stats, "railyard_userspace_udp_active_sessions", "gauge",
                "UDP client sessions now open", TrafficStats::udpSessionsActive);
        family(out, stats, "railyard_userspace_udp_dropped_total", "counter",
                "Datagrams dropped: session limit reached or a socket not writable", TrafficStats::udpDropped);
        family(out, stats, "railyard_userspace_source_range_denied_total", "counter",
                "Load-balancer traffic from outside loadBalancerSourceRanges: TCP connections reset, UDP datagrams "
                        + "dropped", TrafficStats::sourceRangeDenied);
    }

    private static void family(StringBuilder out, List<TrafficStats> stats, String name, String type, String help,
                               ToLongFunction<TrafficStats> value) {
        TextFormat.header(out, name, help, type);
        for (TrafficStats s : stats) {
            sample(out, name, s, "", value.applyAsLong(s));
        }
    }

    private static void sample(StringBuilder out, String name, TrafficStats s, String extraLabels, long value) {
        out.append(name).append("{service=\"").append(TextFormat.escapeLabelValue(s.service().toString()))
                .append("\",protocol=\"").append(s.service().protocol().name())
                .append("\",ip_family=\"").append(s.family().kubernetesName()).append('"')
                .append(extraLabels).append("} ").append(value).append('\n');
    }
}
