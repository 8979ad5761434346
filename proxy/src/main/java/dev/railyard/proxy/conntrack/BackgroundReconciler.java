package dev.railyard.proxy.conntrack;

import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.sync.SyncResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs a family's {@link ConntrackReconciler} on its own thread after each successful sync, so a sync never waits
 * for {@code conntrack}. Syncs that arrive while a reconcile runs are merged: the reconcile only needs the latest
 * programmed state, so the backlog is at most one pending reconcile however fast syncs come.
 */
public final class BackgroundReconciler implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BackgroundReconciler.class);

    private final ConntrackReconciler reconciler;
    private final Consumer<ConntrackReconciler.Report> reports;
    private final ExecutorService thread;
    private final Object lock = new Object();
    /** Guarded by lock. */
    private ProxyState pending;
    private boolean scheduled;
    private boolean running;
    private ConntrackReconciler.Report last;

    /** @param reports told about every reconcile (metrics), on the reconciler's thread */
    public BackgroundReconciler(ConntrackReconciler reconciler, Consumer<ConntrackReconciler.Report> reports) {
        this.reconciler = Objects.requireNonNull(reconciler, "reconciler");
        this.reports = Objects.requireNonNull(reports, "reports");
        this.thread = Executors.newSingleThreadExecutor(runnable -> {
            Thread t = new Thread(runnable, "railyard-conntrack-" + reconciler.family().kubernetesName());
            t.setDaemon(true);
            return t;
        });
    }

    /** Hands over a sync of this family; returns at once. Failed and skipped syncs programmed nothing new. */
    public void submit(SyncResult result) {
        if (!result.succeeded() || result.family() != reconciler.family()) {
            return;
        }
        synchronized (lock) {
            pending = result.state();
            if (!scheduled) {
                scheduled = true;
                thread.execute(this::reconcilePending);
            }
        }
    }

    private void reconcilePending() {
        ProxyState state;
        synchronized (lock) {
            state = pending;
            pending = null;
            scheduled = false;
            running = true;
        }
        ConntrackReconciler.Report report = null;
        try {
            report = reconciler.reconcile(state);
            reports.accept(report);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.error("conntrack reconcile failed", e);
        } finally {
            synchronized (lock) {
                last = report;
                running = false;
                lock.notifyAll();
            }
        }
    }

    /** Waits until everything submitted so far has been reconciled; the last report, or null (tests). */
    public ConntrackReconciler.Report awaitIdle(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        synchronized (lock) {
            while (scheduled || running) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    break;
                }
                lock.wait(left);
            }
            return last;
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
