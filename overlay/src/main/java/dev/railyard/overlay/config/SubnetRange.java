package dev.railyard.overlay.config;

/**
 * The subnets one address family hands out: every {@code subnetLen} subnet from SubnetMin to SubnetMax of the
 * network, numbered from 0 so that allocation can work on indexes whatever the family.
 *
 * @param <N> the network type of the family
 */
public interface SubnetRange<N> {

    /** The family's pod network ({@code Network} or {@code IPv6Network}). */
    N network();

    int subnetLen();

    /** How many subnets lie between SubnetMin and SubnetMax inclusive (capped at 2^62 for huge IPv6 ranges). */
    long count();

    /** The {@code index}-th allocatable subnet, counting from SubnetMin. */
    N at(long index);

    /** Whether {@code subnet} is one this range could hand out. */
    boolean isAllocatable(N subnet);

    /** Index of an allocatable subnet; the inverse of {@link #at}. */
    long indexOf(N subnet);
}
