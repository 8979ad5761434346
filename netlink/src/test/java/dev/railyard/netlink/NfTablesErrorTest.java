package dev.railyard.netlink;

import static dev.railyard.netlink.Family.IP;
import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.testkit.RequiresPrivileges;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A refused batch names the operation that failed, and leaves the kernel's ruleset exactly as it was. */
@RequiresPrivileges(commands = {"nft", "ip"})
class NfTablesErrorTest {

    private static NftOracle oracle;

    @BeforeAll
    static void namespaces() {
        oracle = new NftOracle();
    }

    @AfterAll
    static void cleanup() {
        if (oracle != null) {
            oracle.close();
        }
    }

    @BeforeEach
    void startingState() {
        oracle.reset();
        oracle.commitOk(new NfTablesBatch().addTable(IP, "t", "before")
                .addChain(IP, "t", "a", null)
                .addSet(IP, "t", SetSpec.map("m").key(DataType.IPV4_ADDR).data(DataType.VERDICT).build())
                .addElements(IP, "t", "m", List.of(SetElement.of(Values.ipv4("10.0.0.1")).mapsTo(Verdict.goTo("a")))));
    }

    @Test
    void ruleJumpingToMissingChainIsReportedWithItsIndexAndNothingIsApplied() {
        String before = oracle.oursListed();
        NfTablesBatch batch = new NfTablesBatch()
                .addChain(IP, "t", "b", null)
                .addRule(IP, "t", "a", Rule.builder().accept().build())
                .addRule(IP, "t", "a", Rule.builder().jump("missing-chain").build())
                .addElements(IP, "t", "m", List.of(SetElement.of(Values.ipv4("10.0.0.2")).mapsTo(Verdict.goTo("b"))));

        CommitResult result = oracle.commit(batch);

        assertThat(result.committed()).isFalse();
        assertThat(result.errors()).hasSize(1);
        OperationError error = result.errors().get(0);
        assertThat(error.index()).isEqualTo(2);
        assertThat(error.operation()).contains("add rule ip t a").contains("jump missing-chain");
        assertThat(error.errnoName()).isEqualTo("ENOENT");
        assertThat(error.location()).isEqualTo("expression #0 (immediate)");
        assertThat(oracle.oursListed()).isEqualTo(before);
    }

    @Test
    void elementForMissingMapIsReported() {
        String before = oracle.oursListed();
        CommitResult result = oracle.commit(new NfTablesBatch()
                .addChain(IP, "t", "b", null)
                .addElements(IP, "t", "no-such-map", List.of(SetElement.of(Values.ipv4("10.0.0.3")).mapsTo(Verdict.DROP))));

        assertThat(result.committed()).isFalse();
        assertThat(result.errors()).singleElement().satisfies(error -> {
            assertThat(error.index()).isEqualTo(1);
            assertThat(error.operation()).startsWith("add element ip t no-such-map");
            assertThat(error.errnoName()).isEqualTo("ENOENT");
        });
        assertThat(oracle.oursListed()).isEqualTo(before);
    }

    @Test
    void everyRefusedOperationOfABatchIsReported() {
        String before = oracle.oursListed();
        CommitResult result = oracle.commit(new NfTablesBatch()
                .deleteChain(IP, "t", "never-existed")
                .addChain(IP, "t", "fine", null)
                .addElements(IP, "t", "m", List.of(SetElement.of(Values.ipv4("10.0.0.9")).mapsTo(Verdict.jump("nowhere"))))
                .deleteElements(IP, "t", "m", List.of(SetElement.of(Values.ipv4("10.9.9.9"))))
                .flushSet(IP, "t", "m"));

        assertThat(result.committed()).isFalse();
        assertThat(result.errors()).extracting(OperationError::index).containsExactly(0, 2, 3);
        assertThat(result.errors()).extracting(OperationError::errnoName).containsOnly("ENOENT");
        assertThat(result.describe()).contains("operation #0 (delete chain ip t never-existed)");
        assertThat(oracle.oursListed()).isEqualTo(before);
    }

    @Test
    void chainStillReferencedCannotBeDeleted() {
        String before = oracle.oursListed();
        CommitResult result = oracle.commit(new NfTablesBatch().deleteChain(IP, "t", "a"));

        assertThat(result.committed()).isFalse();
        assertThat(result.errors()).singleElement().satisfies(error -> {
            assertThat(error.index()).isEqualTo(0);
            assertThat(error.errnoName()).isEqualTo("EBUSY");
        });
        assertThat(oracle.oursListed()).isEqualTo(before);
    }

    @Test
    void loopThroughAVerdictMapIsRefused() {
        String before = oracle.oursListed();
        // Loops are only checked for chains reachable from a base chain, so hook chain a in first.
        CommitResult result = oracle.commit(new NfTablesBatch()
                .addBaseChain(IP, "t", "input", ChainType.FILTER, Hook.INPUT, 0, null)
                .addRule(IP, "t", "input", Rule.builder().jump("a").build())
                .addRule(IP, "t", "a", Rule.builder().verdictMap("m", Field.IP_DADDR).build()));

        assertThat(result.committed()).isFalse();
        assertThat(result.errors()).singleElement().satisfies(error -> {
            assertThat(error.index()).isEqualTo(2);
            assertThat(error.errnoName()).isIn("EMLINK", "ELOOP"); // 6.x kernels answer EMLINK, older ELOOP
        });
        assertThat(oracle.oursListed()).isEqualTo(before);
    }

    @Test
    void withoutPerMessageAcksRefusalsAreStillMappedAndSuccessIsStillKnown() {
        String before = oracle.oursListed();
        oracle.nft.ackEveryMessage(false);
        try {
            CommitResult refused = oracle.commit(new NfTablesBatch()
                    .addChain(IP, "t", "b", null)
                    .addRule(IP, "t", "a", Rule.builder().accept().build())
                    .addRule(IP, "t", "a", Rule.builder().jump("missing-chain").build()));
            assertThat(refused.committed()).isFalse();
            assertThat(refused.errors()).extracting(OperationError::index).containsExactly(2);
            assertThat(oracle.oursListed()).isEqualTo(before);

            CommitResult applied = oracle.commit(new NfTablesBatch().addChain(IP, "t", "b", null)
                    .addRule(IP, "t", "a", Rule.builder().jump("b").build()));
            assertThat(applied.committed()).as(applied.describe()).isTrue();
            assertThat(oracle.oursListed()).contains("jump b");
        } finally {
            oracle.nft.ackEveryMessage(true);
        }
    }

    @Test
    void aSuccessfulBatchAfterARefusedOneApplies() {
        assertThat(oracle.commit(new NfTablesBatch().addRule(IP, "t", "a", Rule.builder().jump("missing").build()))
                .committed()).isFalse();
        oracle.commitOk(new NfTablesBatch().addRule(IP, "t", "a", Rule.builder().counter().build()));
        assertThat(oracle.oursListed()).contains("counter packets 0 bytes 0");
    }
}
