package dev.railyard.netlink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.railyard.netlink.Expr.CmpOp;
import java.util.List;
import org.junit.jupiter.api.Test;

class RuleTest {

    @Test
    void concatenationFillsRegisterSlotsAsNftDoes() {
        Rule rule = Rule.builder().verdictMap("service-ips", Field.IP_DADDR, Field.META_L4PROTO, Field.TH_DPORT).build();
        assertThat(rule.expressions()).containsExactly(
                new Expr.Payload(Expr.PAYLOAD_NETWORK, 16, 4, 1),
                new Expr.Meta(Expr.META_L4PROTO, 9),
                new Expr.Payload(Expr.PAYLOAD_TRANSPORT, 2, 2, 10),
                new Expr.Lookup(SetRef.named("service-ips"), 1, Registers.VERDICT, false));
        Rule ip6 = Rule.builder().inSet("s", Field.IP6_DADDR, Field.TH_DPORT).build();
        assertThat(ip6.expressions().get(1)).isEqualTo(new Expr.Payload(Expr.PAYLOAD_TRANSPORT, 2, 2, 2));
    }

    @Test
    void textReadsLikeTheNftStatement() {
        Rule rule = Rule.builder().match(Field.IP_DADDR, Values.ipv4("172.30.0.41"))
                .matchPrefix(Field.IP_SADDR, CmpOp.NEQ, Prefix.parse("10.0.0.0/8")).jump("mark-for-masquerade")
                .comment("c").build();
        assertThat(rule.text()).isEqualTo("ip daddr 172.30.0.41 ip saddr != 10.0.0.0/8 jump mark-for-masquerade");
        assertThat(rule.toString()).endsWith("comment \"c\"");
        assertThat(Rule.builder().match(Field.META_L4PROTO, Values.inetProto(Values.TCP)).dnat(Family.IP6, Values.ipv6("fd00::1"), 80)
                .build().text()).isEqualTo("meta l4proto tcp dnat to [fd00:0:0:0:0:0:0:1]:80");
    }

    @Test
    void eachInlineSetIsItsOwnAnonymousSet() {
        Rule rule = Rule.builder().inPrefixes(Field.IP_SADDR, true, List.of(Prefix.parse("203.0.113.0/25")))
                .numgenRandomVerdictMap(List.of(Verdict.goTo("a"), Verdict.goTo("b"))).build();
        assertThat(rule.anonymousSets()).hasSize(2);
        assertThat(rule.anonymousSets().get(0).interval()).isTrue();
        assertThat(rule.anonymousSets().get(1).elements()).extracting(SetElement::verdict)
                .containsExactly(Verdict.goTo("a"), Verdict.goTo("b"));
    }

    @Test
    void badStatementsAreRefusedWithTheFieldNamed() {
        assertThatThrownBy(() -> Rule.builder().match(Field.IP_DADDR, Values.ipv6("fd00::1")))
                .hasMessageContaining("ip daddr");
        assertThatThrownBy(() -> Rule.builder().matchPrefix(Field.IP_DADDR, CmpOp.EQ, Prefix.parse("fd00::/8")))
                .hasMessageContaining("ip daddr");
        assertThatThrownBy(() -> Rule.builder().build()).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Rule.builder().comment("x".repeat(200))).hasMessageContaining("comment");
    }
}
