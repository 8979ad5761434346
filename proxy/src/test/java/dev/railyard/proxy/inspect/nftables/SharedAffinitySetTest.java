package dev.railyard.proxy.inspect.nftables;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.inspect.Affinity;
import dev.railyard.proxy.inspect.DiffReports;
import dev.railyard.proxy.inspect.EndpointShare;
import dev.railyard.proxy.inspect.LocalAddresses;
import dev.railyard.proxy.inspect.Origin;
import dev.railyard.proxy.inspect.Packet;
import dev.railyard.proxy.inspect.RulesetDiff;
import dev.railyard.proxy.inspect.Step;
import dev.railyard.proxy.inspect.Trace;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.testkit.RequiresPrivileges;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ClientIP affinity in both shapes the nftables rules take. kube-proxy's (and the flat layout's before): one
 * dynamic set of client addresses per endpoint, with the set's timeout. The flat layout's now: one shared set
 * keyed by client address and the endpoint's constant ({@code ip saddr . numgen random mod 1 offset K}), the
 * timeout given by each endpoint chain's {@code update}. Trace reports both as the same check, and diff finds
 * rulesets of the same services in either shape equal, in {@code add ...} scripts and in {@code nft list} output.
 */
class SharedAffinitySetTest {
    private static final LocalAddresses NODE_A = LocalAddresses.of(List.of("192.168.10.11"));
    private static final RulesetDiff.Settings SETTINGS = new RulesetDiff.Settings(IpFamily.V4, "10.244.0.0/16");
    private static final String WEB_A = "endpoint-H2O5H4NC-shop/web/tcp/https__10.244.0.31/8443";
    private static final String WEB_B = "endpoint-IXTNODKI-shop/web/tcp/https__10.244.1.32/8443";
    private static final String DB = "endpoint-QPALKZTE-shop/db/tcp/pg__10.244.1.33/5432";

    /** Shared by both shapes: the hooks, the service map, and shop/db's and shop/web's dispatch and DNAT. */
    private static final String SCRIPT_COMMON = """
            add table ip kube-proxy
            add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }
            add chain ip kube-proxy nat-output { type nat hook output priority -100 ; }
            add chain ip kube-proxy services
            add chain ip kube-proxy service-2FHNLMWZ-shop/web/tcp/https
            add chain ip kube-proxy service-7QLPZC4M-shop/db/tcp/pg
            add chain ip kube-proxy endpoint-H2O5H4NC-shop/web/tcp/https__10.244.0.31/8443
            add chain ip kube-proxy endpoint-IXTNODKI-shop/web/tcp/https__10.244.1.32/8443
            add chain ip kube-proxy endpoint-QPALKZTE-shop/db/tcp/pg__10.244.1.33/5432
            add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; }
            add rule ip kube-proxy nat-prerouting jump services
            add rule ip kube-proxy nat-output jump services
            add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips
            add element ip kube-proxy service-ips { 10.96.0.20 . tcp . 443 : goto service-2FHNLMWZ-shop/web/tcp/https }
            add element ip kube-proxy service-ips { 10.96.0.30 . tcp . 5432 : goto service-7QLPZC4M-shop/db/tcp/pg }
            """;

    /** kube-proxy's shape: a set per endpoint, each with its default timeout. */
    private static final String OLD_SCRIPT = SCRIPT_COMMON + """
            add set ip kube-proxy affinity-H2O5H4NC-shop/web/tcp/https__10.244.0.31/8443 { type ipv4_addr ; flags dynamic,timeout ; timeout 600s ; }
            add set ip kube-proxy affinity-IXTNODKI-shop/web/tcp/https__10.244.1.32/8443 { type ipv4_addr ; flags dynamic,timeout ; timeout 600s ; }
            add set ip kube-proxy affinity-QPALKZTE-shop/db/tcp/pg__10.244.1.33/5432 { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; }
            add rule ip kube-proxy service-2FHNLMWZ-shop/web/tcp/https ip saddr @affinity-H2O5H4NC-shop/web/tcp/https__10.244.0.31/8443 goto endpoint-H2O5H4NC-shop/web/tcp/https__10.244.0.31/8443
            add rule ip kube-proxy service-2FHNLMWZ-shop/web/tcp/https ip saddr @affinity-IXTNODKI-shop/web/tcp/https__10.244.1.32/8443 goto endpoint-IXTNODKI-shop/web/tcp/https__10.244.1.32/8443
            add rule ip kube-proxy service-2FHNLMWZ-shop/web/tcp/https numgen random mod 2 vmap { 0 : goto endpoint-H2O5H4NC-shop/web/tcp/https__10.244.0.31/8443 , 1 : goto endpoint-IXTNODKI-shop/web/tcp/https__10.244.1.32/8443 }
            add rule ip kube-proxy service-7QLPZC4M-shop/db/tcp/pg ip saddr @affinity-QPALKZTE-shop/db/tcp/pg__10.244.1.33/5432 goto endpoint-QPALKZTE-shop/db/tcp/pg__10.244.1.33/5432
            add rule ip kube-proxy service-7QLPZC4M-shop/db/tcp/pg goto endpoint-QPALKZTE-shop/db/tcp/pg__10.244.1.33/5432
            add rule ip kube-proxy endpoint-H2O5H4NC-shop/web/tcp/https__10.244.0.31/8443 update @affinity-H2O5H4NC-shop/web/tcp/https__10.244.0.31/8443 { ip saddr }
            add rule ip kube-proxy endpoint-H2O5H4NC-shop/web/tcp/https__10.244.0.31/8443 meta l4proto tcp dnat to 10.244.0.31:8443
            add rule ip kube-proxy endpoint-IXTNODKI-shop/web/tcp/https__10.244.1.32/8443 update @affinity-IXTNODKI-shop/web/tcp/https__10.244.1.32/8443 { ip saddr }
            add rule ip kube-proxy endpoint-IXTNODKI-shop/web/tcp/https__10.244.1.32/8443 meta l4proto tcp dnat to 10.244.1.32:8443
            add rule ip kube-proxy endpoint-QPALKZTE-shop/db/tcp/pg__10.244.1.33/5432 update @affinity-QPALKZTE-shop/db/tcp/pg__10.244.1.33/5432 { ip saddr }
            add rule ip kube-proxy endpoint-QPALKZTE-shop/db/tcp/pg__10.244.1.33/5432 meta l4proto tcp dnat to 10.244.1.33:5432
            """;

    /** The flat layout's shape: one set for the table, without a default timeout; each update gives its own. */
    private static final String NEW_SCRIPT = SCRIPT_COMMON + """
            add set ip kube-proxy client-affinity { typeof ip saddr . numgen random mod 1 ; flags dynamic,timeout ; size 1048576 ; comment "ClientIP affinity: client . endpoint key" ; }
            add rule ip kube-proxy service-2FHNLMWZ-shop/web/tcp/https ip saddr . numgen random mod 1 offset 3735928559 @client-affinity goto endpoint-H2O5H4NC-shop/web/tcp/https__10.244.0.31/8443
            add rule ip kube-proxy service-2FHNLMWZ-shop/web/tcp/https ip saddr . numgen random mod 1 offset 3735928560 @client-affinity goto endpoint-IXTNODKI-shop/web/tcp/https__10.244.1.32/8443
            add rule ip kube-proxy service-2FHNLMWZ-shop/web/tcp/https numgen random mod 2 vmap { 0 : goto endpoint-H2O5H4NC-shop/web/tcp/https__10.244.0.31/8443 , 1 : goto endpoint-IXTNODKI-shop/web/tcp/https__10.244.1.32/8443 }
            add rule ip kube-proxy service-7QLPZC4M-shop/db/tcp/pg ip saddr . numgen random mod 1 offset 7 @client-affinity goto endpoint-QPALKZTE-shop/db/tcp/pg__10.244.1.33/5432
            add rule ip kube-proxy service-7QLPZC4M-shop/db/tcp/pg goto endpoint-QPALKZTE-shop/db/tcp/pg__10.244.1.33/5432
            add rule ip kube-proxy endpoint-H2O5H4NC-shop/web/tcp/https__10.244.0.31/8443 update @client-affinity { ip saddr . numgen random mod 1 offset 3735928559 timeout 600s }
            add rule ip kube-proxy endpoint-H2O5H4NC-shop/web/tcp/https__10.244.0.31/8443 meta l4proto tcp dnat to 10.244.0.31:8443
            add rule ip kube-proxy endpoint-IXTNODKI-shop/web/tcp/https__10.244.1.32/8443 update @client-affinity { ip saddr . numgen random mod 1 offset 3735928560 timeout 600s }
            add rule ip kube-proxy endpoint-IXTNODKI-shop/web/tcp/https__10.244.1.32/8443 meta l4proto tcp dnat to 10.244.1.32:8443
            add rule ip kube-proxy endpoint-QPALKZTE-shop/db/tcp/pg__10.244.1.33/5432 update @client-affinity { ip saddr . numgen random mod 1 offset 7 timeout 10800s }
            add rule ip kube-proxy endpoint-QPALKZTE-shop/db/tcp/pg__10.244.1.33/5432 meta l4proto tcp dnat to 10.244.1.33:5432
            """;

    /** NEW_SCRIPT as nft 1.0.6 lists it: named priorities, timeouts in its own units, the set's size first. */
    private static final String NEW_LISTING = """
            table ip kube-proxy {
            	map service-ips {
            		type ipv4_addr . inet_proto . inet_service : verdict
            		elements = { 10.96.0.20 . tcp . 443 : goto service-2FHNLMWZ-shop/web/tcp/https,
            			     10.96.0.30 . tcp . 5432 : goto service-7QLPZC4M-shop/db/tcp/pg }
            	}

            	set client-affinity {
            		typeof ip saddr . numgen random mod 1
            		size 1048576
            		flags dynamic,timeout
            		comment "ClientIP affinity: client . endpoint key"
            	}

            	chain nat-prerouting {
            		type nat hook prerouting priority dstnat; policy accept;
            		jump services
            	}

            	chain nat-output {
            		type nat hook output priority dstnat; policy accept;
            		jump services
            	}

            	chain services {
            		ip daddr . meta l4proto . th dport vmap @service-ips
            	}

            	chain service-2FHNLMWZ-shop/web/tcp/https {
            		ip saddr . numgen random mod 1 offset 3735928559 @client-affinity goto endpoint-H2O5H4NC-shop/web/tcp/https__10.244.0.31/8443
            		ip saddr . numgen random mod 1 offset 3735928560 @client-affinity goto endpoint-IXTNODKI-shop/web/tcp/https__10.244.1.32/8443
            		numgen random mod 2 vmap { 0 : goto endpoint-H2O5H4NC-shop/web/tcp/https__10.244.0.31/8443, 1 : goto endpoint-IXTNODKI-shop/web/tcp/https__10.244.1.32/8443 }
            	}

            	chain service-7QLPZC4M-shop/db/tcp/pg {
            		ip saddr . numgen random mod 1 offset 7 @client-affinity goto endpoint-QPALKZTE-shop/db/tcp/pg__10.244.1.33/5432
            		goto endpoint-QPALKZTE-shop/db/tcp/pg__10.244.1.33/5432
            	}

            	chain endpoint-H2O5H4NC-shop/web/tcp/https__10.244.0.31/8443 {
            		update @client-affinity { ip saddr . numgen random mod 1 offset 3735928559 timeout 10m }
            		meta l4proto tcp dnat to 10.244.0.31:8443
            	}

            	chain endpoint-IXTNODKI-shop/web/tcp/https__10.244.1.32/8443 {
            		update @client-affinity { ip saddr . numgen random mod 1 offset 3735928560 timeout 10m }
            		meta l4proto tcp dnat to 10.244.1.32:8443
            	}

            	chain endpoint-QPALKZTE-shop/db/tcp/pg__10.244.1.33/5432 {
            		update @client-affinity { ip saddr . numgen random mod 1 offset 7 timeout 3h }
            		meta l4proto tcp dnat to 10.244.1.33:5432
            	}
            }
            """;

    private static final Packet WEB = Packet.of("203.0.113.7", "10.96.0.20", 443, Protocol.TCP, Origin.EXTERNAL);
    private static final Packet DB_PACKET = Packet.of("10.244.0.9", "10.96.0.30", 5432, Protocol.TCP, Origin.POD);

    @ParameterizedTest
    @ValueSource(strings = {"old script", "new script", "new listing"})
    void eachEndpointsAffinityCheckIsReportedWithItsTimeoutAndEndpoint(String shape) throws Exception {
        NftablesServiceRuleset rules = rules(shape, text(shape));

        Trace web = rules.trace(WEB);
        Trace db = rules.trace(DB_PACKET);

        assertThat(web.endpoints()).containsExactly(new EndpointShare("10.244.0.31:8443", 0.5, false),
                new EndpointShare("10.244.1.32:8443", 0.5, false));
        assertThat(web.affinity()).extracting(Affinity::seconds, Affinity::target, Affinity::endpoint)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(600L, WEB_A, "10.244.0.31:8443"),
                        org.assertj.core.groups.Tuple.tuple(600L, WEB_B, "10.244.1.32:8443"));
        assertThat(db.affinity()).extracting(Affinity::seconds, Affinity::target, Affinity::endpoint)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(10800L, DB, "10.244.1.33:5432"));
        assertThat(List.of(web, db)).allSatisfy(t -> assertThat(t.unevaluated()).isEmpty());
    }

    @Test
    void theSharedSetIsNamedInTheCheckAndTheTraceExplainsIt() throws Exception {
        for (String shape : List.of("new script", "new listing")) {
            Trace web = rules(shape, text(shape)).trace(WEB);

            assertThat(web.affinity()).as(shape).extracting(Affinity::list).containsOnly("client-affinity");
            assertThat(web.path()).as(shape).filteredOn(s -> s.rule().contains("@client-affinity goto"))
                    .extracting(Step::result, Step::why).containsExactly(
                            org.assertj.core.groups.Tuple.tuple(Step.Result.NO_MATCH, "session affinity: assuming "
                                    + "this client has no entry in @client-affinity (a client seen within 600 s would "
                                    + "go to " + WEB_A + ", 10.244.0.31:8443)"),
                            org.assertj.core.groups.Tuple.tuple(Step.Result.NO_MATCH, "session affinity: assuming "
                                    + "this client has no entry in @client-affinity (a client seen within 600 s would "
                                    + "go to " + WEB_B + ", 10.244.1.32:8443)"));
        }
    }

    @Test
    void theOldShapesPerEndpointSetsAreNamedInTheirChecks() throws Exception {
        Trace web = rules("old script", OLD_SCRIPT).trace(WEB);

        assertThat(web.affinity()).extracting(Affinity::list).containsExactly(
                "affinity-H2O5H4NC-shop/web/tcp/https__10.244.0.31/8443",
                "affinity-IXTNODKI-shop/web/tcp/https__10.244.1.32/8443");
    }

    @ParameterizedTest
    @ValueSource(strings = {"new script", "new listing"})
    void bothShapesOfTheSameServicesMeanTheSame(String shape) throws Exception {
        RulesetDiff.Report report = RulesetDiff.compare(rules("old script", OLD_SCRIPT), rules(shape, text(shape)),
                SETTINGS);

        DiffReports.assertSameMeaning(report);
        assertThat(report.frontends()).extracting(f -> f.frontend().describe())
                .containsExactlyInAnyOrder("10.96.0.20:443/tcp", "10.96.0.30:5432/tcp");
    }

    @Test
    void theNewScriptAndItsListingMeanTheSame() throws Exception {
        DiffReports.assertSameMeaning(RulesetDiff.compare(rules("new script", NEW_SCRIPT),
                rules("new listing", NEW_LISTING), SETTINGS));
    }

    @Test
    void anotherTimeoutInAnEndpointsUpdateIsAnAffinityDifference() throws Exception {
        String listing = NEW_LISTING.replace("offset 3735928560 timeout 10m }", "offset 3735928560 timeout 1h30m }");
        assertThat(listing).isNotEqualTo(NEW_LISTING);
        String script = NEW_SCRIPT.replace("offset 7 timeout 10800s }", "offset 7 timeout 1d }");
        assertThat(script).isNotEqualTo(NEW_SCRIPT);

        RulesetDiff.Report web = RulesetDiff.compare(rules("old script", OLD_SCRIPT), rules("edited", listing),
                SETTINGS);
        RulesetDiff.Report db = RulesetDiff.compare(rules("old script", OLD_SCRIPT), rules("edited", script),
                SETTINGS);

        assertThat(DiffReports.frontendsDiffering(web)).containsExactly("10.96.0.20:443/tcp");
        RulesetDiff.Difference webDifference = DiffReports.difference(web, "10.96.0.20:443/tcp", "affinity");
        assertThat(webDifference.a()).isEqualTo("ClientIP 600 s -> 10.244.0.31:8443, 600 s -> 10.244.1.32:8443");
        assertThat(webDifference.b()).isEqualTo("ClientIP 5400 s -> 10.244.1.32:8443, 600 s -> 10.244.0.31:8443");
        assertThat(DiffReports.frontendsDiffering(db)).containsExactly("10.96.0.30:5432/tcp");
        assertThat(DiffReports.difference(db, "10.96.0.30:5432/tcp", "affinity").b())
                .isEqualTo("ClientIP 86400 s -> 10.244.1.33:5432");
    }

    @Test
    void anotherTimeoutInTheOldShapesSetIsAnAffinityDifference() throws Exception {
        String old = OLD_SCRIPT.replace("pg__10.244.1.33/5432 { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s",
                "pg__10.244.1.33/5432 { type ipv4_addr ; flags dynamic,timeout ; timeout 10799s");
        assertThat(old).isNotEqualTo(OLD_SCRIPT);

        RulesetDiff.Report report = RulesetDiff.compare(rules("edited", old), rules("new listing", NEW_LISTING),
                SETTINGS);

        assertThat(DiffReports.frontendsDiffering(report)).containsExactly("10.96.0.30:5432/tcp");
        RulesetDiff.Difference difference = DiffReports.difference(report, "10.96.0.30:5432/tcp", "affinity");
        assertThat(difference.a()).isEqualTo("ClientIP 10799 s -> 10.244.1.33:5432");
        assertThat(difference.b()).isEqualTo("ClientIP 10800 s -> 10.244.1.33:5432");
    }

    @Test
    void withoutATimeoutInTheUpdateTheSetsDefaultHolds() throws Exception {
        String script = NEW_SCRIPT.replace("flags dynamic,timeout ; size 1048576 ;",
                "flags dynamic,timeout ; size 1048576 ; timeout 3h ;").replace(" timeout 600s }", " }");
        String listing = NEW_LISTING.replace("\t\tflags dynamic,timeout\n", "\t\tflags dynamic,timeout\n\t\ttimeout 3h\n")
                .replace(" timeout 10m }", " }");
        assertThat(script).isNotEqualTo(NEW_SCRIPT);
        assertThat(listing).isNotEqualTo(NEW_LISTING);

        for (NftablesServiceRuleset rules : List.of(rules("script", script), rules("listing", listing))) {
            assertThat(rules.ruleset().tables().get(0).containers().get("client-affinity").timeoutSeconds())
                    .isEqualTo(10800);
            assertThat(rules.trace(WEB).affinity()).as(rules.description()).extracting(Affinity::seconds)
                    .containsExactly(10800L, 10800L);
            assertThat(rules.trace(DB_PACKET).affinity()).extracting(Affinity::seconds).containsExactly(10800L);
        }
    }

    @Test
    void anUpdateOfAnotherKeyDoesNotGiveTheCheckItsTimeout() throws Exception {
        // The endpoint chain refreshes offset 8, not the 7 the check looks up: the check's entry never gets the
        // update's timeout, so the set's default (none here) is what the check has.
        String listing = NEW_LISTING.replace("update @client-affinity { ip saddr . numgen random mod 1 offset 7 ",
                "update @client-affinity { ip saddr . numgen random mod 1 offset 8 ");
        assertThat(listing).isNotEqualTo(NEW_LISTING);

        Trace db = rules("listing", listing).trace(DB_PACKET);

        assertThat(db.affinity()).extracting(Affinity::seconds, Affinity::endpoint)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(0L, "10.244.1.33:5432"));
        assertThat(db.path()).extracting(Step::why).contains("session affinity: assuming this client has no entry "
                + "in @client-affinity (a client seen before would go to " + DB + ", 10.244.1.33:5432)");
    }

    @Test
    void aRandomNumgenInTheKeyIsNotAnAffinityCheck() throws Exception {
        String listing = NEW_LISTING.replace("ip saddr . numgen random mod 1 offset 7 @client-affinity",
                "ip saddr . numgen random mod 2 offset 7 @client-affinity");
        assertThat(listing).isNotEqualTo(NEW_LISTING);

        Trace db = rules("listing", listing).trace(DB_PACKET);

        assertThat(db.affinity()).isEmpty();
        assertThat(db.endpoints()).containsExactly(new EndpointShare("10.244.1.33:5432", 1.0, false));
        assertThat(db.path()).filteredOn(s -> s.rule().contains("mod 2 offset 7 @client-affinity"))
                .extracting(Step::result).containsExactly(Step.Result.NO_MATCH);
    }

    @Test
    void anIpv6TablesSharedSetIsReadTheSameWay() throws Exception {
        NftablesServiceRuleset rules = NftablesServiceRuleset.fromText("v6", "v6", """
                table ip6 kube-proxy {
                	set client-affinity {
                		typeof ip6 saddr . numgen random mod 1
                		size 1048576
                		flags dynamic,timeout
                	}

                	chain nat-prerouting {
                		type nat hook prerouting priority dstnat; policy accept;
                		ip6 daddr fd00:96::20 tcp dport 443 goto service-2FHNLMWZ-shop/web/tcp/https
                	}

                	chain service-2FHNLMWZ-shop/web/tcp/https {
                		ip6 saddr . numgen random mod 1 offset 12 @client-affinity goto endpoint-AAAAAAAA-shop/web/tcp/https__fd00:244::31/8443
                		goto endpoint-AAAAAAAA-shop/web/tcp/https__fd00:244::31/8443
                	}

                	chain endpoint-AAAAAAAA-shop/web/tcp/https__fd00:244::31/8443 {
                		update @client-affinity { ip6 saddr . numgen random mod 1 offset 12 timeout 1d1h1m1s }
                		meta l4proto tcp dnat to [fd00:244::31]:8443
                	}
                }
                """, LocalAddresses.of(List.of("fd00:10::11")));

        Trace trace = rules.trace(Packet.of("2001:db8::7", "fd00:96::20", 443, Protocol.TCP, Origin.EXTERNAL));

        assertThat(trace.endpoints()).extracting(EndpointShare::address).containsExactly("[fd00:244::31]:8443");
        assertThat(trace.affinity()).extracting(Affinity::list, Affinity::seconds, Affinity::endpoint)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("client-affinity", 90061L,
                        "[fd00:244::31]:8443"));
    }

    @Test
    void theUpdateStatementKeepsItsKeyAndTimeoutInEitherSpelling() {
        Statement.Observe listed = (Statement.Observe) NftRuleParser.parse("update @client-affinity { ip saddr . "
                + "numgen random mod 1 offset 3735928559 timeout 1h30m }", "test").statements().get(0);
        Statement.Observe old = (Statement.Observe) NftRuleParser.parse("update @affinity-X { ip saddr }", "test")
                .statements().get(0);
        Statement.Observe counted = (Statement.Observe) NftRuleParser.parse("update @s { ip saddr counter } accept",
                "test").statements().get(0);

        assertThat(listed.set()).isEqualTo("client-affinity");
        assertThat(listed.timeoutSeconds()).isEqualTo(5400);
        assertThat(listed.key()).extracting(Selector::kind).containsExactly(Selector.Kind.SADDR,
                Selector.Kind.NUMGEN);
        assertThat(listed.key().get(1).offset()).isEqualTo(3735928559L);
        assertThat(old.key()).extracting(Selector::kind).containsExactly(Selector.Kind.SADDR);
        assertThat(old.timeoutSeconds()).isZero();
        assertThat(counted.key()).as("a key with more than a timeout after it is not read").isNull();
        assertThat(NftRuleParser.parse("update @s { ip saddr counter } accept", "test").statements())
                .as("and the rule goes on after the braces").hasSize(2);
    }

    @Test
    void aSharedSetsScriptDeclarationIsReadAsNftTakesIt() {
        assertThat(NftScriptReader.setForModel("add set ip kube-proxy client-affinity { typeof ip saddr . numgen "
                + "random mod 1 ; flags dynamic,timeout ; size 1048576 ; timeout 10m ; comment \"a; b\" ; }"))
                .isEqualTo("add set ip kube-proxy client-affinity { type ip saddr . numgen random mod 1 ; flags "
                        + "dynamic,timeout ; timeout 600s ; comment \"a; b\" ; }");
        String model = "add set ip kube-proxy affinity-X { type ipv4_addr ; flags dynamic,timeout ; timeout 600s ; }";
        assertThat(NftScriptReader.setForModel(model)).isEqualTo(model);
    }

    @Test
    @RequiresPrivileges(commands = {"nft", "ip"})
    void nftListsTheNewScriptAsTheHandWrittenListingReads() throws Exception {
        String listing = NftListing.afterLoading(NEW_SCRIPT);
        assertThat(listing).contains("typeof ip saddr . numgen random mod 1", "offset 3735928559 timeout 10m }",
                "offset 7 timeout 3h }");

        NftablesServiceRuleset listed = rules("nft list ruleset", listing);

        DiffReports.assertSameMeaning(RulesetDiff.compare(listed, rules("new listing", NEW_LISTING), SETTINGS));
        DiffReports.assertSameMeaning(RulesetDiff.compare(listed, rules("old script", OLD_SCRIPT), SETTINGS));
        assertThat(listed.trace(WEB).affinity()).isEqualTo(rules("new listing", NEW_LISTING).trace(WEB).affinity());
    }

    // ---------------------------------------------------------------------------------------------------------

    private static String text(String shape) {
        return switch (shape) {
            case "old script" -> OLD_SCRIPT;
            case "new script" -> NEW_SCRIPT;
            case "new listing" -> NEW_LISTING;
            default -> throw new IllegalArgumentException(shape);
        };
    }

    private static NftablesServiceRuleset rules(String description, String text) throws Exception {
        return NftablesServiceRuleset.fromText(description, description, text, NODE_A);
    }
}
