package dev.railyard.overlay.lease;

import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.config.NetworkConfig;

/**
 * The lease store: everything the daemon needs from etcd, so backends and the daemon never talk to
 * etcd directly.
 */
public interface SubnetManager extends AutoCloseable {

    /** Reads and validates the network config. */
    NetworkConfig networkConfig();

    /**
     * Leases a subnet for the host with {@code attrs}: the host's existing lease (same public IP) if
     * there is one, else {@code previous} when it is still free, else a random free subnet.
     *
     * @param previous the subnet this host had before (e.g. from subnet.env), or null
     * @throws NetworkFullException when no subnet is free
     */
    Lease acquire(LeaseAttrs attrs, Ip4Net previous);

    /**
     * Extends {@code lease}. If it has expired or its key is gone, acquires again, preferring the
     * same subnet, so the returned lease may differ from the argument.
     */
    Lease renew(Lease lease);

    /** Streams the lease set to {@code listener} until the returned handle is closed. */
    AutoCloseable watch(LeaseListener listener);

    @Override
    void close();
}
