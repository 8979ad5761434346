package dev.railyard.proxy.render.nftables;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Where each dispatch chain's endpoints live in the flat layout's shared endpoint maps: a block of numgen keys
 * (its chain dispatches with {@code numgen random mod N offset BASE}, the map holds BASE..BASE+N-1). Maps shared
 * by the blocks of a {@link #SHARD_KEYS shard} rather than a map per service port, because the kernel finds a
 * named set by walking the table's list of sets: with tens of thousands of maps, creating or naming one costs
 * milliseconds and a full sync grows quadratically; nor one map for all, because binding a map to a new chain
 * walks all its elements.
 *
 * <p>A chain keeps its block while its endpoints fit (blocks are powers of two), so a pod replaced rewrites one
 * element. A key is never given out while the kernel may still hold it for a rule that was not yet rewritten:
 * keys listed from the kernel at start are {@link #reserve reserved} until a full sync has replaced every rule,
 * and keys of a block given up in a sync are free only once that sync is committed. Not thread-safe.
 */
final class EndpointKeyBlocks {
    /** Keys below this are never given out: offset 0 reads differently in listings ({@code nft} omits it). */
    static final long FIRST_KEY = 16;
    /** numgen's register is 32 bits; the keys stay within the signed range for plain {@code int} offsets. */
    static final long KEY_LIMIT = 1L << 31;
    private static final int SMALLEST_BLOCK = 4;
    /**
     * Keys per endpoint map ({@link NftablesLayout#endpointMap}). Every rule that names a map makes the kernel
     * walk the table's list of sets until it finds it, so fewer maps make every rule cheaper: at 50,000 services,
     * 3,200 maps of 512 keys spent ~65% of a re-sync's kernel time in that walk (apply 20 s; 800 maps of 2,048
     * keys: 12 s). Binding a map to a new chain's rule walks the map's elements, which bigger maps make dearer:
     * one map for all (100,000 endpoints) made a 10,000-service full sync spend ~100 s there, and at 10,000
     * services 4,096 keys per map were ~200 ms slower than 1,024 or 2,048. Blocks are aligned to their size, so a
     * block of up to this many keys lies in one shard, and a bigger one starts a run of shards of its own.
     */
    static final long SHARD_KEYS = 2048;

    /** A block of keys: base .. base+size-1. */
    record Block(long base, long size) {
        long end() {
            return base + size;
        }
    }

    /** The block each dispatch chain's rule reads, as committed. */
    private final Map<String, Block> owned = new HashMap<>();
    /** Every key range not free: owned blocks, blocks of uncommitted plans, reserved kernel keys. start -> end. */
    private final TreeMap<Long, Long> used = new TreeMap<>();
    /** Committed-free blocks by size, reused first. */
    private final Map<Long, ArrayDeque<Long>> free = new HashMap<>();
    /** Ranges the kernel held when listed that no owned block covers: start -> end. */
    private final TreeMap<Long, Long> reserved = new TreeMap<>();
    /** Blocks taken by refused plans: the kernel may hold them until a full sync. */
    private final List<Block> abandoned = new ArrayList<>();
    private long bump = FIRST_KEY;

    /** The committed block of {@code chain}, or null. */
    Block owned(String chain) {
        return owned.get(chain);
    }

    /**
     * Reserves every listed key that no owned block covers: the kernel's rules may still read it until a full
     * sync has rewritten them all ({@link Changes#commit} of a full sync releases the reservation).
     */
    void reserve(Collection<Long> kernelKeys) {
        long[] keys = kernelKeys.stream().mapToLong(Long::longValue).sorted().toArray();
        int i = 0;
        while (i < keys.length) {
            int j = i + 1;
            while (j < keys.length && keys[j] <= keys[j - 1] + 1) {
                j++;
            }
            reserveFree(keys[i], keys[j - 1] + 1);
            i = j;
        }
    }

    /** Reserves the parts of start..end-1 that are free (owned and taken blocks are used already). */
    private void reserveFree(long start, long end) {
        long from = start;
        while (from < end) {
            Map.Entry<Long, Long> covering = used.floorEntry(from);
            if (covering != null && covering.getValue() > from) {
                from = covering.getValue();
                continue;
            }
            Long next = used.ceilingKey(from);
            long to = next == null ? end : Math.min(end, next);
            used.put(from, to);
            reserved.put(from, to);
            bump = Math.max(bump, to);
            from = to;
        }
    }

    Changes changes() {
        return new Changes();
    }

    /**
     * The blocks one plan takes and gives up. A block taken is out of the free space at once (two chains of one
     * plan never share keys, and a plan that fails half-applied leaves no key given out twice); blocks given up
     * become free on {@link #commit}.
     */
    final class Changes {
        private final Map<String, Block> taken = new HashMap<>();
        private final Set<String> kept = new HashSet<>();
        private final List<Block> replaced = new ArrayList<>();

        /**
         * The base of {@code chain}'s block for {@code count} endpoints: its own block while they fit, else a new
         * one (the old one given up when this plan commits).
         */
        long base(String chain, int count) {
            Block current = taken.get(chain);
            if (current == null) {
                current = owned.get(chain);
            }
            if (current != null && current.size() >= count) {
                if (!taken.containsKey(chain)) {
                    kept.add(chain);
                }
                return current.base();
            }
            Block block = take(sizeFor(count));
            Block previous = taken.put(chain, block);
            if (previous != null) {
                replaced.add(previous);
            } else if (owned.containsKey(chain)) {
                replaced.add(owned.get(chain));
            }
            kept.remove(chain);
            return block.base();
        }

        /**
         * The plan is in the kernel. Its chains own what they took; blocks they left, and blocks of {@code gone}
         * chains (a port removed, a chain no longer used), are free; a full plan also frees every block no chain
         * of it used and the reservation of listed keys.
         */
        void commit(boolean full, Collection<String> gone) {
            for (Block block : replaced) {
                release(block);
            }
            for (String chain : gone) {
                if (!taken.containsKey(chain) && !kept.contains(chain)) {
                    Block block = owned.remove(chain);
                    if (block != null) {
                        release(block);
                    }
                }
            }
            if (full) {
                List<String> unused = new ArrayList<>();
                for (String chain : owned.keySet()) {
                    if (!taken.containsKey(chain) && !kept.contains(chain)) {
                        unused.add(chain);
                    }
                }
                for (String chain : unused) {
                    release(owned.remove(chain));
                }
                reserved.forEach((start, end) -> used.remove(start));
                reserved.clear();
                abandoned.forEach(EndpointKeyBlocks.this::release);
                abandoned.clear();
            }
            owned.putAll(taken);
        }

        /**
         * The plan was refused, perhaps after some of its transactions applied: what it took stays out of the
         * free space until a full sync has listed the kernel and rewritten every rule.
         */
        void abandon() {
            abandoned.addAll(taken.values());
        }
    }

    /** The smallest power of two that holds {@code count} endpoints, at least {@value #SMALLEST_BLOCK}. */
    static long sizeFor(int count) {
        long size = SMALLEST_BLOCK;
        while (size < count) {
            size <<= 1;
        }
        return size;
    }

    private Block take(long size) {
        ArrayDeque<Long> bases = free.get(size);
        while (bases != null && !bases.isEmpty()) {
            long base = bases.pop();
            // A freed block may since hold keys listed from the kernel (reserved): it waits for the first fit.
            if (!overlapsUsed(base, base + size)) {
                used.put(base, base + size);
                return new Block(base, size);
            }
        }
        long base = alignUp(bump, size);
        if (base + size > KEY_LIMIT) {
            base = firstFit(size);
        } else {
            bump = base + size;
        }
        used.put(base, base + size);
        return new Block(base, size);
    }

    /** The slow path once the bump pointer reached the end of the key space: the first aligned gap. */
    private long firstFit(long size) {
        long candidate = alignUp(FIRST_KEY, size);
        while (candidate + size <= KEY_LIMIT) {
            Map.Entry<Long, Long> before = used.floorEntry(candidate + size - 1);
            if (before == null || before.getValue() <= candidate) {
                return candidate;
            }
            candidate = alignUp(before.getValue(), size);
        }
        throw new IllegalStateException("the endpoint maps' key space (" + KEY_LIMIT + " keys) is exhausted");
    }

    private void release(Block block) {
        used.remove(block.base());
        free.computeIfAbsent(block.size(), s -> new ArrayDeque<>()).push(block.base());
    }

    private boolean overlapsUsed(long start, long end) {
        Map.Entry<Long, Long> before = used.floorEntry(end - 1);
        return before != null && before.getValue() > start;
    }

    private static long alignUp(long value, long size) {
        return (value + size - 1) / size * size;
    }

    /** Owned blocks (tests, logs). */
    Map<String, Block> ownedBlocks() {
        return Map.copyOf(owned);
    }
}
