package dev.railyard.nftables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The script text is knftables' own, line for line, since kube-proxy's expectations are written in it. */
class TransactionTest {

    @Test
    void writesEachKindOfObjectAsKnftablesDoes() {
        Transaction tx = new Transaction(Family.IP, "kube-proxy")
                .add(new Table("rules for kube-proxy"))
                .add(new Chain("filter-forward", new BaseChain("filter", "forward", BaseChain.FILTER), null))
                .add(new Chain("nat-prerouting", new BaseChain("nat", "prerouting", BaseChain.DSTNAT), null))
                .add(new Chain("reject-chain", null, "helper for @no-endpoint-services / @no-endpoint-nodeports"))
                .flush(Chain.named("reject-chain"))
                .add(Rule.of("reject-chain", "reject"))
                .add(new Rule("cluster-ips-check", "ip daddr @cluster-ips reject",
                        "Reject traffic to invalid ports of ClusterIPs"))
                .add(NftSet.of("cluster-ips", "ipv4_addr", "Active ClusterIPs"))
                .add(new NftSet("affinity-X", "ipv4_addr", List.of("dynamic", "timeout"), 10800, null))
                .add(NftMap.of("service-ips", "ipv4_addr . inet_proto . inet_service : verdict",
                        "ClusterIP, ExternalIP and LoadBalancer IP traffic"))
                .add(Element.ofSet("cluster-ips", List.of("172.30.0.41")))
                .add(Element.ofMap("no-endpoint-services", List.of("172.30.0.46", "tcp", "80"),
                        "goto reject-chain", "ns6/svc6:p80"))
                .delete(Element.ofMap("no-endpoint-services", List.of("172.30.0.46", "tcp", "80"),
                        "goto reject-chain", "ns6/svc6:p80"))
                .delete(Chain.named("gone"));

        assertThat(tx.script()).isEqualTo("""
                add table ip kube-proxy { comment "rules for kube-proxy" ; }
                add chain ip kube-proxy filter-forward { type filter hook forward priority 0 ; }
                add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }
                add chain ip kube-proxy reject-chain { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }
                flush chain ip kube-proxy reject-chain
                add rule ip kube-proxy reject-chain reject
                add rule ip kube-proxy cluster-ips-check ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"
                add set ip kube-proxy cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }
                add set ip kube-proxy affinity-X { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; }
                add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }
                add element ip kube-proxy cluster-ips { 172.30.0.41 }
                add element ip kube-proxy no-endpoint-services { 172.30.0.46 . tcp . 80 comment "ns6/svc6:p80" : goto reject-chain }
                delete element ip kube-proxy no-endpoint-services { 172.30.0.46 . tcp . 80 }
                delete chain ip kube-proxy gone
                """);
        assertThat(tx.line(tx.operation(6))).isEqualTo("add rule ip kube-proxy reject-chain reject");
    }

    @Test
    void refusesNamesAndTextThatCouldChangeTheScript() {
        assertThatThrownBy(() -> Chain.named("a b")).hasMessageContaining("not a valid nftables name");
        assertThatThrownBy(() -> Chain.named("x;delete")).hasMessageContaining("not a valid nftables name");
        assertThatThrownBy(() -> Chain.named("9lives")).hasMessageContaining("not a valid nftables name");
        assertThatThrownBy(() -> Rule.of("c", "accept; delete table ip kube-proxy")).hasMessageContaining("';'");
        assertThatThrownBy(() -> Rule.of("c", "accept\nflush ruleset")).hasMessageContaining("\\u000a");
        assertThatThrownBy(() -> Rule.of("c", "accept comment \"x\"")).hasMessageContaining("'\"'");
        assertThatThrownBy(() -> new Table("a \" ; flush ruleset ; \"")).hasMessageContaining("cannot quote");
        assertThatThrownBy(() -> Element.ofSet("s", List.of("1.2.3.4 } ; flush ruleset")))
                .hasMessageContaining("';'");
        assertThatThrownBy(() -> Element.ofSet("s", List.of("1.2.3.4 }"))).hasMessageContaining("one field");
        assertThatThrownBy(() -> Element.ofMap("m", List.of("a . b"), "accept", null))
                .hasMessageContaining("one field");
        assertThatThrownBy(() -> new Table("x".repeat(129))).hasMessageContaining("longer than 128");
    }

    @Test
    void rulesAndElementsCannotBeFlushedAndOnlyRulesInserted() {
        Transaction tx = new Transaction(Family.IP6, "t");
        assertThatThrownBy(() -> tx.flush(Rule.of("c", "accept"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> tx.flush(Element.ofSet("s", List.of("::1"))))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> tx.delete(Rule.of("c", "accept"))).isInstanceOf(IllegalArgumentException.class);
        assertThat(tx.insert(Rule.of("c", "accept")).script()).isEqualTo("insert rule ip6 t c accept\n");
    }
}
