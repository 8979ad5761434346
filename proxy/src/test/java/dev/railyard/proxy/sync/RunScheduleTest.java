package dev.railyard.proxy.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The runner's timing rules on a hand-driven clock (nanoseconds). */
class RunScheduleTest {
    private static final long SECOND = Duration.ofSeconds(1).toNanos();

    private final RunSchedule schedule = new RunSchedule(Duration.ofSeconds(1), Duration.ofSeconds(10), 2, 0);

    @Test
    void withoutRequestsTheNextRunIsThePeriodicOne() {
        assertThat(schedule.nextRunAt(0)).isEqualTo(10 * SECOND);
        run(10 * SECOND, 11 * SECOND);
        assertThat(schedule.nextRunAt(12 * SECOND)).isEqualTo(21 * SECOND);
    }

    @Test
    void aBurstOfTwoRunsAtOnceThenOnePerMinInterval() {
        schedule.request();
        assertThat(schedule.nextRunAt(0)).isEqualTo(0);
        run(0, 0);
        schedule.request();
        assertThat(schedule.nextRunAt(0)).isEqualTo(0);
        run(0, 0);
        schedule.request();
        assertThat(schedule.nextRunAt(0)).isEqualTo(SECOND);
        run(SECOND, SECOND);
        schedule.request();
        assertThat(schedule.nextRunAt(SECOND + SECOND / 2)).isEqualTo(2 * SECOND);
        // After a quiet period the bucket is full again, but holds no more than the burst.
        run(2 * SECOND, 2 * SECOND);
        schedule.request();
        run(60 * SECOND, 60 * SECOND);
        schedule.request();
        run(60 * SECOND, 60 * SECOND);
        schedule.request();
        assertThat(schedule.nextRunAt(60 * SECOND)).isEqualTo(61 * SECOND);
    }

    @Test
    void requestsAreCoalescedIntoOneRun() {
        schedule.request();
        schedule.request();
        schedule.request();
        run(0, 0);
        assertThat(schedule.isRequested()).isFalse();
        assertThat(schedule.nextRunAt(0)).isEqualTo(10 * SECOND);
    }

    @Test
    void aRequestMadeDuringARunCausesAnotherRun() {
        schedule.request();
        schedule.runStarted(0);
        schedule.request();
        schedule.runEnded(SECOND / 2);
        assertThat(schedule.nextRunAt(SECOND / 2)).isEqualTo(SECOND / 2);
    }

    @Test
    void aRetryBringsTheNextRunForwardAndTheEarliestRetryWins() {
        schedule.retryAt(5 * SECOND);
        schedule.retryAt(3 * SECOND);
        schedule.retryAt(4 * SECOND);
        assertThat(schedule.nextRunAt(0)).isEqualTo(3 * SECOND);
        run(3 * SECOND, 3 * SECOND);
        assertThat(schedule.nextRunAt(3 * SECOND)).isEqualTo(13 * SECOND);
    }

    @Test
    void aRetryAskedForDuringARunOutlivesItsEnd() {
        schedule.request();
        schedule.runStarted(0);
        schedule.retryAt(5 * SECOND); // the run failed
        schedule.runEnded(SECOND);
        assertThat(schedule.nextRunAt(SECOND)).isEqualTo(5 * SECOND);
    }

    @Test
    void retriesAndPeriodicRunsAreRateLimitedToo() {
        schedule.request();
        run(0, 0);
        schedule.request();
        run(0, 0);
        schedule.retryAt(0);
        assertThat(schedule.nextRunAt(0)).isEqualTo(SECOND);
    }

    @Test
    void intervalsAreValidated() {
        assertThatThrownBy(() -> new RunSchedule(Duration.ofSeconds(2), Duration.ofSeconds(1), 2, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RunSchedule(Duration.ZERO, Duration.ofSeconds(1), 0, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void withoutMinIntervalThereIsNoRateLimit() {
        RunSchedule unlimited = new RunSchedule(Duration.ZERO, Duration.ofSeconds(10), 1, 0);
        for (int i = 0; i < 5; i++) {
            unlimited.request();
            assertThat(unlimited.nextRunAt(0)).isEqualTo(0);
            unlimited.runStarted(0);
            unlimited.runEnded(0);
        }
    }

    private void run(long start, long end) {
        assertThat(schedule.nextRunAt(start)).isLessThanOrEqualTo(start);
        schedule.runStarted(start);
        schedule.runEnded(end);
    }
}
