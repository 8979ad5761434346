package dev.railyard.proxy.inspect.nftables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.railyard.proxy.inspect.RulesetInputException;
import dev.railyard.proxy.render.nftables.NftCompatCase;
import org.junit.jupiter.api.Test;

/** {@link NftScriptReader}: nft scripts of one-line commands, as Railyard renders them and knftables dumps them. */
class NftScriptReaderTest {

    @Test
    void aStateDumpIsReadDeclarationsFirst() throws Exception {
        // kube-proxy's expected text lists a chain's rules before the chain itself.
        NftablesRuleset ruleset = NftScriptReader.read("expected.nft",
                NftCompatCase.named("overall-nftables-rules").expected());

        NftablesRuleset.Table table = ruleset.table("ip", "kube-proxy");
        assertThat(table.chains().get("nat-prerouting").hook())
                .isEqualTo(new NftablesRuleset.Hook("nat", "prerouting", -100, "accept"));
        assertThat(table.chains().get("masquerading").rules()).extracting(NftablesRule::text).containsExactly(
                "mark and 0x4000 == 0 return", "mark set mark xor 0x4000", "masquerade fully-random");
        assertThat(table.chains().get("cluster-ips-check").rules()).extracting(NftablesRule::text).containsExactly(
                "ip daddr @cluster-ips reject comment \"Reject traffic to invalid ports of ClusterIPs\"",
                "ip daddr { 172.30.0.0/16 } drop comment \"Drop traffic to unallocated ClusterIPs\"");
        assertThat(table.containers().get("no-endpoint-services").elements()).extracting(
                NftablesRuleset.Element::comment).containsExactly("ns2/svc2:p80", "ns2/svc2:p80", "ns6/svc6:p80");
        assertThat(table.containers().get("affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80").timeoutSeconds())
                .isEqualTo(10800);
    }

    @Test
    void aTransactionIsAppliedInOrderAsTheKernelWould() throws Exception {
        NftablesRuleset ruleset = NftScriptReader.read("render", """
                add table ip kube-proxy { comment "rules for kube-proxy" ; }
                delete table ip kube-proxy
                add table ip kube-proxy
                add chain ip kube-proxy c
                add rule ip kube-proxy c drop
                flush chain ip kube-proxy c
                add rule ip kube-proxy c accept
                add table inet other
                add chain inet other input { type filter hook input priority 10 ; }
                """);

        assertThat(ruleset.tables()).extracting(NftablesRuleset.Table::label).containsExactly("ip kube-proxy",
                "inet other");
        assertThat(ruleset.table("ip", "kube-proxy").chains().get("c").rules()).extracting(NftablesRule::text)
                .containsExactly("accept");
        assertThat(ruleset.table("inet", "other").chains().get("input").hook().priority()).isEqualTo(10);
    }

    @Test
    void whatTheKernelWouldRefuseOrNftCannotReadIsAnError() {
        assertThatThrownBy(() -> NftScriptReader.read("s.nft", "add table ip t\nadd rule ip t missing accept\n"))
                .isInstanceOf(RulesetInputException.class)
                .hasMessage("s.nft: nft would refuse it: no such chain missing (operation 2: add rule ip t missing accept)");
        assertThatThrownBy(() -> NftScriptReader.read("s.nft", "add table ip t\nadd chain ip t c\nbogus words "
                + "here ok\n"))
                .isInstanceOf(RulesetInputException.class)
                .hasMessage("s.nft:3: not an nft command (add, create, insert, flush or delete): bogus words here ok");
        assertThatThrownBy(() -> NftScriptReader.read("s.nft", "define X = 1\n"))
                .isInstanceOf(RulesetInputException.class)
                .hasMessage("s.nft:1: define is not supported: give the output of nft list ruleset instead");
        assertThatThrownBy(() -> NftScriptReader.read("s.nft", "add table\n"))
                .isInstanceOf(RulesetInputException.class)
                .hasMessage("s.nft:1: not an nft command: add table");
    }

    @Test
    void theFirstCommandTellsAListingFromAScript() {
        assertThat(NftablesServiceRuleset.isListing("# nft list ruleset\n\ntable ip t {\n}\n")).isTrue();
        assertThat(NftablesServiceRuleset.isListing("flush ruleset\ntable inet t {\n}\n")).isTrue();
        assertThat(NftablesServiceRuleset.isListing("add table ip t\n")).isFalse();
    }
}
