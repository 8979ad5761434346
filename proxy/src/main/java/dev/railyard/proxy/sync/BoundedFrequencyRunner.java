package dev.railyard.proxy.sync;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * Runs one function on one worker thread, as kube-proxy's BoundedFrequencyRunner: {@link #run()} asks for a run
 * and returns at once, and requests made while a run is waiting or in progress are coalesced into one; runs are
 * at least {@code minInterval} apart apart from a burst of {@code burst} after a quiet period; a run happens at
 * least every {@code maxInterval} even if nobody asks; {@link #retryAfter} brings the next run forward after a
 * failure. Timing rules live in {@link RunSchedule}.
 *
 * <pre>{@code
 * BoundedFrequencyRunner runner = new BoundedFrequencyRunner("sync-v4", syncer::sync,
 *         Duration.ofSeconds(1), Duration.ofSeconds(30), 2);
 * runner.start();
 * runner.run();      // from event handlers
 * runner.stop();     // waits for a run in progress to end
 * }</pre>
 */
public final class BoundedFrequencyRunner {
    /** kube-proxy's burstSyncs. */
    public static final int KUBE_PROXY_BURST = 2;

    private static final Logger LOG = LoggerFactory.getLogger(BoundedFrequencyRunner.class);

    private final String name;
    private final Runnable function;
    private final LongSupplier nanoTime;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final RunSchedule schedule;
    private final Thread worker;
    private boolean stopped;
    private long runs;

    public BoundedFrequencyRunner(String name, Runnable function, Duration minInterval, Duration maxInterval,
                                  int burst) {
        this(name, function, minInterval, maxInterval, burst, System::nanoTime);
    }

    /** @param nanoTime a monotonic clock, as {@link System#nanoTime()} */
    BoundedFrequencyRunner(String name, Runnable function, Duration minInterval, Duration maxInterval, int burst,
                           LongSupplier nanoTime) {
        this.name = Objects.requireNonNull(name, "name");
        this.function = Objects.requireNonNull(function, "function");
        this.nanoTime = nanoTime;
        this.schedule = new RunSchedule(minInterval, maxInterval, burst, nanoTime.getAsLong());
        this.worker = new Thread(this::loop, name);
        this.worker.setDaemon(true);
    }

    public void start() {
        worker.start();
    }

    /** Asks for a run as soon as the rate limit allows; never blocks on a run in progress. */
    public void run() {
        lock.lock();
        try {
            schedule.request();
            changed.signal();
        } finally {
            lock.unlock();
        }
    }

    /** Makes the next run happen no later than {@code interval} from now (rate limit permitting). */
    public void retryAfter(Duration interval) {
        lock.lock();
        try {
            schedule.retryAt(nanoTime.getAsLong() + interval.toNanos());
            changed.signal();
        } finally {
            lock.unlock();
        }
    }

    /** Runs completed so far. */
    public long completedRuns() {
        lock.lock();
        try {
            return runs;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops the worker, waiting up to {@code timeout} for a run in progress to end.
     *
     * @return whether the worker has ended
     */
    public boolean stop(Duration timeout) throws InterruptedException {
        lock.lock();
        try {
            stopped = true;
            changed.signal();
        } finally {
            lock.unlock();
        }
        if (worker.isAlive()) {
            worker.join(Math.max(1, timeout.toMillis()));
        }
        return !worker.isAlive();
    }

    private void loop() {
        while (true) {
            lock.lock();
            try {
                while (!stopped) {
                    long now = nanoTime.getAsLong();
                    long wait = schedule.nextRunAt(now) - now;
                    if (wait <= 0) {
                        break;
                    }
                    changed.awaitNanos(wait);
                }
                if (stopped) {
                    return;
                }
                schedule.runStarted(nanoTime.getAsLong());
            } catch (InterruptedException e) {
                return; // only stop() ends this thread, and it does not interrupt; someone else wants it gone
            } finally {
                lock.unlock();
            }
            try {
                function.run();
            } catch (RuntimeException e) {
                // The function reports its own failures (and asks for retries); a throw must not end the loop.
                LOG.error("{}: run failed", name, e);
            }
            lock.lock();
            try {
                schedule.runEnded(nanoTime.getAsLong());
                runs++;
            } finally {
                lock.unlock();
            }
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
