package dev.railyard.proxy.render.nftables;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Tuple;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/** The flat layout's blocks of endpoint keys: stable while endpoints fit, never shared, never over kernel keys. */
class EndpointKeyBlocksTest {

    @Test
    void aChainKeepsItsBlockWhileItsEndpointsFitAndMovesWhenTheyDoNot() {
        EndpointKeyBlocks blocks = new EndpointKeyBlocks();
        EndpointKeyBlocks.Changes first = blocks.changes();
        long web = first.base("service-web", 3);
        long api = first.base("service-api", 10);
        first.commit(true, Set.of());
        assertThat(web).isEqualTo(EndpointKeyBlocks.FIRST_KEY);
        assertThat(blocks.owned("service-web").size()).isEqualTo(4);
        assertThat(blocks.owned("service-api")).isEqualTo(new EndpointKeyBlocks.Block(api, 16));

        EndpointKeyBlocks.Changes grown = blocks.changes();
        assertThat(grown.base("service-web", 4)).as("still fits").isEqualTo(web);
        long moved = grown.base("service-web", 5);
        assertThat(moved).isNotEqualTo(web);
        grown.commit(false, Set.of());
        assertThat(blocks.owned("service-web")).isEqualTo(new EndpointKeyBlocks.Block(moved, 8));

        // The old block is free again, for the next chain of its size.
        EndpointKeyBlocks.Changes next = blocks.changes();
        assertThat(next.base("service-cache", 2)).isEqualTo(web);
        next.commit(false, Set.of());
    }

    @Test
    void keysTheKernelHoldsAreNotGivenOutUntilAFullSyncReplacedThem() {
        EndpointKeyBlocks blocks = new EndpointKeyBlocks();
        blocks.reserve(List.of(16L, 17L, 18L, 40L));
        EndpointKeyBlocks.Changes full = blocks.changes();
        long web = full.base("service-web", 2);
        assertThat(web).as("above every listed key").isGreaterThanOrEqualTo(41);
        full.commit(true, Set.of());

        EndpointKeyBlocks.Changes later = blocks.changes();
        later.base("service-web", 9); // moves, freeing its block of 4
        later.commit(false, Set.of());
        EndpointKeyBlocks.Changes afterThat = blocks.changes();
        assertThat(afterThat.base("service-api", 3)).isEqualTo(web);
    }

    @Test
    void aRefusedPlansBlocksStayTakenUntilAFullSync() {
        EndpointKeyBlocks blocks = new EndpointKeyBlocks();
        EndpointKeyBlocks.Changes refused = blocks.changes();
        long web = refused.base("service-web", 2);
        refused.abandon();
        EndpointKeyBlocks.Changes retry = blocks.changes();
        long again = retry.base("service-web", 2);
        assertThat(again).as("the kernel may hold the refused plan's first transactions").isNotEqualTo(web);
        retry.commit(true, Set.of());
        EndpointKeyBlocks.Changes after = blocks.changes();
        assertThat(after.base("service-api", 2)).as("free once the full sync replaced everything")
                .isEqualTo(web);
    }

    /** One plan: chains with their endpoint counts (0: the chain is gone), committed full, partial or refused. */
    record Step(Map<String, Integer> chains, int outcome) {
    }

    @Provide
    Arbitrary<List<Step>> steps() {
        Arbitrary<Map<String, Integer>> chains = Arbitraries.maps(
                Arbitraries.of("a", "b", "c", "d", "e", "f"),
                Arbitraries.frequencyOf(Tuple.of(9, Arbitraries.integers().between(0, 40)),
                        Tuple.of(1, Arbitraries.integers().between(400, 1300)))).ofMaxSize(6);
        return Combinators.combine(chains, Arbitraries.integers().between(0, 2)).as(Step::new).list()
                .ofMaxSize(25);
    }

    @Property(tries = 300)
    void ownedBlocksHoldTheirEndpointsAndNeverOverlapEachOtherOrReservedKeys(
            @ForAll("steps") List<Step> steps, @ForAll("kernelKeys") List<Long> kernelKeys) {
        EndpointKeyBlocks blocks = new EndpointKeyBlocks();
        blocks.reserve(kernelKeys);
        Map<String, Integer> committed = new HashMap<>();
        boolean reservedUntilFull = !kernelKeys.isEmpty();
        for (Step step : steps) {
            EndpointKeyBlocks.Changes changes = blocks.changes();
            Map<String, Long> bases = new HashMap<>();
            List<String> gone = new ArrayList<>();
            step.chains().forEach((chain, count) -> {
                if (count == 0) {
                    gone.add(chain);
                } else {
                    bases.put(chain, changes.base(chain, count));
                }
            });
            if (step.outcome() == 2) {
                changes.abandon();
                continue;
            }
            boolean full = step.outcome() == 0;
            changes.commit(full, gone);
            if (full) {
                committed.clear();
                reservedUntilFull = false;
            }
            gone.forEach(committed::remove);
            step.chains().forEach((chain, count) -> {
                if (count > 0) {
                    committed.put(chain, count);
                }
            });
            Map<String, EndpointKeyBlocks.Block> owned = blocks.ownedBlocks();
            assertThat(owned.keySet()).isEqualTo(committed.keySet());
            List<EndpointKeyBlocks.Block> all = new ArrayList<>(owned.values());
            for (Map.Entry<String, EndpointKeyBlocks.Block> entry : owned.entrySet()) {
                EndpointKeyBlocks.Block block = entry.getValue();
                assertThat(block.size()).isGreaterThanOrEqualTo(committed.get(entry.getKey()));
                assertThat(block.base()).isGreaterThanOrEqualTo(EndpointKeyBlocks.FIRST_KEY);
                long shard = EndpointKeyBlocks.SHARD_KEYS;
                if (block.size() <= shard) {
                    assertThat((block.end() - 1) / shard).as("%s lies in one endpoint map", block)
                            .isEqualTo(block.base() / shard);
                } else {
                    assertThat(block.base() % shard).as("%s starts a run of shards", block).isZero();
                }
                if (reservedUntilFull) {
                    assertThat(kernelKeys).noneMatch(key -> key >= block.base() && key < block.end());
                }
                for (String chain : step.chains().keySet()) {
                    if (chain.equals(entry.getKey()) && bases.containsKey(chain)) {
                        assertThat(block.base()).isEqualTo(bases.get(chain));
                    }
                }
            }
            for (int i = 0; i < all.size(); i++) {
                for (int j = i + 1; j < all.size(); j++) {
                    EndpointKeyBlocks.Block x = all.get(i);
                    EndpointKeyBlocks.Block y = all.get(j);
                    assertThat(x.end() <= y.base() || y.end() <= x.base()).as("%s and %s", x, y).isTrue();
                }
            }
        }
    }

    @Provide
    Arbitrary<List<Long>> kernelKeys() {
        return Arbitraries.longs().between(0, 300).list().ofMaxSize(30);
    }
}
