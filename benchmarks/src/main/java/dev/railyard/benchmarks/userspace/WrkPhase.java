package dev.railyard.benchmarks.userspace;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One recorded wrk phase of one path in a load run: wrk's report (what wrk-report.lua prints) and the CPU seconds
 * of the proxy and the backend over it. Each run adds what else it records about a round.
 */
class WrkPhase {
    final int round;
    final JsonObject wrk;
    final double proxyCpu;
    final double backendCpu;
    final String load;

    WrkPhase(int round, JsonObject wrk, double proxyCpu, double backendCpu, String load) {
        this.round = round;
        this.wrk = wrk;
        this.proxyCpu = proxyCpu;
        this.backendCpu = backendCpu;
        this.load = load;
    }

    long requests() {
        return wrk.get("requests").getAsLong();
    }

    double seconds() {
        return wrk.get("duration_us").getAsLong() / 1e6;
    }

    double rps() {
        return requests() / seconds();
    }

    int errors() {
        int n = 0;
        for (Map.Entry<String, JsonElement> e : wrk.getAsJsonObject("errors").entrySet()) {
            n += e.getValue().getAsInt();
        }
        return n;
    }

    long maxLatency() {
        return wrk.getAsJsonObject("latency_us").get("max").getAsLong();
    }

    double[] percentiles() {
        JsonArray a = wrk.getAsJsonArray("percentiles");
        double[] p = new double[a.size()];
        for (int i = 0; i < p.length; i++) {
            p[i] = a.get(i).getAsJsonArray().get(0).getAsDouble();
        }
        return p;
    }

    long[] latencies() {
        JsonArray a = wrk.getAsJsonArray("percentiles");
        long[] us = new long[a.size()];
        for (int i = 0; i < us.length; i++) {
            us[i] = a.get(i).getAsJsonArray().get(1).getAsLong();
        }
        return us;
    }

    /** Latency in µs at the listed percentile closest to {@code p}. */
    long percentile(double p) {
        double[] ps = percentiles();
        long[] us = latencies();
        int best = 0;
        for (int i = 1; i < ps.length; i++) {
            if (Math.abs(ps[i] - p) < Math.abs(ps[best] - p)) {
                best = i;
            }
        }
        return us[best];
    }

    /** latency.csv's rows for this phase: {@code path,round,median,percentile,latency_us}. */
    void appendLatencyRows(StringBuilder csv, String path, boolean median) {
        double[] p = percentiles();
        long[] us = latencies();
        for (int i = 0; i < p.length; i++) {
            csv.append(String.format(Locale.ROOT, "%s,%d,%b,%.6f,%d%n", path, round, median, p[i], us[i]));
        }
    }

    /** The phase whose req/s is closest to the median of {@code phases} (the first of equals); null for none. */
    static <P extends WrkPhase> P closestToMedianRps(List<P> phases) {
        double m = LoadRuns.median(phases.stream().mapToDouble(WrkPhase::rps).toArray());
        P best = phases.isEmpty() ? null : phases.get(0);
        double bestDistance = Double.MAX_VALUE;
        for (P p : phases) {
            if (Math.abs(p.rps() - m) < bestDistance) {
                bestDistance = Math.abs(p.rps() - m);
                best = p;
            }
        }
        return best;
    }
}
