package dev.railyard.nftables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.railyard.nftables.NftException.Reason;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RulesetTest {
    private static final String VMAP = "ipv4_addr . inet_proto . inet_service : verdict";
    private final Ruleset ruleset = new Ruleset();

    private Transaction tx() {
        return new Transaction(Family.IP, "t");
    }

    @BeforeEach
    void base() throws NftException {
        ruleset.apply(tx().add(new Table(null))
                .add(new Chain("nat-prerouting", new BaseChain("nat", "prerouting", BaseChain.DSTNAT), null))
                .add(Chain.named("services"))
                .add(Chain.named("svc-a"))
                .add(NftMap.of("service-ips", VMAP, null))
                .add(Rule.of("nat-prerouting", "jump services"))
                .add(Rule.of("services", "ip daddr . meta l4proto . th dport vmap @service-ips")));
    }

    @Test
    void addLeavesWhatExistsAndCreateRefusesIt() throws NftException {
        ruleset.apply(tx().add(Chain.named("svc-a")).add(new Table("ignored")));
        assertThat(ruleset.chainNames(Family.IP, "t")).containsExactly("nat-prerouting", "services", "svc-a");
        assertThat(ruleset.table(Family.IP, "t").comment()).isNull();
        assertThatThrownBy(() -> ruleset.apply(tx().create(Chain.named("svc-a"))))
                .isInstanceOfSatisfying(NftException.class, e -> {
                    assertThat(e.reason()).isEqualTo(Reason.EXISTS);
                    assertThat(e.operationIndex()).isZero();
                });
    }

    @Test
    void aRefusedTransactionChangesNothing() throws NftException {
        String before = ruleset.dump();
        Transaction tx = tx()
                .add(Chain.named("svc-b"))
                .add(Rule.of("svc-b", "meta l4proto tcp dnat to 10.0.0.2:80"))
                .add(Element.ofMap("service-ips", List.of("10.96.0.2", "tcp", "80"), "goto svc-b", null))
                .flush(Chain.named("services"))
                .add(Rule.of("svc-a", "goto missing"));
        assertThatThrownBy(() -> ruleset.apply(tx)).isInstanceOfSatisfying(NftException.class, e -> {
            assertThat(e.reason()).isEqualTo(Reason.NOT_FOUND);
            assertThat(e.operationIndex()).isEqualTo(4);
            assertThat(e.operationLine()).isEqualTo("add rule ip t svc-a goto missing");
            assertThat(e.getMessage()).contains("no such chain missing");
        });
        assertThat(ruleset.dump()).isEqualTo(before);
    }

    @Test
    void aChainStillJumpedToCannotBeDeletedButItsOwnRulesGoWithIt() throws NftException {
        ruleset.apply(tx().add(Element.ofMap("service-ips", List.of("10.96.0.1", "tcp", "80"), "goto svc-a", null))
                .add(Rule.of("svc-a", "jump services")));
        assertThatThrownBy(() -> ruleset.apply(tx().delete(Chain.named("svc-a"))))
                .isInstanceOfSatisfying(NftException.class, e -> assertThat(e.reason()).isEqualTo(Reason.BUSY));
        ruleset.apply(tx().delete(Element.ofMap("service-ips", List.of("10.96.0.1", "tcp", "80"), "goto svc-a",
                null)).delete(Chain.named("svc-a")));
        assertThat(ruleset.chainNames(Family.IP, "t")).containsExactly("nat-prerouting", "services");
        // svc-a's own jump to services went with it: services is no longer referenced by svc-a.
        ruleset.apply(tx().flush(Chain.named("nat-prerouting")).delete(Chain.named("services")));
        assertThat(ruleset.chainNames(Family.IP, "t")).containsExactly("nat-prerouting");
    }

    @Test
    void aMapInUseCannotBeDeletedAndBaseChainsCannotBeJumpedTo() {
        assertThatThrownBy(() -> ruleset.apply(tx().delete(NftMap.of("service-ips", VMAP, null))))
                .isInstanceOfSatisfying(NftException.class, e -> assertThat(e.reason()).isEqualTo(Reason.BUSY));
        assertThatThrownBy(() -> ruleset.apply(tx().add(Rule.of("services", "jump nat-prerouting"))))
                .isInstanceOfSatisfying(NftException.class, e -> assertThat(e.reason()).isEqualTo(Reason.INVALID));
        assertThatThrownBy(() -> ruleset.apply(tx().add(
                new Chain("nat-prerouting", new BaseChain("nat", "prerouting", -110), null))))
                .isInstanceOfSatisfying(NftException.class, e -> assertThat(e.reason()).isEqualTo(Reason.INVALID));
    }

    @Test
    void anElementCannotChangeItsValueByBeingAddedAgain() throws NftException {
        Element toA = Element.ofMap("service-ips", List.of("10.96.0.1", "tcp", "80"), "goto svc-a", null);
        ruleset.apply(tx().add(Chain.named("svc-b")).add(toA).add(toA));
        Element toB = Element.ofMap("service-ips", List.of("10.96.0.1", "tcp", "80"), "goto svc-b", null);
        assertThatThrownBy(() -> ruleset.apply(tx().add(toB)))
                .isInstanceOfSatisfying(NftException.class, e -> assertThat(e.reason()).isEqualTo(Reason.EXISTS));
        ruleset.apply(tx().delete(toA).add(toB));
        assertThat(ruleset.element(Family.IP, "t", "service-ips", List.of("10.96.0.1", "tcp", "80")).value())
                .containsExactly("goto svc-b");
        // Elements are deleted by key, whatever value the delete names; a second delete finds nothing.
        assertThatThrownBy(() -> ruleset.apply(tx().delete(toA).delete(toB)))
                .isInstanceOfSatisfying(NftException.class, e -> {
                    assertThat(e.reason()).isEqualTo(Reason.NOT_FOUND);
                    assertThat(e.operationIndex()).isEqualTo(1);
                });
    }

    @Test
    void dumpsAsKnftablesFakeDoes() throws NftException {
        ruleset.apply(tx().add(NftSet.of("cluster-ips", "ipv4_addr", "Active ClusterIPs"))
                .add(Element.ofSet("cluster-ips", List.of("10.96.0.1")))
                .add(Element.ofMap("service-ips", List.of("10.96.0.1", "tcp", "80"), "goto svc-a", "a:b")));
        assertThat(ruleset.dump()).isEqualTo("""
                add table ip t
                add chain ip t nat-prerouting { type nat hook prerouting priority -100 ; }
                add chain ip t services
                add chain ip t svc-a
                add set ip t cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }
                add map ip t service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; }
                add rule ip t nat-prerouting jump services
                add rule ip t services ip daddr . meta l4proto . th dport vmap @service-ips
                add element ip t cluster-ips { 10.96.0.1 }
                add element ip t service-ips { 10.96.0.1 . tcp . 80 comment "a:b" : goto svc-a }
                """);
    }

    @Test
    void deletingTheTableTakesEverythingAndAddingItAgainStartsEmpty() throws NftException {
        ruleset.apply(tx().add(new Table(null)).delete(new Table(null)).add(new Table("fresh")));
        assertThat(ruleset.dump()).isEqualTo("add table ip t { comment \"fresh\" ; }\n");
    }
}
