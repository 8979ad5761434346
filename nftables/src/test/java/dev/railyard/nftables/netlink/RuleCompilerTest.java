package dev.railyard.nftables.netlink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.railyard.netlink.Expr;
import dev.railyard.netlink.Field;
import dev.railyard.netlink.Prefix;
import dev.railyard.netlink.Rule;
import dev.railyard.netlink.Values;
import dev.railyard.nftables.Family;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * What the compiler refuses, and that it refuses it by naming the rule and the word. (What it accepts is proven
 * against nft itself in {@link GrammarKernelTest}.)
 */
class RuleCompilerTest {
    private final RuleCompiler ip = new RuleCompiler(Family.IP);
    private final RuleCompiler ip6 = new RuleCompiler(Family.IP6);

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "counter                                              | counter",
        "ip daddr 10.0.0.1 counter jump x                     | counter",
        "jump                                                 | ends where more was expected",
        "jump x drop                                          | \"drop\" follows \"jump x\"",
        "reject jump x                                        | \"jump\" follows \"reject\"",
        "ip daddr . meta l4proto . th dport vmap @m drop      | \"drop\" follows \"vmap\"",
        "ip6 daddr ::1 drop                                   | \"ip6\"",
        "ip daddr 10.0.0.256 drop                             | \"10.0.0.256\"",
        "ip daddr 010.0.0.1 drop                              | \"010.0.0.1\"",
        "ip daddr 10.0.0.1/33 drop                            | \"10.0.0.1/33\"",
        "ip daddr 10.0.0.1/8 drop                             | host bits",
        "ip daddr { 10.96.0.0/12,fd00::/108 } drop            | \"fd00::/108\"",
        "ip daddr { 10.96.0.0/12 10.97.0.0/16 } drop          | \"10.96.0.0/12 10.97.0.0/16\"",
        "ip daddr { } drop                                    | between the commas",
        "ip daddr { 10.0.0.0/8 , } drop                       | between the commas",
        "ip daddr { 10.0.0.0/8 drop                           | ends where more was expected",
        "ip daddr { 10.0.0.0/8,,10.1.0.0/16 } drop            | between the commas",
        "ip daddr . th dport 10.0.0.1 drop                    | \"10.0.0.1\"",
        "ip saddr . ip daddr != 10.0.0.1 drop                 | \"10.0.0.1\"",
        "ip protocol tcp drop                                 | \"ip\"",
        "tcp dport 80 drop                                    | \"tcp\"",
        "th dport 80 drop                                     | \"th\"",
        "meta l4proto icmp drop                               | \"icmp\"",
        "meta l4proto != tcp drop                             | \"!=\"",
        "meta mark 0x1 drop                                   | \"meta\"",
        "ct state established accept                          | \"state\"",
        "ct status snat accept                                | \"status\"",
        "fib daddr type unicast drop                          | \"unicast\"",
        "fib iif type local drop                              | \"iif\"",
        "mark set mark and 0x4000                             | \"and\"",
        "mark set 0x4000                                      | \"0x4000\"",
        "mark and 0x4000 > 0 return                           | \">\"",
        "mark set mark or 0x1ffffffff                         | \"0x1ffffffff\"",
        "mark set mark or lots                                | \"lots\"",
        "numgen random mod 2 vmap { 0 : goto a }              | modulus 2",
        "numgen random mod 2 vmap { 1 : goto a , 0 : goto b } | key 0",
        "numgen random mod 1 vmap { 0 : goto a }  drop        | \"drop\" follows",
        "numgen random mod 0 vmap { }                         | positive modulus",
        "numgen inc mod 2 vmap { 0 : goto a , 1 : goto b }    | \"inc\"",
        "numgen random mod 1 vmap { 0 : continue }            | \"continue\"",
        "dnat to 10.0.0.1:80                                  | meta l4proto match",
        "meta l4proto tcp dnat to 10.0.0.1:99999              | port 0..65535",
        "meta l4proto tcp dnat to [fd00::1]:80                | \"[fd00::1]:80\"",
        "meta l4proto tcp dnat ip addr to numgen random mod 2 map @m | \"to\"",
        "dnat ip addr . port to numgen random mod 2 map @m    | meta l4proto match",
        "meta l4proto tcp snat to 10.0.0.1                    | \"snat\"",
        "update @affinity { ip saddr } drop x                 | \"x\"",
        "update affinity { ip saddr }                         | \"affinity\"",
        "update @affinity { tcp dport }                       | \"tcp\"",
        "ip daddr @ drop                                      | \"@\"",
        "ip daddr @s;x drop                                   | \"@s;x\"",
        "goto 9chain                                          | \"9chain\"",
        "masquerade random                                    | \"random\"",
        "ip daddr 10.0.0.1 comment \"x\" drop                 | \"comment\"",
    })
    void refusesWhatIsNotInTheGrammarNamingTheRuleAndTheWord(String body, String named) {
        assertThatThrownBy(() -> ip.compile("chain-a", body.strip(), null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("rule in chain chain-a \"" + body.strip() + "\"")
                .hasMessageContaining(named.strip());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "ip daddr ::1 drop                                    | \"ip\"",
        "ip6 daddr 10.0.0.1 drop                              | \"10.0.0.1\"",
        "meta l4proto tcp dnat to [fd00::1]                   | [ADDRESS]:PORT",
        "meta l4proto tcp dnat ip addr . port to numgen random mod 2 map @m | \"ip\"",
        "ip6 saddr != { fd00::/64 , 10.0.0.0/8 } drop         | \"10.0.0.0/8\"",
    })
    void theTableFamilyDecidesWhatAnAddressIs(String body, String named) {
        assertThatThrownBy(() -> ip6.compile("c", body.strip(), null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(named.strip());
    }

    @Test
    void inetTablesAreNotCompiled() {
        assertThatThrownBy(() -> new RuleCompiler(Family.INET)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("inet");
    }

    @Test
    void oneElementInBracesIsThatElementAsNftCompilesIt() {
        Rule braces = ip.compile("c", "ip daddr { 10.96.0.0/12 } drop", null);
        Rule plain = ip.compile("c", "ip daddr 10.96.0.0/12 drop", null);
        assertThat(braces.expressions()).isEqualTo(plain.expressions());
        assertThat(braces.anonymousSets()).isEmpty();
        Rule host = ip.compile("c", "ip saddr != { 1.2.3.4 } drop", null);
        assertThat(host.expressions()).isEqualTo(Rule.builder()
                .match(Field.IP_SADDR, Expr.CmpOp.NEQ, Values.ipv4("1.2.3.4")).drop().build().expressions());
    }

    @Test
    void listsJoinedWithOrWithoutSpacesAreTheSameSet() {
        Rule joined = ip.compile("c", "ip daddr { 10.96.0.0/12,172.30.0.0/16,1.2.3.4 } drop", null);
        Rule spaced = ip.compile("c", "ip daddr { 10.96.0.0/12 , 172.30.0.0/16 , 1.2.3.4 } drop", null);
        Rule mixed = ip.compile("c", "ip daddr { 10.96.0.0/12, 172.30.0.0/16 ,1.2.3.4 } drop", null);
        List<Prefix> expected = List.of(Prefix.parse("1.2.3.4/32"), Prefix.parse("10.96.0.0/12"),
                Prefix.parse("172.30.0.0/16"));
        for (Rule rule : List.of(joined, spaced, mixed)) {
            assertThat(rule.anonymousSets()).hasSize(1);
            assertThat(rule.anonymousSets().get(0).elements())
                    .isEqualTo(Rule.builder().inPrefixes(Field.IP_DADDR, false, expected).drop().build()
                            .anonymousSets().get(0).elements());
        }
    }

    @Test
    void theCommentAndTheBodyGoWithTheRule() {
        Rule rule = ip.compile(new dev.railyard.nftables.Rule("c", "fib saddr type local goto x",
                "short-circuit local traffic"));
        assertThat(rule.comment()).isEqualTo("short-circuit local traffic");
        assertThat(rule.text()).isEqualTo("fib saddr type local goto x");
    }

    @Test
    void marksAreReadInHexWithOrWithoutLeadingZerosAndInDecimal() {
        Rule short4000 = ip.compile("c", "mark set mark or 0x4000", null);
        assertThat(ip.compile("c", "mark set mark or 0x00004000", null).expressions()).isEqualTo(short4000.expressions());
        assertThat(ip.compile("c", "mark set mark or 16384", null).expressions()).isEqualTo(short4000.expressions());
    }
}
