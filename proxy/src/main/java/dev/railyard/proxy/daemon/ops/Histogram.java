package dev.railyard.proxy.daemon.ops;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.DoubleAdder;

/**
 * A Prometheus histogram without locks: observations only increment one bucket cell and two adders, so the sync
 * thread never waits for a scrape. A scrape may see an observation in the count but not yet in the sum; Prometheus
 * tolerates that and it is gone by the next scrape.
 */
final class Histogram {
    private final double[] upperBounds;
    /** Non-cumulative: cell i counts observations in (bound[i-1], bound[i]]; the last cell is +Inf. */
    private final AtomicLongArray buckets;
    private final DoubleAdder sum = new DoubleAdder();

    Histogram(double[] upperBounds) {
        for (int i = 1; i < upperBounds.length; i++) {
            if (!(upperBounds[i] > upperBounds[i - 1])) {
                throw new IllegalArgumentException("bucket bounds must increase: " + upperBounds[i - 1] + ", "
                        + upperBounds[i]);
            }
        }
        this.upperBounds = upperBounds.clone();
        this.buckets = new AtomicLongArray(upperBounds.length + 1);
    }

    void observe(double value) {
        int i = 0;
        while (i < upperBounds.length && value > upperBounds[i]) {
            i++;
        }
        buckets.incrementAndGet(i);
        sum.add(value);
    }

    /** Appends {@code name_bucket}, {@code name_sum} and {@code name_count} lines; {@code labels} may be empty. */
    void write(StringBuilder out, String name, String labels) {
        long cumulative = 0;
        String prefix = labels.isEmpty() ? "" : labels + ",";
        for (int i = 0; i < upperBounds.length; i++) {
            cumulative += buckets.get(i);
            out.append(name).append("_bucket{").append(prefix).append("le=\"")
                    .append(TextFormat.number(upperBounds[i])).append("\"} ").append(cumulative).append('\n');
        }
        cumulative += buckets.get(upperBounds.length);
        out.append(name).append("_bucket{").append(prefix).append("le=\"+Inf\"} ").append(cumulative).append('\n');
        String braces = labels.isEmpty() ? "" : "{" + labels + "}";
        out.append(name).append("_sum").append(braces).append(' ').append(TextFormat.number(sum.sum())).append('\n');
        out.append(name).append("_count").append(braces).append(' ').append(cumulative).append('\n');
    }
}
