package dev.railyard.overlay.lease;

import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.config.NetworkConfig;
import java.util.BitSet;
import java.util.Collection;
import java.util.random.RandomGenerator;

/**
 * Picks a free subnet. Random rather than lowest-free, as flannel does, so that hosts acquiring at
 * the same moment rarely race for the same key.
 */
public final class SubnetAllocator {
    // Below this many subnets, enumerating the free ones is cheap and exact.
    private static final long ENUMERATE_BELOW = 1 << 16;
    private static final int RANDOM_PROBES = 64;

    private final NetworkConfig config;
    private final BitSet taken = new BitSet();
    private final RandomGenerator random;
    private int takenCount;

    public SubnetAllocator(NetworkConfig config, RandomGenerator random) {
        this.config = config;
        this.random = random;
    }

    /** Marks subnets as unavailable; anything outside SubnetMin..SubnetMax is ignored. */
    public SubnetAllocator markTaken(Collection<Ip4Net> subnets) {
        subnets.forEach(this::markTaken);
        return this;
    }

    public void markTaken(Ip4Net subnet) {
        if (config.isAllocatable(subnet)) {
            int i = (int) config.indexOf(subnet);
            if (!taken.get(i)) {
                taken.set(i);
                takenCount++;
            }
        }
    }

    public boolean isFree(Ip4Net subnet) {
        return config.isAllocatable(subnet) && !taken.get((int) config.indexOf(subnet));
    }

    public long freeCount() {
        return config.subnetCount() - takenCount;
    }

    /** A random free subnet. */
    public Ip4Net pick() {
        long count = config.subnetCount();
        if (freeCount() <= 0) {
            throw new NetworkFullException("network " + config.network() + " is full: all " + count + " /"
                    + config.subnetLen() + " subnets from " + Ip4Net.formatAddress(config.subnetMin()) + " to "
                    + Ip4Net.formatAddress(config.subnetMax()) + " are leased or reserved");
        }
        if (count >= ENUMERATE_BELOW) {
            for (int i = 0; i < RANDOM_PROBES; i++) {
                long candidate = random.nextLong(count);
                if (!taken.get((int) candidate)) {
                    return config.subnetAt(candidate);
                }
            }
        }
        // Mostly full or small: choose uniformly among the free ones.
        long nth = random.nextLong(freeCount());
        for (int i = taken.nextClearBit(0); ; i = taken.nextClearBit(i + 1)) {
            if (nth-- == 0) {
                return config.subnetAt(i);
            }
        }
    }
}
