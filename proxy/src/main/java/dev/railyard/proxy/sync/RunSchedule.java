package dev.railyard.proxy.sync;

import java.time.Duration;

/**
 * When {@link BoundedFrequencyRunner} may run next, as a pure function of time (nanoseconds from any origin), so
 * the timing rules can be tested without threads or sleeping. Not thread-safe; the runner guards it.
 *
 * <p>The rules are kube-proxy's: runs are rate-limited by a token bucket holding {@code burst} tokens and
 * refilled at one per {@code minInterval}, so after a quiet period up to {@code burst} runs may follow each other
 * immediately; a run happens at the latest {@code maxInterval} after the previous one ended; a retry requested
 * with {@link #retryAt} brings the next run forward. Every run, requested, periodic or retry, takes a token.
 */
final class RunSchedule {
    static final long NEVER = Long.MAX_VALUE;

    private final long minIntervalNanos;
    private final long maxIntervalNanos;
    private final int burst;

    private double tokens;
    private long refilledAt;
    private boolean requested;
    private long periodicAt;
    private long retryAt = NEVER;

    RunSchedule(Duration minInterval, Duration maxInterval, int burst, long now) {
        if (minInterval.isNegative() || maxInterval.compareTo(minInterval) < 0 || maxInterval.isZero()) {
            throw new IllegalArgumentException("need 0 <= minInterval (" + minInterval + ") <= maxInterval ("
                    + maxInterval + ") and maxInterval > 0");
        }
        if (burst < 1) {
            throw new IllegalArgumentException("burst must be at least 1, not " + burst);
        }
        this.minIntervalNanos = minInterval.toNanos();
        this.maxIntervalNanos = maxInterval.toNanos();
        this.burst = burst;
        this.tokens = burst;
        this.refilledAt = now;
        this.periodicAt = saturatedAdd(now, maxIntervalNanos);
    }

    /** Someone wants a run as soon as the rate limit allows. */
    void request() {
        requested = true;
    }

    /** A run no later than {@code at} (earlier requests win), rate limit permitting. */
    void retryAt(long at) {
        retryAt = Math.min(retryAt, at);
    }

    boolean isRequested() {
        return requested;
    }

    /** The time of the next run: {@code <= now} means now. */
    long nextRunAt(long now) {
        refill(now);
        long due = Math.min(requested ? now : NEVER, Math.min(periodicAt, retryAt));
        return Math.max(due, tokenAvailableAt(now));
    }

    /** A run starts now: it takes a token and answers every request and retry made so far. */
    void runStarted(long now) {
        refill(now);
        tokens = Math.max(0, tokens - 1);
        requested = false;
        retryAt = NEVER;
    }

    /** A run ended now: the next periodic run is one maxInterval away. */
    void runEnded(long now) {
        periodicAt = saturatedAdd(now, maxIntervalNanos);
    }

    private void refill(long now) {
        if (minIntervalNanos == 0) {
            tokens = burst;
        } else if (now > refilledAt) {
            tokens = Math.min(burst, tokens + (double) (now - refilledAt) / minIntervalNanos);
        }
        refilledAt = Math.max(refilledAt, now);
    }

    private long tokenAvailableAt(long now) {
        if (tokens >= 1) {
            return now;
        }
        return saturatedAdd(now, (long) Math.ceil((1 - tokens) * minIntervalNanos));
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0 ? NEVER : sum;
    }
}
