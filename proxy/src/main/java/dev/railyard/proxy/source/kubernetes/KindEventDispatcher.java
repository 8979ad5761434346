package dev.railyard.proxy.source.kubernetes;

import dev.railyard.proxy.source.RetainedObjects;
import io.kubernetes.client.common.KubernetesObject;
import io.kubernetes.client.informer.ResourceEventHandler;
import io.kubernetes.client.informer.SharedInformer;
import io.kubernetes.client.informer.TransformFunc;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns one informer's callbacks into {@code (old, new)} changes and one "synced" signal, all delivered on a
 * single thread of its own, in order.
 *
 * <p>Why the synced signal needs care: client-java's {@code hasSynced()} turns true once the initial list
 * has been handed to the informer's listener queues, not once handlers have seen it. Each object the
 * informer hands out passes through its transform function first, on the informer's own thread and before
 * it is queued, so counting there tells how many notifications existed when {@code hasSynced()} was first
 * seen true; synced is signalled once that many have been delivered.
 *
 * <p>Why it keeps what it has delivered: to turn relists and resyncs into the right calls. After a watch
 * breaks, client-java relists and reports every unchanged object again as an update; those carry no news
 * and are dropped unless a resync is wanted. A periodic resync is done here, from the delivered objects,
 * instead of by client-java, whose resync bookkeeping also hides relisted changes from its handlers.
 */
final class KindEventDispatcher<T extends KubernetesObject> implements ResourceEventHandler<T>, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(KindEventDispatcher.class);
    private static final long SYNC_POLL_MILLIS = 50;

    /** Where changes of one kind go. */
    interface Sink<T> {
        void onChange(T oldObject, T newObject);

        void onSynced();
    }

    private final String kind;
    private final Sink<T> sink;
    private final boolean resyncing;
    private final ScheduledExecutorService thread;
    private final AtomicLong notificationsHandedOut = new AtomicLong();

    // Confined to the dispatcher thread.
    private final Map<String, T> delivered = new LinkedHashMap<>();
    private long notificationsSeen;
    private long syncedAfter = -1;
    private volatile boolean synced;
    private ScheduledFuture<?> syncPoll;

    KindEventDispatcher(String kind, Sink<T> sink, Duration resyncPeriod) {
        this.kind = kind;
        this.sink = sink;
        this.resyncing = !resyncPeriod.isZero();
        this.thread = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread t = new Thread(runnable, "railyard-kube-" + kind);
            t.setDaemon(true);
            return t;
        });
        if (resyncing) {
            long millis = resyncPeriod.toMillis();
            thread.scheduleAtFixedRate(this::resync, millis, millis, TimeUnit.MILLISECONDS);
        }
    }

    /** To install on the informer before it starts: counts objects and trims them for the informer's cache. */
    TransformFunc countingTransform() {
        return object -> {
            notificationsHandedOut.incrementAndGet();
            // The informer caches what the transform returns, for as long as the object exists.
            return RetainedObjects.trim(object);
        };
    }

    /** Starts watching for the informer's initial list to be delivered. */
    void awaitSyncOf(SharedInformer<T> informer) {
        thread.execute(() -> syncPoll = thread.scheduleWithFixedDelay(
                () -> checkSynced(informer), 0, SYNC_POLL_MILLIS, TimeUnit.MILLISECONDS));
    }

    boolean hasSynced() {
        return synced;
    }

    @Override
    public void onAdd(T object) {
        thread.execute(() -> deliver(object));
    }

    @Override
    public void onUpdate(T oldObject, T newObject) {
        // The old object handed on is the one this dispatcher last delivered, which is what the handler holds.
        thread.execute(() -> deliver(newObject));
    }

    @Override
    public void onDelete(T object, boolean deletedFinalStateUnknown) {
        // A final-state-unknown object is the last state the informer saw before a relist showed it gone;
        // client-java has already unwrapped the tombstone, so it is delivered like any deletion.
        thread.execute(() -> deliverDeletion(object));
    }

    @Override
    public void close() {
        thread.shutdownNow();
        try {
            if (!thread.awaitTermination(5, TimeUnit.SECONDS)) {
                log.warn("{} event dispatcher did not stop within 5 s", kind);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void deliver(T object) {
        String key = keyOf(object);
        T previous = delivered.put(key, object);
        if (previous == null || resyncing || !sameVersion(previous, object)) {
            handOver(previous, object);
        }
        countNotification();
    }

    private void deliverDeletion(T object) {
        T previous = delivered.remove(keyOf(object));
        if (previous != null) {
            handOver(previous, null);
        }
        countNotification();
    }

    private void resync() {
        if (synced) {
            delivered.values().forEach(object -> handOver(object, object));
        }
    }

    private void checkSynced(SharedInformer<T> informer) {
        if (syncedAfter < 0 && informer.hasSynced()) {
            syncedAfter = notificationsHandedOut.get();
            signalSyncedWhenCaughtUp();
        }
    }

    private void countNotification() {
        notificationsSeen++;
        signalSyncedWhenCaughtUp();
    }

    private void signalSyncedWhenCaughtUp() {
        if (synced || syncedAfter < 0 || notificationsSeen < syncedAfter) {
            return;
        }
        syncPoll.cancel(false);
        try {
            sink.onSynced();
        } catch (RuntimeException e) {
            log.error("{} synced handler failed", kind, e);
        }
        synced = true;
    }

    private void handOver(T oldObject, T newObject) {
        try {
            sink.onChange(oldObject, newObject);
        } catch (RuntimeException e) {
            // A handler must not throw; if one does, later changes must still reach it.
            log.error("{} change handler failed for {}", kind, keyOf(newObject != null ? newObject : oldObject), e);
        }
    }

    private static String keyOf(KubernetesObject object) {
        V1ObjectMeta metadata = object.getMetadata();
        return metadata.getNamespace() == null ? metadata.getName() : metadata.getNamespace() + "/" + metadata.getName();
    }

    private static boolean sameVersion(KubernetesObject a, KubernetesObject b) {
        String version = a.getMetadata().getResourceVersion();
        return version != null && Objects.equals(version, b.getMetadata().getResourceVersion());
    }
}
