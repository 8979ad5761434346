package dev.railyard.proxy.sync;

import dev.railyard.proxy.apply.IptablesException;
import dev.railyard.proxy.apply.JumpRules;
import dev.railyard.proxy.render.Chains;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * kube-proxy's iptables monitor: an empty {@value Chains#PROXY_CANARY} chain in the mangle, nat and filter tables,
 * looked at every sync period. A canary gone means something flushed or reloaded the tables (a firewall service
 * restarting, a saved ruleset restored), which takes the proxy's rules with it; the syncer is then asked for a
 * full sync, which writes every rule and jump again. This is what lets iptables mode do a full sync only once an
 * hour, as kube-proxy 1.28+ does, instead of every sync period (~20 s of iptables-restore at 10,000 services).
 */
public final class IptablesCanary implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(IptablesCanary.class);
    static final List<String> TABLES = List.of("mangle", "nat", "filter");

    private final JumpRules iptables;
    private final Syncer syncer;
    private final ScheduledExecutorService timer;

    private IptablesCanary(JumpRules iptables, Syncer syncer) {
        this.iptables = Objects.requireNonNull(iptables, "iptables");
        this.syncer = Objects.requireNonNull(syncer, "syncer");
        this.timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "iptables-canary-" + syncer.family().kubernetesName());
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Plants the canaries and looks at them every {@code interval} until closed. */
    public static IptablesCanary start(JumpRules iptables, Syncer syncer, Duration interval)
            throws IptablesException, InterruptedException {
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("canary interval must be positive, got " + interval);
        }
        IptablesCanary canary = new IptablesCanary(iptables, syncer);
        canary.plant();
        long millis = interval.toMillis();
        canary.timer.scheduleWithFixedDelay(canary::lookQuietly, millis, millis, TimeUnit.MILLISECONDS);
        return canary;
    }

    /**
     * One look: whether a canary was gone. Then every canary is planted again and a full sync asked for (planted
     * first, so that a flush during the sync is noticed at the next look).
     */
    boolean look() throws IptablesException, InterruptedException {
        for (String table : TABLES) {
            if (!iptables.chainExists(table, Chains.PROXY_CANARY)) {
                LOG.info("{} canary chain {} in table {} is gone: the tables were flushed; syncing fully",
                        syncer.family().kubernetesName(), Chains.PROXY_CANARY, table);
                plant();
                syncer.requestFullSync();
                return true;
            }
        }
        return false;
    }

    private void lookQuietly() {
        try {
            look();
        } catch (IptablesException e) {
            LOG.warn("{} canary check failed: {}", syncer.family().kubernetesName(), e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.error("{} canary check failed", syncer.family().kubernetesName(), e);
        }
    }

    private void plant() throws IptablesException, InterruptedException {
        for (String table : TABLES) {
            iptables.ensureChain(table, Chains.PROXY_CANARY);
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
