package dev.railyard.proxy.inspect.nftables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.railyard.proxy.inspect.RulesetInputException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link NftListingParser} on nft 1.0.6's own output (src/test/resources/inspect-nftables) and on broken text. */
class NftListingParserTest {

    @Test
    void readsEveryTableChainHookSetMapAndElementOfARealListing() throws Exception {
        NftablesRuleset ruleset = NftListingParser.parse("node-a", NftablesEvaluatorTest.resource(
                NftablesEvaluatorTest.KUBE_PROXY_LAYOUT));

        assertThat(ruleset.tables()).extracting(NftablesRuleset.Table::label)
                .containsExactly("ip kube-proxy", "inet firewall", "ip edge");
        NftablesRuleset.Table kubeProxy = ruleset.table("ip", "kube-proxy");
        assertThat(kubeProxy.chains().get("filter-prerouting-pre-dnat").hook())
                .isEqualTo(new NftablesRuleset.Hook("filter", "prerouting", -110, "accept"));
        assertThat(kubeProxy.chains().get("nat-output").hook().priority()).isEqualTo(-100);
        assertThat(kubeProxy.chains().get("nat-postrouting").hook().priority()).isEqualTo(100);
        assertThat(ruleset.table("inet", "firewall").chains().get("input").hook())
                .isEqualTo(new NftablesRuleset.Hook("filter", "input", 10, "drop"));
        assertThat(ruleset.table("ip", "edge").chains().get("dns").hook())
                .isEqualTo(new NftablesRuleset.Hook("nat", "prerouting", -150, "accept"));
        assertThat(ruleset.table("ip", "edge").chains().get("untracked").hook().priority()).isEqualTo(-300);

        // Elements printed over several lines, with comments and verdicts.
        assertThat(kubeProxy.containers().get("cluster-ips").elements()).hasSize(7);
        assertThat(kubeProxy.containers().get("no-endpoint-services").elements()).containsExactly(
                new NftablesRuleset.Element(List.of("10.101.30.5", "tcp", "5432"), List.of("goto reject-chain"),
                        "shop/orders-db:postgres"));
        assertThat(kubeProxy.containers().get("service-ips").elements()).hasSize(10);
        NftablesRuleset.Container affinity = kubeProxy.containers().values().stream()
                .filter(c -> c.name().startsWith("affinity-H2O5H4NC")).findFirst().orElseThrow();
        assertThat(affinity.flags()).containsExactlyInAnyOrder("dynamic", "timeout");
        assertThat(affinity.timeoutSeconds()).isEqualTo(600);
        assertThat(affinity.dynamic()).isTrue();

        // The chain's comment is not a rule; a rule's comment is kept.
        assertThat(kubeProxy.chains().get("reject-chain").rules()).extracting(NftablesRule::text)
                .containsExactly("reject");
        assertThat(kubeProxy.chains().get("cluster-ips-check").rules()).extracting(NftablesRule::comment)
                .containsExactly("Reject traffic to invalid ports of ClusterIPs", "Drop traffic to unallocated ClusterIPs");
        assertThat(ruleset.notes()).isEmpty();
    }

    @Test
    void handlesAreLeftOutAndTypeofMapsRead() throws Exception {
        NftablesRuleset ruleset = NftListingParser.parse("node-a", NftablesEvaluatorTest.resource(
                NftablesEvaluatorTest.FLAT_LAYOUT));

        NftablesRuleset.Table kubeProxy = ruleset.table("ip", "kube-proxy");
        NftablesRuleset.Container endpoints = kubeProxy.containers().get("endpoints-tcp");
        assertThat(endpoints.type()).isEqualTo("numgen random mod 1 : ip daddr . tcp dport");
        assertThat(endpoints.elements()).hasSize(12).filteredOn(e -> e.key().equals(List.of("40"))
                || e.key().equals(List.of("41"))).extracting(NftablesRuleset.Element::value)
                .containsExactly(List.of("10.244.0.21", "8080"), List.of("10.244.1.22", "8080"));
        assertThat(kubeProxy.chains().get("service-KHN6ECMT-shop/web/tcp/http").rules()).extracting(NftablesRule::text)
                .containsExactly("ip daddr 10.101.22.7 ip saddr != 10.244.0.0/16 meta mark set meta mark | 0x00004000",
                        "meta l4proto tcp dnat ip to numgen random mod 2 offset 40 map @endpoints-tcp");
        assertThat(kubeProxy.chains().get("nat-postrouting").rules()).extracting(NftablesRule::text).containsExactly(
                "ct status dnat ip saddr . ip daddr @hairpin-ips meta mark set meta mark | 0x00004000",
                "jump masquerading");
        assertNoHandles(ruleset);
    }

    @Test
    void theFlatLayoutBeforeSharedEndpointMapsIsReadToo() throws Exception {
        NftablesRuleset ruleset = NftListingParser.parse("node-a", NftablesEvaluatorTest.resource(
                NftablesEvaluatorTest.FLAT_LAYOUT_V1));

        NftablesRuleset.Table kubeProxy = ruleset.table("ip", "kube-proxy");
        NftablesRuleset.Container endpoints = kubeProxy.containers().get("endpoints-KHN6ECMT-shop/web/tcp/http");
        assertThat(endpoints.type()).isEqualTo("numgen random mod 1 : ip daddr . tcp dport");
        assertThat(endpoints.elements()).extracting(NftablesRuleset.Element::value)
                .containsExactly(List.of("10.244.0.21", "8080"), List.of("10.244.1.22", "8080"));
        assertThat(kubeProxy.chains().get("service-KHN6ECMT-shop/web/tcp/http").rules()).extracting(NftablesRule::text)
                .containsExactly("ip daddr 10.101.22.7 ip saddr != 10.244.0.0/16 meta mark set meta mark | 0x00004000",
                        "meta l4proto tcp dnat ip to numgen random mod 2 map @endpoints-KHN6ECMT-shop/web/tcp/http");
        assertNoHandles(ruleset);
    }

    private static void assertNoHandles(NftablesRuleset ruleset) {
        for (NftablesRuleset.Table table : ruleset.tables()) {
            for (NftablesRuleset.Chain chain : table.chains().values()) {
                assertThat(chain.rules()).extracting(NftablesRule::text).noneMatch(t -> t.contains("handle"));
            }
        }
    }

    @Test
    void aRuleItDoesNotModelIsKeptWithTheReason() throws Exception {
        NftablesRuleset ruleset = NftListingParser.parse("x", """
                table inet filter {
                	chain output {
                		type filter hook output priority filter; policy accept;
                		meta skuid 0 accept
                		queue num 1
                		tcp flags syn tcp option maxseg size set rt mtu
                	}
                }
                """);

        List<NftablesRule> rules = ruleset.table("inet", "filter").chains().get("output").rules();
        assertThat(rules).extracting(r -> r.unsupported().why()).containsExactly(
                "\"meta skuid\" is not modelled", "queue hands the packet to a user-space program",
                "\"tcp flags\" is not modelled");
    }

    @Test
    void otherFamiliesAndObjectsAreNotedNotTraced() throws Exception {
        NftablesRuleset ruleset = NftListingParser.parse("x", """
                table netdev edge {
                	chain ingress {
                		type filter hook ingress device "eth0" priority -500; policy accept;
                		ip saddr 192.0.2.1 drop
                	}
                }
                table inet t {
                	chain in {
                		type filter hook ingress device "eth0" priority filter; policy accept;
                	}

                	flowtable f {
                		hook ingress priority filter
                		devices = { eth0 }
                	}

                	counter c {
                		packets 0 bytes 0
                	}
                }
                """);

        assertThat(ruleset.notes()).containsExactly("table netdev edge is not traced (only ip, ip6 and inet tables "
                + "are)", "table inet t: flowtable f is not traced", "table inet t: counter c is not traced",
                "table inet t: chain in (hook ingress) is not traced");
    }

    @Test
    void aBrokenStructureNamesTheLine() {
        assertThatThrownBy(() -> NftListingParser.parse("dump.nft", "table ip t {\n\tchain c {\n\t\taccept\n"))
                .isInstanceOf(RulesetInputException.class)
                .hasMessage("dump.nft:2: chain c is not closed");
        assertThatThrownBy(() -> NftListingParser.parse("dump.nft", "*nat\n:PREROUTING ACCEPT [0:0]\n"))
                .isInstanceOf(RulesetInputException.class)
                .hasMessage("dump.nft:1: expected \"table FAMILY NAME {\" (nft list ruleset output), found \"*nat\"");
        assertThatThrownBy(() -> NftListingParser.parse("dump.nft", "table ip t {\n\twhat is this\n}\n"))
                .isInstanceOf(RulesetInputException.class)
                .hasMessage("dump.nft:2: unexpected line in table ip t: \"what is this\"");
        assertThatThrownBy(() -> NftListingParser.parse("dump.nft", "table ip t {\n\tchain c {\n\t\ttype filter "
                + "hook input priority sideways; policy accept;\n\t}\n}\n"))
                .isInstanceOf(RulesetInputException.class)
                .hasMessage("dump.nft:3: chain c: priority \"sideways\" is not a number or a named priority");
    }

    @Test
    void durationsAsNftPrintsThem() {
        assertThat(NftListingParser.seconds("10m")).isEqualTo(600);
        assertThat(NftListingParser.seconds("3h")).isEqualTo(10800);
        assertThat(NftListingParser.seconds("1d2h3m4s")).isEqualTo(93784);
        assertThat(NftListingParser.seconds("600s")).isEqualTo(600);
        assertThat(NftListingParser.seconds("soon")).isZero();
    }
}
