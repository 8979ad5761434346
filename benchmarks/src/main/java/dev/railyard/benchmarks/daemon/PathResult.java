package dev.railyard.benchmarks.daemon;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What {@link ProgrammingLatencyRun} measured for one path at one cluster size: the full syncs, and per timed change
 * (in rounds) change -> applied and change -> traffic, in milliseconds. Filled while the run goes on.
 */
final class PathResult {
    /** One round of timed changes. */
    static final class Round {
        final int number;
        final String loadAtStart;
        final List<Double> applied = new ArrayList<>();
        final List<Double> traffic = new ArrayList<>();
        /** The sync's own plan (render) and apply parts of each change -> applied. */
        final List<Double> render = new ArrayList<>();
        final List<Double> apply = new ArrayList<>();

        Round(int number, String loadAtStart) {
            this.number = number;
            this.loadAtStart = loadAtStart;
        }

        /**
         * Per change, applied less the sync's render and apply: handing the event over, waking the sync thread,
         * draining the tracker, and reporting.
         */
        double[] other() {
            double[] result = new double[applied.size()];
            for (int i = 0; i < result.length; i++) {
                result[i] = applied.get(i) - render.get(i) - apply.get(i);
            }
            return result;
        }
    }

    final ProgrammingPath path;
    final int services;
    final long capSeconds;
    /** Why there are no (or fewer) figures; null when everything ran. */
    String problem;
    /** True when the first full sync did not finish within the cap. */
    boolean overCap;
    /** Which deadline of the changes was missed (the loop's budget, one change's cap); null when none was. */
    String deadlineMissed;
    /** Not tried at this size: it missed a deadline at a smaller one. */
    boolean skipped;
    double handOverMs = Double.NaN;
    double fullMs = Double.NaN;
    double fullAgainMs = Double.NaN;
    final List<Round> rounds = new ArrayList<>();
    int changesWithoutTraffic;
    long attempts;
    long unanswered;

    PathResult(ProgrammingPath path, int services, long capSeconds) {
        this.path = path;
        this.services = services;
        this.capSeconds = capSeconds;
    }

    double[] applied() {
        return rounds.stream().flatMap(r -> r.applied.stream()).mapToDouble(Double::doubleValue).toArray();
    }

    double[] traffic() {
        return rounds.stream().flatMap(r -> r.traffic.stream()).mapToDouble(Double::doubleValue).toArray();
    }

    /** Nearest-rank percentile; NaN for no values. */
    static double percentile(double[] values, double percentile) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(percentile / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    static double max(double[] values) {
        return values.length == 0 ? Double.NaN : Arrays.stream(values).max().getAsDouble();
    }

    /** "12.3 ms", "4.56 s", or "—". */
    static String time(double ms) {
        if (Double.isNaN(ms)) {
            return "—";
        }
        if (ms >= 1000) {
            return String.format(Locale.ROOT, "%.2f s", ms / 1000);
        }
        return String.format(Locale.ROOT, ms >= 100 ? "%.0f ms" : ms >= 10 ? "%.1f ms" : "%.2f ms", ms);
    }

    String fullSyncText() {
        if (skipped) {
            return "not tried";
        }
        if (overCap) {
            return "not done within " + capSeconds + " s";
        }
        return time(fullMs);
    }

    String triple(double[] values) {
        if (values.length == 0) {
            return "—";
        }
        return time(percentile(values, 50)) + " / " + time(percentile(values, 99)) + " / " + time(max(values));
    }

    /** The targets that apply at this size, each met or missed; "—" at other sizes. */
    String targets() {
        double[] traffic = traffic();
        List<String> verdicts = new ArrayList<>();
        if (skipped && (services == 10_000 || services == 50_000)) {
            return "not tried (missed at a smaller size)";
        }
        if (services == 10_000) {
            verdicts.add(verdict("full ≤ 5 s", fullMs, 5000, overCap));
            verdicts.add(verdict("traffic p50 ≤ 30 ms", percentile(traffic, 50), 30, false));
            verdicts.add(verdict("traffic p99 ≤ 100 ms", percentile(traffic, 99), 100, false));
        } else if (services == 50_000) {
            verdicts.add(verdict("full ≤ 30 s", fullMs, 30_000, overCap));
            verdicts.add(verdict("partial (traffic) p50 ≤ 50 ms", percentile(traffic, 50), 50, false));
        } else {
            return "—";
        }
        return String.join("; ", verdicts);
    }

    private static String verdict(String target, double value, double limit, boolean overCap) {
        if (overCap) {
            return target + ": **missed** (not done within the cap)";
        }
        if (Double.isNaN(value)) {
            return target + ": not measured";
        }
        return target + (value <= limit ? ": met" : ": **missed**");
    }

    /** The summary table's row. */
    String row() {
        double[] applied = applied();
        double[] traffic = traffic();
        String note = problem == null ? "" : problem;
        if (changesWithoutTraffic > 0) {
            note += (note.isEmpty() ? "" : "; ") + changesWithoutTraffic + " changes never reached traffic";
        }
        return String.format(Locale.ROOT, "| %s | %,d | %s | %s | %d | %s | %s | %s | %s |", path.id(), services,
                fullSyncText(), time(fullAgainMs), applied.length, triple(applied), triple(traffic), targets(),
                note);
    }

    static String header() {
        return "| path | services | full sync | full sync again | timed changes | change→applied p50 / p99 / max"
                + " | change→traffic p50 / p99 / max | targets | notes |\n|---|---|---|---|---|---|---|---|---|";
    }

    static String ratioHeader() {
        return "| path | services | full sync | change→applied p50 | change→traffic p50 | change→traffic p99 |\n"
                + "|---|---|---|---|---|---|";
    }

    /** This path's figures as multiples of {@code base}'s (the netlink path at the same size). */
    String ratioRow(PathResult base) {
        double[] applied = applied();
        double[] traffic = traffic();
        double[] baseApplied = base.applied();
        double[] baseTraffic = base.traffic();
        String full = overCap && !base.overCap ? "> " + ratio(capSeconds * 1000.0, base.fullMs)
                : ratio(fullMs, base.fullMs);
        return String.format(Locale.ROOT, "| %s | %,d | %s | %s | %s | %s |", path.id(), services, full,
                ratio(percentile(applied, 50), percentile(baseApplied, 50)),
                ratio(percentile(traffic, 50), percentile(baseTraffic, 50)),
                ratio(percentile(traffic, 99), percentile(baseTraffic, 99)));
    }

    private static String ratio(double value, double base) {
        if (Double.isNaN(value) || Double.isNaN(base) || base <= 0) {
            return "—";
        }
        return String.format(Locale.ROOT, value / base >= 10 ? "%.0fx" : "%.1fx", value / base);
    }

    static String csvHeader() {
        return "path,services,status,full_sync_ms,full_sync_again_ms,timed_changes,applied_p50_ms,applied_p99_ms,"
                + "traffic_p50_ms,traffic_p99_ms,traffic_max_ms,full_sync_vs_netlink,applied_p50_vs_netlink,"
                + "traffic_p50_vs_netlink,traffic_p99_vs_netlink,note";
    }

    /** The summary CSV's line; ratios against {@code base} (null: none). */
    String csvRow(PathResult base) {
        double[] applied = applied();
        double[] traffic = traffic();
        String status = skipped ? "not_tried" : overCap ? "full_sync_over_cap"
                : deadlineMissed != null ? "changes_over_deadline" : problem != null ? "problem" : "ok";
        double[] baseApplied = base == null ? new double[0] : base.applied();
        double[] baseTraffic = base == null ? new double[0] : base.traffic();
        double baseFull = base == null ? Double.NaN : base.fullMs;
        return String.join(",", path.id(), Integer.toString(services), status, number(fullMs),
                number(fullAgainMs), Integer.toString(applied.length), number(percentile(applied, 50)),
                number(percentile(applied, 99)), number(percentile(traffic, 50)), number(percentile(traffic, 99)),
                number(max(traffic)), number(fullMs / baseFull),
                number(percentile(applied, 50) / percentile(baseApplied, 50)),
                number(percentile(traffic, 50) / percentile(baseTraffic, 50)),
                number(percentile(traffic, 99) / percentile(baseTraffic, 99)),
                '"' + (problem == null ? "" : problem.replace('"', '\'')) + '"');
    }

    private static String number(double value) {
        return Double.isNaN(value) || Double.isInfinite(value) ? "" : String.format(Locale.ROOT, "%.3f", value);
    }

    /** One line per round, so that a median over rounds cannot hide a bad one. */
    List<String> roundLines() {
        List<String> lines = new ArrayList<>();
        for (Round round : rounds) {
            double[] applied = round.applied.stream().mapToDouble(Double::doubleValue).toArray();
            double[] traffic = round.traffic.stream().mapToDouble(Double::doubleValue).toArray();
            double[] render = round.render.stream().mapToDouble(Double::doubleValue).toArray();
            double[] apply = round.apply.stream().mapToDouble(Double::doubleValue).toArray();
            lines.add(String.format(Locale.ROOT, "| %s | %,d | %d | %s | %d | %s / %s | %s / %s / %s | %s / %s |",
                    path.id(), services, round.number, round.loadAtStart, applied.length,
                    time(percentile(applied, 50)), time(percentile(applied, 99)), time(percentile(render, 50)),
                    time(percentile(apply, 50)), time(percentile(round.other(), 50)), time(percentile(traffic, 50)),
                    time(percentile(traffic, 99))));
        }
        return lines;
    }

    static String roundHeader() {
        return "| path | services | round | load at start | changes | applied p50 / p99"
                + " | of which render / apply / other, p50 | traffic p50 / p99 |\n|---|---|---|---|---|---|---|---|";
    }
}
