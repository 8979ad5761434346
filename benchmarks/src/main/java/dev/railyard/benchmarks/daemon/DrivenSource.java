package dev.railyard.benchmarks.daemon;

import dev.railyard.proxy.source.ClusterEventHandler;
import dev.railyard.proxy.source.ClusterSource;

import java.util.Objects;

/**
 * A {@link ClusterSource} that delivers nothing by itself: the benchmark calls {@link #handler()} directly, so
 * "the event arrived" is a point in time the benchmark knows exactly, as it would be the informer's callback.
 */
final class DrivenSource implements ClusterSource {
    private final ClusterEventHandler handler;
    private volatile boolean synced;

    DrivenSource(ClusterEventHandler handler) {
        this.handler = Objects.requireNonNull(handler, "handler");
    }

    ClusterEventHandler handler() {
        return handler;
    }

    /** Both kinds' synced calls, after the initial objects have been handed over. */
    void markSynced() {
        handler.onServicesSynced();
        handler.onEndpointSlicesSynced();
        synced = true;
    }

    @Override
    public void start() {
    }

    @Override
    public boolean hasSynced() {
        return synced;
    }

    @Override
    public void close() {
    }
}
