package dev.railyard.proxy.source.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

class RetryBackoffTest {
    private final RetryBackoff backoff = new RetryBackoff(Duration.ofMillis(800), Duration.ofSeconds(30));

    @Test
    void noPauseBeforeTheFirstAttemptOrAfterASuccess() {
        assertThat(backoff.delayAfter(0)).isZero();
    }

    @RepeatedTest(20)
    void doublesWithUpToFullJitterAndNeverExceedsTheCap() {
        assertThat(backoff.delayAfter(1)).isBetween(Duration.ofMillis(800), Duration.ofMillis(1600));
        assertThat(backoff.delayAfter(2)).isBetween(Duration.ofMillis(1600), Duration.ofMillis(3200));
        assertThat(backoff.delayAfter(4)).isBetween(Duration.ofMillis(6400), Duration.ofMillis(12800));
        assertThat(backoff.delayAfter(6)).isBetween(Duration.ofMillis(25600), Duration.ofSeconds(30));
        assertThat(backoff.delayAfter(1_000)).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void rejectsNonsense() {
        assertThatThrownBy(() -> new RetryBackoff(Duration.ZERO, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RetryBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
