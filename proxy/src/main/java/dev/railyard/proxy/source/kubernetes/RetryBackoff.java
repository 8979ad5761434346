package dev.railyard.proxy.source.kubernetes;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How long to wait before talking to the API server again after consecutive failed list or watch calls:
 * doubling from {@code initial} up to {@code max}, with up to 100% jitter so that a fleet of nodes does not
 * reconnect in lockstep after an API server restart. The defaults are client-go's reflector backoff
 * (800 ms doubling to 30 s), which kube-proxy gets for free.
 */
public record RetryBackoff(Duration initial, Duration max) {
    public static final RetryBackoff CLIENT_GO_DEFAULT = new RetryBackoff(Duration.ofMillis(800), Duration.ofSeconds(30));

    public RetryBackoff {
        Objects.requireNonNull(initial, "initial");
        Objects.requireNonNull(max, "max");
        if (initial.isNegative() || initial.isZero()) {
            throw new IllegalArgumentException("initial backoff must be positive, got " + initial);
        }
        if (max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("max backoff " + max + " is below initial " + initial);
        }
    }

    /** The pause before the next attempt when the last {@code failures} attempts in a row failed. */
    public Duration delayAfter(int failures) {
        if (failures <= 0) {
            return Duration.ZERO;
        }
        Duration base = initial;
        for (int i = 1; i < failures && base.compareTo(max) < 0; i++) {
            base = base.multipliedBy(2);
        }
        if (base.compareTo(max) > 0) {
            base = max;
        }
        long jitterMillis = (long) (base.toMillis() * ThreadLocalRandom.current().nextDouble());
        Duration jittered = base.plusMillis(jitterMillis);
        return jittered.compareTo(max) > 0 ? max : jittered;
    }
}
