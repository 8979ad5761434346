package dev.railyard.overlay.lease;

import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches {@code <prefix>/subnets/} on one thread: list, then watch from the listed revision; on a
 * broken watch resume from the last revision seen; on compaction (history gone) list again and hand
 * the listener a fresh reset. Errors back off exponentially so a dead etcd is not hammered.
 */
final class EtcdLeaseWatch implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EtcdLeaseWatch.class);
    private static final Duration MIN_BACKOFF = Duration.ofMillis(100);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);
    private static final Object CLOSED = new Object();

    private final EtcdSubnetManager manager;
    private final LeaseListener listener;
    private final BlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile boolean closed;
    private long nextRevision;
    private boolean needList;

    EtcdLeaseWatch(EtcdSubnetManager manager, LeaseListener listener) {
        this(manager, listener, 0);
    }

    /** Starts watching at {@code startRevision} without listing first; 0 lists first. */
    EtcdLeaseWatch(EtcdSubnetManager manager, LeaseListener listener, long startRevision) {
        this.manager = manager;
        this.listener = listener;
        this.nextRevision = startRevision;
        this.needList = startRevision == 0;
        this.thread = new Thread(this::run, "overlay-lease-watch");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        Duration backoff = MIN_BACKOFF;
        while (!closed) {
            Watch.Watcher watcher = null;
            try {
                if (needList) {
                    EtcdSubnetManager.Snapshot snapshot = manager.list();
                    listener.reset(snapshot.leases());
                    nextRevision = snapshot.revision() + 1;
                    needList = false;
                }
                inbox.clear();
                watcher = manager.client().getWatchClient().watch(
                        EtcdSubnetManager.bytes(manager.keys().subnetsPrefix()),
                        // require a leader: a member cut off from quorum ends the watch (and we reconnect,
                        // possibly to another member) instead of going silent
                        WatchOption.builder().isPrefix(true).withRevision(nextRevision).withRequireLeader(true).build(),
                        Watch.listener(inbox::add, inbox::add, () -> inbox.add(CLOSED)));
                while (!closed) {
                    Object item = inbox.poll(1, TimeUnit.SECONDS);
                    if (item == null) {
                        continue;
                    }
                    if (item instanceof WatchResponse response) {
                        deliver(response);
                        backoff = MIN_BACKOFF;
                        continue;
                    }
                    if (item instanceof CompactedException) {
                        log.warn("lease watch fell behind compaction at revision {}; listing again", nextRevision);
                        needList = true;
                    } else if (item instanceof Throwable t) {
                        log.warn("lease watch failed, resuming from revision {} in {} ms: {}",
                                nextRevision, backoff.toMillis(), EtcdClients.rootMessage(t));
                        sleep(backoff);
                        backoff = min(backoff.multipliedBy(2), MAX_BACKOFF);
                    } else {
                        log.info("lease watch closed by etcd, resuming from revision {}", nextRevision);
                    }
                    break;
                }
            } catch (LeaseException e) {
                log.warn("listing leases failed, retrying in {} ms: {}", backoff.toMillis(), e.getMessage());
                sleep(backoff);
                backoff = min(backoff.multipliedBy(2), MAX_BACKOFF);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                if (closed) {
                    return; // interrupted mid-delivery by close()
                }
                // A listener bug must not kill the watch; the next reset repairs whatever it missed.
                log.error("lease listener failed; listing again", e);
                needList = true;
                sleep(backoff);
                backoff = min(backoff.multipliedBy(2), MAX_BACKOFF);
            } finally {
                if (watcher != null) {
                    watcher.close();
                }
            }
        }
    }

    private void deliver(WatchResponse response) {
        List<LeaseEvent> events = new ArrayList<>(response.getEvents().size());
        for (WatchEvent e : response.getEvents()) {
            nextRevision = Math.max(nextRevision, e.getKeyValue().getModRevision() + 1);
            switch (e.getEventType()) {
                case PUT -> {
                    Lease l = manager.toLease(e.getKeyValue());
                    if (l != null) {
                        events.add(new LeaseEvent(LeaseEvent.Type.ADDED, l));
                    }
                }
                case DELETE -> {
                    String key = e.getKeyValue().getKey().toString(StandardCharsets.UTF_8);
                    LeaseSubnets subnet = manager.keys().parseSubnetKey(key);
                    if (subnet != null) {
                        events.add(new LeaseEvent(LeaseEvent.Type.REMOVED, new Lease(subnet, null, 0, Instant.MIN)));
                    }
                }
                default -> log.debug("ignoring watch event {}", e.getEventType());
            }
        }
        if (!events.isEmpty()) {
            listener.changed(events);
        }
    }

    private void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closed = true;
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
