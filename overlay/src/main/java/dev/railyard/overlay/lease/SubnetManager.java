package dev.railyard.overlay.lease;

import dev.railyard.overlay.config.NetworkConfig;

/**
 * The lease store (etcd, or the Kubernetes API in kube mode): everything the daemon needs from it, so backends and
 * the daemon never talk to etcd or the API server directly. flannel's {@code subnet.Manager}.
 */
public interface SubnetManager extends AutoCloseable {

    /** Reads and validates the network config. */
    NetworkConfig networkConfig();

    /**
     * Leases subnets for the host with {@code attrs}: the host's existing lease (same public IP) if there is one,
     * else {@code previous} when it is still free, else a random free one. In kube mode: the Node's pod CIDRs,
     * with {@code attrs} published as its annotations.
     *
     * @param previous the subnets this host had before (e.g. from subnet.env), or null
     * @throws NetworkFullException when no subnet is free
     */
    Lease acquire(LeaseAttrs attrs, LeaseSubnets previous);

    /**
     * Extends {@code lease}. If it has expired or its key is gone, acquires again, preferring the
     * same subnet, so the returned lease may differ from the argument.
     */
    Lease renew(Lease lease);

    /** Streams the lease set to {@code listener} until the returned handle is closed. */
    AutoCloseable watch(LeaseListener listener);

    /**
     * What an earlier run left where this manager keeps node state (flannel's GetStoredPublicIP and
     * GetStoredMacAddresses: the Node's annotations in kube mode); nothing for etcd.
     */
    default StoredNodeState storedState() {
        return StoredNodeState.NONE;
    }

    /** Called once the data plane uses {@code lease} (flannel's CompleteLease: kube mode marks the Node's network up). */
    default void leaseInUse(Lease lease) {
    }

    @Override
    void close();
}
