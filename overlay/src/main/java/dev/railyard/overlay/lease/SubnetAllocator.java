package dev.railyard.overlay.lease;

import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.config.NetworkConfig;
import java.util.BitSet;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * Picks a free lease of a {@link SubnetSpace}. Random rather than lowest-free, as flannel does, so that hosts
 * acquiring at the same moment rarely race for the same key.
 */
public final class SubnetAllocator {
    // Below this many subnets, enumerating the free ones is cheap and exact.
    private static final long ENUMERATE_BELOW = 1 << 16;
    // Above this many, taken indexes are kept in a hash set rather than a bit set.
    private static final long BITSET_BELOW = 1L << 26;
    private static final int RANDOM_PROBES = 64;

    private final SubnetSpace space;
    private final BitSet takenBits;
    private final Set<Long> takenSet;
    private final RandomGenerator random;
    private long takenCount;

    public SubnetAllocator(NetworkConfig config, RandomGenerator random) {
        this(new SubnetSpace(config), random);
    }

    public SubnetAllocator(SubnetSpace space, RandomGenerator random) {
        this.space = space;
        this.random = random;
        boolean small = space.count() < BITSET_BELOW;
        this.takenBits = small ? new BitSet() : null;
        this.takenSet = small ? null : new HashSet<>();
    }

    /** Marks leases as unavailable; anything outside the space is ignored. */
    public SubnetAllocator markTaken(Collection<LeaseSubnets> subnets) {
        subnets.forEach(this::markTaken);
        return this;
    }

    public void markTaken(LeaseSubnets subnets) {
        space.indexesOf(subnets, this::markIndex);
    }

    public void markTaken(Ip4Net subnet) {
        markTaken(LeaseSubnets.of(subnet));
    }

    private void markIndex(long i) {
        if (!taken(i)) {
            if (takenBits != null) {
                takenBits.set((int) i);
            } else {
                takenSet.add(i);
            }
            takenCount++;
        }
    }

    private boolean taken(long i) {
        return takenBits != null ? takenBits.get((int) i) : takenSet.contains(i);
    }

    public boolean isFree(LeaseSubnets subnets) {
        if (!space.isAllocatable(subnets)) {
            return false;
        }
        boolean[] free = {true};
        space.indexesOf(subnets, i -> free[0] &= !taken(i));
        return free[0];
    }

    public boolean isFree(Ip4Net subnet) {
        return space.config().ipv6() == null && isFree(LeaseSubnets.of(subnet));
    }

    public long freeCount() {
        return space.count() - takenCount;
    }

    /** A random free lease. */
    public LeaseSubnets pick() {
        long count = space.count();
        if (freeCount() <= 0) {
            throw new NetworkFullException(space.describe() + " is full: every subnet is leased or reserved");
        }
        if (count >= ENUMERATE_BELOW) {
            for (int i = 0; i < RANDOM_PROBES; i++) {
                long candidate = random.nextLong(count);
                if (!taken(candidate)) {
                    return space.at(candidate);
                }
            }
        }
        if (takenBits == null) {
            // A huge IPv6 space that random probes could not hit a free slot of: it is nearly full of leases,
            // which a hash set of that size cannot be; walk from the start.
            for (long i = 0; i < count; i++) {
                if (!taken(i)) {
                    return space.at(i);
                }
            }
        }
        // Mostly full or small: choose uniformly among the free ones.
        long nth = random.nextLong(freeCount());
        for (int i = takenBits.nextClearBit(0); ; i = takenBits.nextClearBit(i + 1)) {
            if (nth-- == 0) {
                return space.at(i);
            }
        }
    }
}
