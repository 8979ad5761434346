package dev.railyard.nftables.netlink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.railyard.nftables.BaseChain;
import dev.railyard.nftables.Chain;
import dev.railyard.nftables.Element;
import dev.railyard.nftables.Family;
import dev.railyard.nftables.NftApplier.TableObjects;
import dev.railyard.nftables.NftException;
import dev.railyard.nftables.NftException.Reason;
import dev.railyard.nftables.NftMap;
import dev.railyard.nftables.NftSet;
import dev.railyard.nftables.Rule;
import dev.railyard.nftables.Table;
import dev.railyard.nftables.Transaction;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.RequiresPrivileges;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Refusals, listing, deletion, dry runs and sharing of {@link NetlinkApplier}, against the kernel. */
@RequiresPrivileges(commands = {"nft", "ip"})
class NetlinkApplierKernelTest {
    private static final String VMAP = "ipv4_addr . inet_proto . inet_service : verdict";

    private NetworkNamespace namespace;
    private NetlinkApplier applier;

    @BeforeEach
    void setUp() throws Exception {
        namespace = NetworkNamespace.create();
        applier = NetlinkApplier.open(namespace.name());
        applier.apply(tx().add(new Table("test"))
                .add(new Chain("nat-prerouting", new BaseChain("nat", "prerouting", BaseChain.DSTNAT), null))
                .add(Chain.named("services"))
                .add(Chain.named("svc-a"))
                .add(NftMap.of("service-ips", VMAP, null))
                .add(NftSet.of("cluster-ips", "ipv4_addr", null))
                .add(Rule.of("nat-prerouting", "jump services"))
                .add(Rule.of("services", "ip daddr . meta l4proto . th dport vmap @service-ips"))
                .add(Element.ofMap("service-ips", List.of("10.96.0.1", "tcp", "80"), "goto svc-a", null)));
    }

    @AfterEach
    void tearDown() {
        try {
            applier.close();
        } finally {
            namespace.close();
        }
    }

    private static Transaction tx() {
        return new Transaction(Family.IP, "t");
    }

    private String ruleset() {
        return namespace.execChecked("nft", "list", "ruleset").stdout();
    }

    private NftException refusal(Transaction tx) {
        String before = ruleset();
        NftException e = org.junit.jupiter.api.Assertions.assertThrows(NftException.class, () -> applier.apply(tx));
        assertThat(ruleset()).as("a refused transaction changes nothing").isEqualTo(before);
        return e;
    }

    @Test
    void aRuleJumpingToAMissingChainIsNamedByIndexAndLine() {
        NftException e = refusal(tx().add(Chain.named("svc-b"))
                .add(Rule.of("svc-b", "meta l4proto tcp dnat to 10.0.0.2:80"))
                .add(Rule.of("svc-b", "goto nonexistent"))
                .add(Element.ofSet("cluster-ips", List.of("10.96.0.2"))));
        assertThat(e.reason()).isEqualTo(Reason.NOT_FOUND);
        assertThat(e.operationIndex()).isEqualTo(2);
        assertThat(e.operationLine()).isEqualTo("add rule ip t svc-b goto nonexistent");
        assertThat(e.getMessage()).contains("ENOENT").contains("expression #0 (immediate)")
                .contains("operation 3: add rule ip t svc-b goto nonexistent");
    }

    @Test
    void anElementForAMissingMapIsNamedAndNothingIsSent() {
        NftException e = refusal(tx().add(Chain.named("svc-b"))
                .add(Element.ofMap("no-such-map", List.of("10.96.0.2", "tcp", "80"), "goto svc-b", null)));
        assertThat(e.reason()).isEqualTo(Reason.NOT_FOUND);
        assertThat(e.operationIndex()).isEqualTo(1);
        assertThat(e.operationLine()).startsWith("add element ip t no-such-map");
        assertThat(e.getMessage()).contains("no-such-map");
    }

    @Test
    void anEarlierRefusalIsReportedBeforeAnElementForAMissingMap() {
        NftException e = refusal(tx().add(Rule.of("services", "jump nowhere"))
                .add(Element.ofMap("no-such-map", List.of("10.96.0.2", "tcp", "80"), "goto svc-a", null)));
        assertThat(e.operationIndex()).isEqualTo(0);
        assertThat(e.reason()).isEqualTo(Reason.NOT_FOUND);
    }

    @Test
    void aRefusedElementAmongOthersOfTheSameMapIsNamedExactly() {
        // Consecutive elements of one map go to the kernel as one message; the refusal still names the operation.
        NftException e = refusal(tx()
                .add(Element.ofMap("service-ips", List.of("10.96.0.2", "tcp", "80"), "goto svc-a", null))
                .add(Element.ofMap("service-ips", List.of("10.96.0.3", "tcp", "80"), "goto no-such-chain", null))
                .add(Element.ofMap("service-ips", List.of("10.96.0.4", "tcp", "80"), "goto svc-a", null)));
        assertThat(e.reason()).isEqualTo(Reason.NOT_FOUND);
        assertThat(e.operationIndex()).isEqualTo(1);
        assertThat(e.operationLine()).contains("10.96.0.3").contains("no-such-chain");
        NftException missing = refusal(tx()
                .delete(Element.keyOf("service-ips", List.of("10.96.0.1", "tcp", "80")))
                .delete(Element.keyOf("service-ips", List.of("10.96.0.9", "tcp", "80"))));
        assertThat(missing.reason()).isEqualTo(Reason.NOT_FOUND);
        assertThat(missing.operationIndex()).isEqualTo(1);
    }

    @Test
    void deletingAChainStillReferencedIsBusy() {
        NftException e = refusal(tx().add(Chain.named("svc-b")).delete(Chain.named("svc-a")));
        assertThat(e.reason()).isEqualTo(Reason.BUSY);
        assertThat(e.operationIndex()).isEqualTo(1);
        assertThat(e.operationLine()).isEqualTo("delete chain ip t svc-a");
        assertThat(e.getMessage()).contains("EBUSY");
    }

    @Test
    void aLoopIsInvalid() {
        NftException e = refusal(tx().add(Rule.of("svc-a", "jump services")));
        assertThat(e.reason()).isEqualTo(Reason.INVALID);
        assertThat(e.operationIndex()).isEqualTo(0);
        assertThat(e.getMessage()).contains("EMLINK");
    }

    @Test
    void creatingWhatExistsIsExists() {
        NftException e = refusal(tx().create(Chain.named("svc-a")));
        assertThat(e.reason()).isEqualTo(Reason.EXISTS);
        assertThat(e.getMessage()).contains("EEXIST");
    }

    @Test
    void anUnknownConstructIsRefusedBeforeAnythingIsSent() {
        String before = ruleset();
        assertThatThrownBy(() -> applier.apply(tx().add(Chain.named("svc-b"))
                .add(Rule.of("svc-b", "ip daddr 10.0.0.1 counter drop"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("operation 2 (add rule ip t svc-b ip daddr 10.0.0.1 counter drop)")
                .hasMessageContaining("\"counter\"");
        assertThatThrownBy(() -> applier.apply(tx().add(NftSet.of("marks", "mark", null))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"mark\"");
        assertThatThrownBy(() -> applier.apply(tx().add(Element.ofSet("cluster-ips", List.of("10.0.0.300")))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"10.0.0.300\"");
        assertThat(ruleset()).isEqualTo(before);
    }

    @Test
    void transactionsInOrderSeeWhatTheOnesBeforeDeclaredAndLeaveWhatOneByOneWould() throws Exception {
        // The second names a set the first declares, the third a map only the kernel knew (made in setUp), the
        // fourth a set the third made differently typed; each is compiled while the one before is committed.
        List<Transaction> transactions = List.of(
                tx().add(NftSet.of("pairs", "ipv4_addr . inet_service", null)),
                tx().add(Element.ofSet("pairs", List.of("10.0.0.1", "80"))),
                tx().add(Element.ofMap("service-ips", List.of("10.96.0.7", "tcp", "443"), "goto svc-a", null))
                        .delete(NftSet.named("pairs")).add(NftSet.of("pairs", "inet_service", null)),
                tx(),
                tx().add(Element.ofSet("pairs", List.of("8080"))));
        List<Integer> committed = new ArrayList<>();
        applier.applyInOrder(transactions, bytes -> committed.add(committed.size()));
        assertThat(committed).hasSize(transactions.size());

        try (NetworkNamespace other = NetworkNamespace.create();
             NetlinkApplier oneByOne = NetlinkApplier.open(other.name())) {
            oneByOne.apply(tx().add(new Table("test"))
                    .add(new Chain("nat-prerouting", new BaseChain("nat", "prerouting", BaseChain.DSTNAT), null))
                    .add(Chain.named("services")).add(Chain.named("svc-a"))
                    .add(NftMap.of("service-ips", VMAP, null)).add(NftSet.of("cluster-ips", "ipv4_addr", null))
                    .add(Rule.of("nat-prerouting", "jump services"))
                    .add(Rule.of("services", "ip daddr . meta l4proto . th dport vmap @service-ips"))
                    .add(Element.ofMap("service-ips", List.of("10.96.0.1", "tcp", "80"), "goto svc-a", null)));
            for (Transaction tx : transactions) {
                oneByOne.apply(tx);
            }
            assertThat(ruleset()).isEqualTo(other.execChecked("nft", "list", "ruleset").stdout())
                    .contains("elements = { 8080 }").contains("10.96.0.7 . tcp . 443 : goto svc-a");
        }
    }

    @Test
    void transactionsInOrderStopAtTheFirstRefusedOneWithWhatCameBeforeCommitted() throws Exception {
        List<Transaction> transactions = List.of(
                tx().add(Element.ofSet("cluster-ips", List.of("10.96.0.2"))),
                tx().add(Element.ofSet("cluster-ips", List.of("10.96.0.3"))).add(Rule.of("services", "jump nowhere")),
                tx().add(Element.ofSet("cluster-ips", List.of("10.96.0.4"))));
        List<Integer> committed = new ArrayList<>();
        NftException e = org.junit.jupiter.api.Assertions.assertThrows(NftException.class,
                () -> applier.applyInOrder(transactions, bytes -> committed.add(committed.size())));
        assertThat(committed).as("transactions committed").hasSize(1);
        assertThat(e.operationLine()).isEqualTo("add rule ip t services jump nowhere");
        assertThat(ruleset()).contains("10.96.0.2").doesNotContain("10.96.0.3").doesNotContain("10.96.0.4");
        // And the applier goes on as before.
        applier.applyInOrder(List.of(transactions.get(2)), bytes -> { });
        assertThat(ruleset()).contains("10.96.0.4");
    }

    @Test
    void aTransactionOutsideTheGrammarStopsTheOrderBeforeItIsSent() throws Exception {
        List<Transaction> transactions = List.of(
                tx().add(Element.ofSet("cluster-ips", List.of("10.96.0.2"))),
                tx().add(Rule.of("services", "ip daddr 10.0.0.300 drop")));
        List<Integer> committed = new ArrayList<>();
        assertThatThrownBy(() -> applier.applyInOrder(transactions, bytes -> committed.add(committed.size())))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"10.0.0.300\"");
        assertThat(committed).hasSize(1);
        assertThat(ruleset()).contains("10.96.0.2");
    }

    @Test
    void aRefusalLeavesTheApplierUsable() throws Exception {
        refusal(tx().add(Rule.of("services", "jump nowhere")));
        applier.apply(tx().add(Element.ofMap("service-ips", List.of("10.96.0.9", "udp", "53"), "goto svc-a", null)));
        assertThat(ruleset()).contains("10.96.0.9 . udp . 53 : goto svc-a");
    }

    @Test
    void aDryRunChecksAndAppliesNothing() throws Exception {
        String before = ruleset();
        applier.check(tx().add(Chain.named("svc-b")).add(Rule.of("svc-b", "goto svc-a")));
        assertThat(ruleset()).isEqualTo(before);
        assertThatThrownBy(() -> applier.check(tx().delete(Chain.named("svc-a"))))
                .isInstanceOfSatisfying(NftException.class, e -> assertThat(e.reason()).isEqualTo(Reason.BUSY));
        assertThat(ruleset()).isEqualTo(before);
    }

    @Test
    void listsObjectsAsNftDoes() throws Exception {
        TableObjects objects = applier.listObjects(Family.IP, "t");
        TableObjects byNft = dev.railyard.nftables.NftCommand.create().withCommandPrefix(namespace.commandPrefix())
                .listObjects(Family.IP, "t");
        assertThat(objects.exists()).isTrue();
        assertThat(objects.chains()).containsExactlyInAnyOrderElementsOf(byNft.chains());
        assertThat(objects.sets()).containsExactlyInAnyOrderElementsOf(byNft.sets()).containsExactly("cluster-ips");
        assertThat(objects.maps()).containsExactlyInAnyOrderElementsOf(byNft.maps()).containsExactly("service-ips");
        assertThat(applier.listObjects(Family.IP6, "t").exists()).isFalse();
        assertThat(applier.listObjects(Family.IP, "other").exists()).isFalse();
    }

    @Test
    void deletesATableIfItExists() throws Exception {
        assertThat(applier.deleteTableIfExists(Family.IP, "t")).isTrue();
        assertThat(applier.deleteTableIfExists(Family.IP, "t")).isFalse();
        assertThat(ruleset()).doesNotContain("table ip t");
        // What the applier knew of the table went with it: the same names come back with other types.
        applier.apply(tx().add(new Table(null)).add(NftSet.of("service-ips", "inet_proto . inet_service", null))
                .add(Element.ofSet("service-ips", List.of("tcp", "80"))));
        assertThat(ruleset()).contains("tcp . 80");
    }

    @Test
    void twoFamiliesMayShareOneApplier() throws Exception {
        applier.apply(new Transaction(Family.IP6, "t").add(new Table(null)).add(Chain.named("c"))
                .add(NftSet.of("s", "ipv6_addr", null)));
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (Family family : List.of(Family.IP, Family.IP6)) {
                done.add(threads.submit(() -> {
                    for (int i = 0; i < 200; i++) {
                        String address = family == Family.IP ? "10.1." + (i / 250) + "." + (i % 250)
                                : "fd00::" + Integer.toHexString(i + 1);
                        String set = family == Family.IP ? "cluster-ips" : "s";
                        applier.apply(new Transaction(family, "t").add(Element.ofSet(set, List.of(address))));
                    }
                    return null;
                }));
            }
            for (Future<?> future : done) {
                future.get(60, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
        }
        String ip = namespace.execChecked("nft", "list", "set", "ip", "t", "cluster-ips").stdout();
        String ip6 = namespace.execChecked("nft", "list", "set", "ip6", "t", "s").stdout();
        assertThat(ip.split("10\\.1\\.").length - 1).isEqualTo(200);
        assertThat(ip6.split("fd00::").length - 1).isEqualTo(200);
    }

    @Test
    void reportsTheTimesOfTheLastApply() throws Exception {
        applier.apply(tx().add(Element.ofSet("cluster-ips", List.of("10.96.0.3"))));
        NetlinkApplier.ApplyTimings timings = applier.lastTimings();
        assertThat(timings.operations()).isEqualTo(1);
        assertThat(timings.messages()).isEqualTo(1);
        assertThat(timings.bytes()).isGreaterThan(0);
        assertThat(timings.sendNanos()).isGreaterThan(0);
        assertThat(timings.totalNanos()).isGreaterThanOrEqualTo(timings.sendNanos());
    }
}
