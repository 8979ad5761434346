package dev.railyard.proxy.sync;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The runner's threading; its timing rules are tested deterministically in {@link RunScheduleTest}. */
class BoundedFrequencyRunnerTest {
    private static final Duration HOUR = Duration.ofHours(1);
    private static final long WAIT_MS = 5000;

    private BoundedFrequencyRunner runner;

    @AfterEach
    void stop() throws InterruptedException {
        if (runner != null) {
            assertThat(runner.stop(Duration.ofSeconds(5))).as("worker ended").isTrue();
        }
    }

    @Test
    void requestsMadeDuringARunAreCoalescedIntoOneMoreRun() throws Exception {
        CountDownLatch inFirstRun = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger calls = new AtomicInteger();
        runner = new BoundedFrequencyRunner("test", () -> {
            if (calls.incrementAndGet() == 1) {
                inFirstRun.countDown();
                await(release);
            }
        }, Duration.ZERO, HOUR, 2);
        runner.start();

        runner.run();
        assertThat(inFirstRun.await(WAIT_MS, TimeUnit.MILLISECONDS)).isTrue();
        for (int i = 0; i < 10; i++) {
            runner.run();
        }
        release.countDown();

        waitFor(() -> runner.completedRuns() == 2);
        Thread.sleep(200); // nothing else is pending, so nothing else may run
        assertThat(calls).hasValue(2);
    }

    @Test
    void runsPeriodicallyWithoutRequests() throws Exception {
        runner = new BoundedFrequencyRunner("test", () -> { }, Duration.ZERO, Duration.ofMillis(50), 2);
        runner.start();

        waitFor(() -> runner.completedRuns() >= 3);
    }

    @Test
    void retryAfterRunsAgainWithoutARequest() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        runner = new BoundedFrequencyRunner("test", () -> {
            if (calls.incrementAndGet() == 1) {
                runner.retryAfter(Duration.ofMillis(100)); // as a failed sync does
            }
        }, Duration.ZERO, HOUR, 2);
        runner.start();

        runner.run();

        waitFor(() -> runner.completedRuns() == 2);
    }

    @Test
    void aThrowingRunDoesNotEndTheWorker() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        runner = new BoundedFrequencyRunner("test", () -> {
            if (calls.incrementAndGet() == 1) {
                throw new IllegalStateException("first run fails");
            }
        }, Duration.ZERO, HOUR, 2);
        runner.start();

        runner.run();
        waitFor(() -> runner.completedRuns() == 1);
        runner.run();
        waitFor(() -> runner.completedRuns() == 2);
    }

    @Test
    void theMinIntervalHoldsBackRunsBeyondTheBurst() throws Exception {
        runner = new BoundedFrequencyRunner("test", () -> { }, HOUR, HOUR, 2);
        runner.start();

        for (int i = 1; i <= 2; i++) {
            runner.run();
            long expected = i;
            waitFor(() -> runner.completedRuns() == expected);
        }
        runner.run();
        Thread.sleep(200);
        assertThat(runner.completedRuns()).isEqualTo(2);
    }

    @Test
    void stopEndsTheWorkerAndLaterRequestsDoNothing() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        BoundedFrequencyRunner stopped = new BoundedFrequencyRunner("test", calls::incrementAndGet, Duration.ZERO,
                HOUR, 2);
        stopped.start();

        assertThat(stopped.stop(Duration.ofSeconds(5))).isTrue();
        stopped.run();

        Thread.sleep(100);
        assertThat(calls).hasValue(0);
    }

    private static void waitFor(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition reached within " + WAIT_MS + " ms").isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
