package dev.railyard.proxy.source;

import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1ServiceCIDR;

/**
 * What a source of cluster state (the API server's informers, a directory of manifests) tells the proxy, in
 * the shape of kube-proxy's config handlers: object events, then one "synced" call per kind once the initial
 * list has been delivered, after which the proxy may program rules without fear of a partial view.
 *
 * <p>Calls for one kind come from one thread, in order; calls for different kinds may interleave. A handler
 * must not block: it records the change and lets the sync loop do the work.
 */
public interface ClusterEventHandler {
    /** {@code oldService} is null for an addition; {@code service} is null for a deletion. */
    void onServiceChange(V1Service oldService, V1Service service);

    /** {@code oldSlice} is null for an addition; {@code slice} is null for a deletion. */
    void onEndpointSliceChange(V1EndpointSlice oldSlice, V1EndpointSlice slice);

    /** Every Service that existed when the source started has been delivered. */
    void onServicesSynced();

    /** Every EndpointSlice that existed when the source started has been delivered. */
    void onEndpointSlicesSynced();

    /**
     * This node's Node object was added, changed or deleted ({@code node} null): its zone label (topology
     * hints), pod CIDRs, deletion and taints. Sources deliver only the Node named as this node; kube-proxy watches
     * its own Node the same way.
     */
    default void onNodeChange(V1Node oldNode, V1Node node) {
    }

    /** A networking.k8s.io/v1 ServiceCIDR was added, changed or deleted ({@code serviceCidr} null). */
    default void onServiceCidrChange(V1ServiceCIDR oldServiceCidr, V1ServiceCIDR serviceCidr) {
    }
}
