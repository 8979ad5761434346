package dev.railyard.proxy.source;

/**
 * Where the proxy's Services and EndpointSlices come from (the API server, a directory of manifests): started
 * once, it feeds a {@link ClusterEventHandler} until closed.
 */
public interface ClusterSource extends AutoCloseable {
    /** Starts delivering; returns at once. */
    void start();

    /** Both kinds' initial objects have been delivered and their synced calls made. */
    boolean hasSynced();

    /** Stops delivering; no handler call starts after this returns. */
    @Override
    void close();
}
