package dev.railyard.proxy.render.nftables;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NftFakeTableTest {

    private static NftFakeTable withTable() {
        NftFakeTable fake = NftFakeTable.empty("ip", "kube-proxy");
        fake.run("add table ip kube-proxy { comment \"rules for kube-proxy\" ; }");
        return fake;
    }

    @Test
    void dumpPrintsDeclarationsByNameThenRulesThenElementsInInsertionOrder() {
        NftFakeTable fake = withTable();
        fake.run("""
                add map ip kube-proxy m { type ipv4_addr : verdict ; comment "a map" ; }
                add chain ip kube-proxy zeta
                add chain ip kube-proxy alpha { type nat hook prerouting priority dstnat ; }
                add set ip kube-proxy s { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; }
                add rule ip kube-proxy zeta ip saddr @s goto alpha comment "second chain"
                add rule ip kube-proxy alpha jump zeta
                add element ip kube-proxy m { 10.0.0.2 : goto zeta }
                add element ip kube-proxy m { 10.0.0.1 comment "ns/svc:p" : drop }
                add element ip kube-proxy s { 10.0.0.9 }
                """);

        assertThat(fake.dump()).isEqualTo("""
                add table ip kube-proxy { comment "rules for kube-proxy" ; }
                add chain ip kube-proxy alpha { type nat hook prerouting priority -100 ; }
                add chain ip kube-proxy zeta
                add set ip kube-proxy s { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; }
                add map ip kube-proxy m { type ipv4_addr : verdict ; comment "a map" ; }
                add rule ip kube-proxy alpha jump zeta
                add rule ip kube-proxy zeta ip saddr @s goto alpha comment "second chain"
                add element ip kube-proxy s { 10.0.0.9 }
                add element ip kube-proxy m { 10.0.0.2 : goto zeta }
                add element ip kube-proxy m { 10.0.0.1 comment "ns/svc:p" : drop }
                """);
        assertThat(fake.lastTransactionOperations()).isEqualTo(9);
    }

    @Test
    void addingAnExistingObjectChangesNothingButAnElementIsReplacedInPlace() {
        NftFakeTable fake = withTable();
        fake.run("""
                add chain ip kube-proxy c { type filter hook input priority 0 ; }
                add rule ip kube-proxy c drop
                add map ip kube-proxy m { type ipv4_addr : verdict ; }
                add element ip kube-proxy m { 10.0.0.1 : drop }
                add element ip kube-proxy m { 10.0.0.2 : drop }
                """);
        fake.run("""
                add chain ip kube-proxy c { type filter hook input priority -110 ; }
                add map ip kube-proxy m { type ipv4_addr : verdict ; comment "ignored" ; }
                add element ip kube-proxy m { 10.0.0.1 comment "new" : accept }
                """);

        assertThat(fake.dump()).contains("add chain ip kube-proxy c { type filter hook input priority 0 ; }",
                "add map ip kube-proxy m { type ipv4_addr : verdict ; }\n",
                "add rule ip kube-proxy c drop",
                "add element ip kube-proxy m { 10.0.0.1 comment \"new\" : accept }\n"
                        + "add element ip kube-proxy m { 10.0.0.2 : drop }\n");
    }

    @Test
    void deleteThenAddInOneTransactionRecreatesAChainEmpty() {
        // kube-proxy's first sync does this to every base chain, so that a changed hook or priority applies
        NftFakeTable fake = withTable();
        fake.run("add chain ip kube-proxy c { type filter hook input priority -110 ; }\nadd rule ip kube-proxy c drop");
        fake.run("""
                add chain ip kube-proxy c { type filter hook input priority 0 ; }
                delete chain ip kube-proxy c
                add chain ip kube-proxy c { type filter hook input priority 0 ; }
                flush chain ip kube-proxy c
                """);
        assertThat(fake.dump()).isEqualTo("""
                add table ip kube-proxy { comment "rules for kube-proxy" ; }
                add chain ip kube-proxy c { type filter hook input priority 0 ; }
                """);
        assertThat(fake.lastTransactionOperations()).isEqualTo(4);
    }

    @Test
    void flushAndDeleteNeedTheObjectButDestroyDoesNot() {
        NftFakeTable fake = withTable();
        assertThatThrownBy(() -> fake.run("flush chain ip kube-proxy nope"))
                .hasMessageContaining("no such chain \"nope\"");
        assertThatThrownBy(() -> fake.run("delete set ip kube-proxy nope")).hasMessageContaining("no such set");
        fake.run("destroy chain ip kube-proxy nope");
        fake.run("add set ip kube-proxy s { type ipv4_addr ; }\nadd element ip kube-proxy s { 1.2.3.4 }");
        assertThatThrownBy(() -> fake.run("delete element ip kube-proxy s { 5.6.7.8 }"))
                .hasMessageContaining("no such element \"5.6.7.8\"");
        fake.run("destroy element ip kube-proxy s { 5.6.7.8 }\ndelete element ip kube-proxy s { 1.2.3.4 }");
        assertThat(fake.set("s").elements()).isEmpty();
        assertThatThrownBy(() -> fake.run("create set ip kube-proxy s { type ipv4_addr ; }"))
                .hasMessageContaining("set \"s\" already exists");
    }

    @Test
    void referencesAreCheckedWhenTheOperationRuns() {
        NftFakeTable fake = withTable();
        assertThatThrownBy(() -> fake.run("add chain ip kube-proxy a\nadd rule ip kube-proxy a jump b\nadd chain ip kube-proxy b"))
                .hasMessageContaining("no such chain \"b\"").hasMessageContaining("operation 2");
        assertThatThrownBy(() -> fake.run("add chain ip kube-proxy a\nadd rule ip kube-proxy a ip daddr . meta l4proto . th dport vmap @m"))
                .hasMessageContaining("no such map \"m\"");
        assertThatThrownBy(() -> fake.run("add chain ip kube-proxy a\nadd rule ip kube-proxy a ip daddr @s drop"))
                .hasMessageContaining("no such set \"s\"");
        assertThatThrownBy(() -> fake.run("add map ip kube-proxy m { type ipv4_addr : verdict ; }\n"
                + "add element ip kube-proxy m { 10.0.0.1 : goto nowhere }"))
                .hasMessageContaining("no such chain \"nowhere\"");
        assertThatThrownBy(() -> fake.run("add element ip kube-proxy nothing { 10.0.0.1 }"))
                .hasMessageContaining("no such set \"nothing\"");
    }

    @Test
    void aFailedTransactionChangesNothingButCountsItsOperations() {
        NftFakeTable fake = withTable();
        String before = fake.dump();
        assertThatThrownBy(() -> fake.run("add chain ip kube-proxy a\nadd rule ip kube-proxy a goto missing"))
                .isInstanceOf(NftFakeTable.NftFakeException.class);
        assertThat(fake.dump()).isEqualTo(before);
        assertThat(fake.chain("a")).isNull();
        assertThat(fake.lastTransactionOperations()).isEqualTo(2);
    }

    @Test
    void fromDumpAcceptsAnyLineOrderButOnlyAddLinesOfOneTable() {
        NftFakeTable table = NftFakeTable.fromDump("""
                add rule ip kube-proxy a jump b
                add chain ip kube-proxy b
                # a comment
                add element ip kube-proxy s { 10.0.0.1 }
                add table ip kube-proxy
                add chain ip kube-proxy a
                add set ip kube-proxy s { type ipv4_addr ; }
                """);
        assertThat(table.chain("a").rules()).containsExactly(new NftFakeTable.Rule("a", "jump b", null));
        assertThat(table.set("s").findElement("10.0.0.1")).isNotNull();

        assertThatThrownBy(() -> NftFakeTable.fromDump("add table ip kube-proxy\nflush chain ip kube-proxy a"))
                .hasMessageContaining("only");
        assertThatThrownBy(() -> NftFakeTable.fromDump("add table ip kube-proxy\nadd chain ip other a"))
                .hasMessageContaining("wrong table name \"other\"");
        assertThatThrownBy(() -> NftFakeTable.fromDump("add table ip kube-proxy\nadd chain ip6 kube-proxy a"))
                .hasMessageContaining("wrong family \"ip6\"");
        assertThatThrownBy(() -> NftFakeTable.fromDump("add chain ip kube-proxy a"))
                .hasMessageContaining("no such table");
    }

    @Test
    void parseDumpKeepsTheLineOrderAsOneTransaction() {
        NftFakeTable fake = NftFakeTable.empty("ip", "kube-proxy");
        assertThatThrownBy(() -> fake.parseDump("add table ip kube-proxy\nadd rule ip kube-proxy a drop\n"
                + "add chain ip kube-proxy a")).hasMessageContaining("no such chain \"a\"");
        assertThat(fake.exists()).isFalse();
    }

    @Test
    void elementsAreParsedAsKnftablesDoes() {
        NftFakeTable table = NftFakeTable.fromDump("""
                add table ip kube-proxy
                add chain ip kube-proxy reject-chain
                add map ip kube-proxy m { type ipv4_addr . inet_proto . inet_service : verdict ; }
                add element ip kube-proxy m { 172.30.0.46 . tcp . 80 comment "ns6/svc6:p80" : goto reject-chain }
                add element ip kube-proxy m { 1.2.3.4 . tcp . 80 : drop }
                """);
        NftFakeTable.Element withComment = table.map("m").findElement("172.30.0.46", "tcp", "80");
        assertThat(withComment).isEqualTo(new NftFakeTable.Element(List.of("172.30.0.46", "tcp", "80"),
                "ns6/svc6:p80", List.of("goto reject-chain")));
        assertThat(table.map("m").findElement("1.2.3.4", "tcp", "80").comment()).isNull();
        assertThat(table.map("m").findElement("1.2.3.4", "tcp")).isNull();

        NftFakeTable v6 = NftFakeTable.fromDump("""
                add table ip6 kube-proxy
                add set ip6 kube-proxy nodeport-ips { type ipv6_addr ; }
                add element ip6 kube-proxy nodeport-ips { 2001:db8::1 }
                """);
        assertThat(v6.set("nodeport-ips").findElement("2001:db8::1")).isNotNull();
    }

    @Test
    void symbolicPrioritiesArePrintedAsNumbersLikeTheFakeDoes() {
        assertThat(NftFakeTable.numericPriority("dstnat-10")).isEqualTo("-110");
        assertThat(NftFakeTable.numericPriority("dstnat")).isEqualTo("-100");
        assertThat(NftFakeTable.numericPriority("srcnat")).isEqualTo("100");
        assertThat(NftFakeTable.numericPriority("filter")).isEqualTo("0");
        assertThat(NftFakeTable.numericPriority("-110")).isEqualTo("-110");
    }
}
