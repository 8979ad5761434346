package dev.railyard.proxy.daemon.ops;

import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePortName;
import dev.railyard.proxy.sync.StaleUdpEndpoint;
import dev.railyard.proxy.sync.SyncResult;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Runs a family's {@link ConntrackCleaner} on its own thread, so that a sync never waits for {@code conntrack}.
 * The first sync after start-up reports every UDP port of the cluster as newly active, which is a process start
 * per frontend: hundreds at 10,000 services, that used to hold up the next sync. Work that arrives while a
 * cleanup runs is merged (the gone endpoints and newly active ports of every sync, with the latest state), so
 * the backlog is one pending cleanup however fast syncs come, and never a queue of whole states.
 */
public final class BackgroundConntrackCleanup implements AutoCloseable {
    private final IpFamily family;
    private final ConntrackCleaner cleaner;
    private final ExecutorService thread;
    private final Object lock = new Object();
    /** Guarded by lock. */
    private List<StaleUdpEndpoint> gone = new ArrayList<>();
    private Set<ServicePortName> newlyActive = new LinkedHashSet<>();
    private ProxyState latest;
    private boolean scheduled;
    private boolean running;
    private ConntrackCleaner.Report lastReport;

    public BackgroundConntrackCleanup(IpFamily family, ConntrackCleaner cleaner) {
        this.family = Objects.requireNonNull(family, "family");
        this.cleaner = Objects.requireNonNull(cleaner, "cleaner");
        this.thread = Executors.newSingleThreadExecutor(runnable -> {
            Thread t = new Thread(runnable, "railyard-conntrack-" + family.kubernetesName());
            t.setDaemon(true);
            return t;
        });
    }

    /** Hands over a sync of this family; returns at once. Failed and skipped syncs carry nothing to clean. */
    public void submit(SyncResult result) {
        if (!result.succeeded() || result.family() != family) {
            return;
        }
        synchronized (lock) {
            gone.addAll(result.goneUdpEndpoints());
            newlyActive.addAll(result.newlyActiveUdpPorts());
            latest = result.state();
            if (!scheduled) {
                scheduled = true;
                thread.execute(this::cleanPending);
            }
        }
    }

    private void cleanPending() {
        List<StaleUdpEndpoint> goneNow;
        Set<ServicePortName> activeNow;
        ProxyState state;
        synchronized (lock) {
            goneNow = gone;
            activeNow = newlyActive;
            state = latest;
            gone = new ArrayList<>();
            newlyActive = new LinkedHashSet<>();
            latest = null;
            scheduled = false;
            running = true;
        }
        ConntrackCleaner.Report report = null;
        try {
            report = cleaner.clean(family, goneNow, activeNow, state);
        } finally {
            synchronized (lock) {
                lastReport = report;
                running = false;
                lock.notifyAll();
            }
        }
    }

    /**
     * Waits until everything submitted so far has been cleaned and returns the last cleanup's report, or null if
     * none ran; for tests.
     */
    ConntrackCleaner.Report awaitIdle(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        synchronized (lock) {
            while (scheduled || running) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    break;
                }
                lock.wait(left);
            }
            return lastReport;
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
