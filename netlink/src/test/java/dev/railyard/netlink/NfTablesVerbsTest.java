package dev.railyard.netlink;

import static dev.railyard.netlink.Family.IP;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.railyard.testkit.RequiresPrivileges;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * nft's {@code create} (exclusive), {@code insert rule}, {@code flush table}, a dry run ({@code nft -c}) and reading
 * set types back, each against nft doing the same.
 */
@RequiresPrivileges(commands = {"nft", "ip"})
class NfTablesVerbsTest {

    private static NftOracle oracle;

    private static final String START = """
            add table ip t
            add chain ip t a
            add chain ip t b
            add set ip t s { type ipv4_addr ; }
            add map ip t m { type ipv4_addr . inet_proto . inet_service : verdict ; }
            add element ip t s { 10.0.0.1 }
            add element ip t m { 10.0.0.1 . tcp . 80 : goto b }
            add rule ip t a ip daddr @s drop
            add rule ip t a jump b
            """;

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
        NftOracle.nftApply(oracle.ours, START);
        oracle.nftApply(START);
    }

    private static SetSpec serviceMap(String name) {
        return SetSpec.map(name).key(DataType.IPV4_ADDR, DataType.INET_PROTO, DataType.INET_SERVICE)
                .data(DataType.VERDICT).build();
    }

    @Test
    void createsWhatDoesNotExistYet() {
        oracle.assertSame(new NfTablesBatch()
                        .createTable(IP, "u", "new")
                        .createChain(IP, "t", "c", "made")
                        .createBaseChain(IP, "t", "pre", ChainType.NAT, Hook.PREROUTING, -100, null)
                        .createSet(IP, "t", serviceMap("m2"))
                        .createElements(IP, "t", "s", List.of(SetElement.of(Values.ipv4("10.0.0.2")))),
                """
                create table ip u { comment "new" ; }
                create chain ip t c { comment "made" ; }
                create chain ip t pre { type nat hook prerouting priority -100 ; }
                create map ip t m2 { type ipv4_addr . inet_proto . inet_service : verdict ; }
                create element ip t s { 10.0.0.2 }
                """);
    }

    @Test
    void createRefusesWhatExistsWhereAddDoesNot() {
        assertThat(oracle.commit(new NfTablesBatch().addTable(IP, "t", null).addChain(IP, "t", "a", null)
                .addSet(IP, "t", serviceMap("m"))
                .addElements(IP, "t", "s", List.of(SetElement.of(Values.ipv4("10.0.0.1"))))).committed()).isTrue();
        String before = oracle.oursListed();
        CommitResult result = oracle.commit(new NfTablesBatch()
                .createTable(IP, "t", null)
                .createChain(IP, "t", "a", null)
                .createSet(IP, "t", serviceMap("m"))
                .createElements(IP, "t", "s", List.of(SetElement.of(Values.ipv4("10.0.0.1")))));
        assertThat(result.committed()).isFalse();
        assertThat(result.errors()).extracting(OperationError::index).containsExactly(0, 1, 2, 3);
        assertThat(result.errors()).extracting(OperationError::errnoName).containsOnly("EEXIST");
        assertThat(oracle.oursListed()).isEqualTo(before);
    }

    @Test
    void insertPutsTheRuleFirst() {
        oracle.assertSame(new NfTablesBatch()
                        .insertRule(IP, "t", "a", Rule.builder().match(Field.IP_SADDR, Values.ipv4("10.1.1.1")).accept().build())
                        .addRule(IP, "t", "a", Rule.builder().returnFromChain().build()),
                """
                insert rule ip t a ip saddr 10.1.1.1 accept
                add rule ip t a return
                """);
    }

    @Test
    void flushTableRemovesTheRulesOfEveryChain() {
        oracle.assertSame(new NfTablesBatch().flushTable(IP, "t"), "flush table ip t\n");
    }

    @Test
    void aDryRunReportsRefusalsAndAppliesNothingEvenWhenAccepted() {
        String before = oracle.oursListed();
        NfTablesBatch accepted = new NfTablesBatch().addChain(IP, "t", "c", null)
                .addRule(IP, "t", "c", Rule.builder().goTo("b").build())
                .deleteElements(IP, "t", "s", List.of(SetElement.of(Values.ipv4("10.0.0.1"))));
        assertThat(oracle.nft.check(accepted).committed()).isTrue();
        assertThat(oracle.oursListed()).isEqualTo(before);

        CommitResult refused = oracle.nft.check(new NfTablesBatch().addChain(IP, "t", "c", null)
                .addRule(IP, "t", "c", Rule.builder().goTo("missing").build())
                .deleteChain(IP, "t", "b"));
        assertThat(refused.committed()).isFalse();
        assertThat(refused.errors()).extracting(OperationError::index).containsExactly(1, 2);
        assertThat(refused.errors()).extracting(OperationError::errnoName).containsExactly("ENOENT", "EBUSY");
        assertThat(oracle.oursListed()).isEqualTo(before);

        oracle.nft.ackEveryMessage(false);
        try {
            // Loops count only when a base chain reaches them.
            CommitResult quiet = oracle.nft.check(new NfTablesBatch()
                    .addBaseChain(IP, "t", "pre", ChainType.FILTER, Hook.PREROUTING, 0, null)
                    .addRule(IP, "t", "pre", Rule.builder().jump("a").build())
                    .addRule(IP, "t", "b", Rule.builder().jump("a").build()));
            assertThat(quiet.committed()).as("a jump loop is found by the dry run").isFalse();
            assertThat(quiet.errors()).extracting(OperationError::index).containsExactly(2);
            assertThat(quiet.errors()).extracting(OperationError::errnoName).containsExactly("EMLINK");
        } finally {
            oracle.nft.ackEveryMessage(true);
        }
        assertThat(oracle.oursListed()).isEqualTo(before);
    }

    @Test
    void describesSetsWithTheirTypesAsTheKernelHoldsThem() {
        oracle.commitOk(new NfTablesBatch()
                .addSet(IP, "t", SetSpec.set("affinity").key(DataType.IPV4_ADDR).flags(SetSpec.Flag.DYNAMIC)
                        .timeout(Duration.ofSeconds(600)).build())
                .addSet(IP, "t", SetSpec.set("pairs").key(DataType.IPV4_ADDR, DataType.IPV4_ADDR).comment("hairpin").build())
                .addSet(IP, "t", SetSpec.map("backends").keyTypeof(TypeOf.numgenRandom(1))
                        .dataTypeof(TypeOf.concat(TypeOf.field(Field.IP_DADDR), TypeOf.field(Field.TH_DPORT))).build())
                .addSet(IP, "t", SetSpec.map("ports").key(DataType.INET_PROTO, DataType.INET_SERVICE)
                        .data(DataType.VERDICT).build())
                .addRule(IP, "t", "a", Rule.builder().inPrefixes(Field.IP_SADDR, false,
                        List.of(Prefix.parse("10.0.0.0/8"), Prefix.parse("192.168.0.0/16"))).drop().build()));

        List<SetSpec> sets = oracle.nft.describeSets(IP, "t");

        assertThat(sets).extracting(SetSpec::name)
                .containsExactlyInAnyOrder("s", "m", "affinity", "pairs", "backends", "ports");
        SetSpec affinity = find(sets, "affinity");
        assertThat(affinity.keyType()).isEqualTo(DataType.IPV4_ADDR);
        assertThat(affinity.dataType()).isNull();
        assertThat(affinity.flags()).contains(SetSpec.Flag.DYNAMIC, SetSpec.Flag.TIMEOUT);
        assertThat(affinity.timeout()).isEqualTo(Duration.ofSeconds(600));
        SetSpec pairs = find(sets, "pairs");
        assertThat(pairs.keyType()).isEqualTo(DataType.concat(DataType.IPV4_ADDR, DataType.IPV4_ADDR));
        assertThat(pairs.comment()).isEqualTo("hairpin");
        SetSpec m = find(sets, "m");
        assertThat(m.keyType()).isEqualTo(DataType.concat(DataType.IPV4_ADDR, DataType.INET_PROTO, DataType.INET_SERVICE));
        assertThat(m.dataType()).isEqualTo(DataType.VERDICT);
        SetSpec backends = find(sets, "backends");
        assertThat(backends.keyType()).isEqualTo(DataType.INTEGER);
        assertThat(backends.dataType()).isEqualTo(DataType.concat(DataType.IPV4_ADDR, DataType.INET_SERVICE));
        assertThat(find(sets, "ports").keyType()).isEqualTo(DataType.concat(DataType.INET_PROTO, DataType.INET_SERVICE));
        assertThatThrownBy(() -> oracle.nft.describeSets(Family.IP6, "t")).isInstanceOfSatisfying(
                NetlinkException.class, e -> assertThat(Errno.name(e.errno())).isEqualTo("ENOENT"));
    }

    private static SetSpec find(List<SetSpec> sets, String name) {
        return sets.stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
    }
}
