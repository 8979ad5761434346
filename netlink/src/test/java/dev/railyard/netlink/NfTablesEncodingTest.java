package dev.railyard.netlink;

import static dev.railyard.netlink.Family.IP;
import static dev.railyard.netlink.Family.IP6;

import dev.railyard.netlink.Expr.CmpOp;
import dev.railyard.testkit.RequiresPrivileges;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every object and expression written through netlink reads back in {@code nft list} as nft's own text does. */
@RequiresPrivileges(commands = {"nft", "ip"})
class NfTablesEncodingTest {

    private static NftOracle oracle;

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
    void empty() {
        oracle.reset();
    }

    private static NfTablesBatch table() {
        return new NfTablesBatch().addTable(IP, "t", null);
    }

    @Test
    void tableWithComment() {
        oracle.assertSame(new NfTablesBatch().addTable(IP, "kube-proxy", "rules for kube-proxy")
                        .addTable(IP6, "kube-proxy", "rules for kube-proxy"),
                """
                add table ip kube-proxy { comment "rules for kube-proxy" ; }
                add table ip6 kube-proxy { comment "rules for kube-proxy" ; }
                """);
    }

    @Test
    void regularAndBaseChains() {
        NfTablesBatch batch = new NfTablesBatch().addTable(IP, "kube-proxy", "rules for kube-proxy")
                .addChain(IP, "kube-proxy", "services", null)
                .addChain(IP, "kube-proxy", "reject-chain", "helper for @no-endpoint-services / @no-endpoint-nodeports")
                .addBaseChain(IP, "kube-proxy", "filter-prerouting-pre-dnat", ChainType.FILTER, Hook.PREROUTING, -110, null)
                .addBaseChain(IP, "kube-proxy", "filter-output-pre-dnat", ChainType.FILTER, Hook.OUTPUT, -110, null)
                .addBaseChain(IP, "kube-proxy", "filter-forward", ChainType.FILTER, Hook.FORWARD, 0, null)
                .addBaseChain(IP, "kube-proxy", "filter-input", ChainType.FILTER, Hook.INPUT, 0, null)
                .addBaseChain(IP, "kube-proxy", "filter-output", ChainType.FILTER, Hook.OUTPUT, 0, null)
                .addBaseChain(IP, "kube-proxy", "nat-output", ChainType.NAT, Hook.OUTPUT, -100, null)
                .addBaseChain(IP, "kube-proxy", "nat-postrouting", ChainType.NAT, Hook.POSTROUTING, 100, null)
                .addBaseChain(IP, "kube-proxy", "nat-prerouting", ChainType.NAT, Hook.PREROUTING, -100, "dnat here");
        oracle.assertSame(batch, """
                add table ip kube-proxy { comment "rules for kube-proxy" ; }
                add chain ip kube-proxy services
                add chain ip kube-proxy reject-chain { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }
                add chain ip kube-proxy filter-prerouting-pre-dnat { type filter hook prerouting priority -110 ; }
                add chain ip kube-proxy filter-output-pre-dnat { type filter hook output priority -110 ; }
                add chain ip kube-proxy filter-forward { type filter hook forward priority 0 ; }
                add chain ip kube-proxy filter-input { type filter hook input priority 0 ; }
                add chain ip kube-proxy filter-output { type filter hook output priority 0 ; }
                add chain ip kube-proxy nat-output { type nat hook output priority -100 ; }
                add chain ip kube-proxy nat-postrouting { type nat hook postrouting priority 100 ; }
                add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; comment "dnat here" ; }
                """);
    }

    @Test
    void setsAndMapsOfEveryKubeProxyType() {
        NfTablesBatch batch = table()
                .addSet(IP, "t", SetSpec.set("cluster-ips").key(DataType.IPV4_ADDR).comment("Active ClusterIPs").build())
                .addSet(IP, "t", SetSpec.set("nodeport-ips").key(DataType.IPV4_ADDR).comment("IPs that accept NodePort traffic").build())
                .addSet(IP, "t", SetSpec.map("service-ips").key(DataType.IPV4_ADDR, DataType.INET_PROTO, DataType.INET_SERVICE)
                        .data(DataType.VERDICT).comment("ClusterIP, ExternalIP and LoadBalancer IP traffic").build())
                .addSet(IP, "t", SetSpec.map("service-nodeports").key(DataType.INET_PROTO, DataType.INET_SERVICE)
                        .data(DataType.VERDICT).comment("NodePort traffic").build())
                .addSet(IP, "t", SetSpec.set("affinity-x").key(DataType.IPV4_ADDR)
                        .flags(SetSpec.Flag.DYNAMIC).timeout(Duration.ofSeconds(10800)).build())
                .addSet(IP, "t", SetSpec.set("cidrs").key(DataType.IPV4_ADDR).flags(SetSpec.Flag.INTERVAL).build())
                .addSet(IP, "t", SetSpec.set("ranges").key(DataType.IPV4_ADDR, DataType.INET_SERVICE).flags(SetSpec.Flag.INTERVAL).build())
                .addSet(IP, "t", SetSpec.set("marks").key(DataType.MARK).build())
                .addSet(IP, "t", SetSpec.map("ip-vmap").key(DataType.IPV4_ADDR).data(DataType.VERDICT).build())
                .addSet(IP, "t", SetSpec.map("backends").keyTypeof(TypeOf.numgenRandom(1))
                        .dataTypeof(TypeOf.concat(TypeOf.field(Field.IP_DADDR), TypeOf.field(Field.TH_DPORT))).build())
                .addTable(IP6, "t6", null)
                .addSet(IP6, "t6", SetSpec.set("cluster-ips").key(DataType.IPV6_ADDR).comment("Active ClusterIPs").build())
                .addSet(IP6, "t6", SetSpec.map("service-ips").key(DataType.IPV6_ADDR, DataType.INET_PROTO, DataType.INET_SERVICE)
                        .data(DataType.VERDICT).build())
                .addSet(IP6, "t6", SetSpec.map("backends").keyTypeof(TypeOf.numgenRandom(1))
                        .dataTypeof(TypeOf.concat(TypeOf.field(Field.IP6_DADDR), TypeOf.field(Field.TCP_DPORT))).build());
        oracle.assertSame(batch, """
                add table ip t
                add set ip t cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }
                add set ip t nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }
                add map ip t service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }
                add map ip t service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }
                add set ip t affinity-x { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; }
                add set ip t cidrs { type ipv4_addr ; flags interval ; }
                add set ip t ranges { type ipv4_addr . inet_service ; flags interval ; }
                add set ip t marks { type mark ; }
                add map ip t ip-vmap { type ipv4_addr : verdict ; }
                add map ip t backends { typeof numgen random mod 1 : ip daddr . th dport ; }
                add table ip6 t6
                add set ip6 t6 cluster-ips { type ipv6_addr ; comment "Active ClusterIPs" ; }
                add map ip6 t6 service-ips { type ipv6_addr . inet_proto . inet_service : verdict ; }
                add map ip6 t6 backends { typeof numgen random mod 1 : ip6 daddr . tcp dport ; }
                """);
    }

    @Test
    void elementsWithConcatenationsVerdictsDataAndComments() {
        NfTablesBatch batch = table()
                .addChain(IP, "t", "service-x", null)
                .addChain(IP, "t", "reject-chain", null)
                .addSet(IP, "t", SetSpec.set("cluster-ips").key(DataType.IPV4_ADDR).build())
                .addSet(IP, "t", SetSpec.map("service-ips").key(DataType.IPV4_ADDR, DataType.INET_PROTO, DataType.INET_SERVICE)
                        .data(DataType.VERDICT).build())
                .addSet(IP, "t", SetSpec.map("no-endpoint-nodeports").key(DataType.INET_PROTO, DataType.INET_SERVICE)
                        .data(DataType.VERDICT).build())
                .addSet(IP, "t", SetSpec.set("cidrs").key(DataType.IPV4_ADDR).flags(SetSpec.Flag.INTERVAL).build())
                .addSet(IP, "t", SetSpec.map("backends").keyTypeof(TypeOf.numgenRandom(1))
                        .dataTypeof(TypeOf.concat(TypeOf.field(Field.IP_DADDR), TypeOf.field(Field.TH_DPORT))).build())
                .addElements(IP, "t", "cluster-ips", List.of(
                        SetElement.of(Values.ipv4("172.30.0.41")),
                        SetElement.of(Values.ipv4("172.30.0.42")).withComment("ns2/svc2")))
                .addElements(IP, "t", "service-ips", List.of(
                        SetElement.of(Values.ipv4("172.30.0.41"), Values.inetProto(Values.TCP), Values.inetService(80))
                                .mapsTo(Verdict.goTo("service-x")),
                        SetElement.of(Values.ipv4("172.30.0.46"), Values.inetProto(Values.TCP), Values.inetService(80))
                                .withComment("ns6/svc6:p80").mapsTo(Verdict.goTo("reject-chain"))))
                .addElements(IP, "t", "no-endpoint-nodeports", List.of(
                        SetElement.of(Values.inetProto(Values.TCP), Values.inetService(3001)).withComment("ns2/svc2:p80")
                                .mapsTo(Verdict.DROP),
                        SetElement.of(Values.inetProto(Values.UDP), Values.inetService(53)).mapsTo(Verdict.ACCEPT)))
                .addElements(IP, "t", "cidrs", Intervals.forAdd(List.of(Prefix.parse("10.0.0.0/8"),
                        Prefix.parse("192.168.0.0/16"), Prefix.parse("192.169.0.0/16"))))
                .addElements(IP, "t", "backends", List.of(
                        SetElement.of(Values.u32Host(0)).mapsTo(Values.ipv4("10.180.0.1"), Values.inetService(80)),
                        SetElement.of(Values.u32Host(1)).mapsTo(Values.ipv4("10.180.0.2"), Values.inetService(8080))));
        oracle.assertSame(batch, """
                add table ip t
                add chain ip t service-x
                add chain ip t reject-chain
                add set ip t cluster-ips { type ipv4_addr ; }
                add map ip t service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; }
                add map ip t no-endpoint-nodeports { type inet_proto . inet_service : verdict ; }
                add set ip t cidrs { type ipv4_addr ; flags interval ; }
                add map ip t backends { typeof numgen random mod 1 : ip daddr . th dport ; }
                add element ip t cluster-ips { 172.30.0.41 , 172.30.0.42 comment "ns2/svc2" }
                add element ip t service-ips { 172.30.0.41 . tcp . 80 : goto service-x }
                add element ip t service-ips { 172.30.0.46 . tcp . 80 comment "ns6/svc6:p80" : goto reject-chain }
                add element ip t no-endpoint-nodeports { tcp . 3001 comment "ns2/svc2:p80" : drop , udp . 53 : accept }
                add element ip t cidrs { 10.0.0.0/8 , 192.168.0.0/16 , 192.169.0.0/16 }
                add element ip t backends { 0 : 10.180.0.1 . 80 , 1 : 10.180.0.2 . 8080 }
                """);
    }

    @Test
    void deleteAndFlushOperations() {
        oracle.commitOk(table()
                .addChain(IP, "t", "keep", null)
                .addChain(IP, "t", "gone", null)
                .addSet(IP, "t", SetSpec.set("s").key(DataType.IPV4_ADDR).build())
                .addSet(IP, "t", SetSpec.set("flushed").key(DataType.IPV4_ADDR).build())
                .addSet(IP, "t", SetSpec.set("dropped").key(DataType.IPV4_ADDR).build())
                .addSet(IP, "t", SetSpec.set("cidrs").key(DataType.IPV4_ADDR).flags(SetSpec.Flag.INTERVAL).build())
                .addElements(IP, "t", "cidrs", Intervals.forAdd(List.of(Prefix.parse("10.0.0.0/8"), Prefix.parse("192.168.0.0/16"))))
                .addElements(IP, "t", "cidrs", Intervals.forAdd(List.of(Prefix.parse("172.16.0.0/12"))))
                .addElements(IP, "t", "s", List.of(SetElement.of(Values.ipv4("1.1.1.1")), SetElement.of(Values.ipv4("2.2.2.2"))))
                .addElements(IP, "t", "flushed", List.of(SetElement.of(Values.ipv4("3.3.3.3"))))
                .addRule(IP, "t", "keep", Rule.builder().counter().accept().build())
                .addRule(IP, "t", "keep", Rule.builder().drop().build())
                .addTable(IP, "other", null));
        oracle.assertSame(new NfTablesBatch()
                        .flushChain(IP, "t", "keep")
                        .deleteChain(IP, "t", "gone")
                        .deleteElements(IP, "t", "s", List.of(SetElement.of(Values.ipv4("1.1.1.1"))))
                        .flushSet(IP, "t", "flushed")
                        .deleteSet(IP, "t", "dropped")
                        .deleteTable(IP, "other")
                        .deleteElements(IP, "t", "cidrs", Intervals.forDelete(List.of(Prefix.parse("10.0.0.0/8")))),
                """
                add table ip t
                add chain ip t keep
                add set ip t s { type ipv4_addr ; }
                add set ip t flushed { type ipv4_addr ; }
                add set ip t cidrs { type ipv4_addr ; flags interval ; }
                add element ip t s { 2.2.2.2 }
                add element ip t cidrs { 172.16.0.0/12, 192.168.0.0/16 }
                """);
    }

    /** The kube-proxy rules of the fact sheet §1-§4, each compiled by Rule.Builder, against nft's own. */
    @Test
    void kubeProxyRules() {
        String t = "kube-proxy";
        NfTablesBatch batch = new NfTablesBatch().addTable(IP, t, "rules for kube-proxy");
        StringBuilder script = new StringBuilder("add table ip kube-proxy { comment \"rules for kube-proxy\" ; }\n");
        for (String chain : List.of("cluster-ips-check", "firewall-check", "mark-for-masquerade", "masquerading",
                "nodeport-endpoints-check", "reject-chain", "services", "service-endpoints-check",
                "service-x", "endpoint-a", "endpoint-b", "external-x", "firewall-x", "nodeport-all")) {
            batch.addChain(IP, t, chain, null);
            script.append("add chain ip kube-proxy ").append(chain).append('\n');
        }
        batch.addBaseChain(IP, t, "filter-input", ChainType.FILTER, Hook.INPUT, 0, null)
                .addBaseChain(IP, t, "nat-prerouting", ChainType.NAT, Hook.PREROUTING, -100, null)
                .addBaseChain(IP, t, "nat-postrouting", ChainType.NAT, Hook.POSTROUTING, 100, null);
        script.append("""
                add chain ip kube-proxy filter-input { type filter hook input priority 0 ; }
                add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }
                add chain ip kube-proxy nat-postrouting { type nat hook postrouting priority 100 ; }
                add set ip kube-proxy cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }
                add set ip kube-proxy nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }
                add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }
                add map ip kube-proxy service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }
                add set ip kube-proxy affinity-x { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; }
                add map ip kube-proxy backends { typeof numgen random mod 1 : ip daddr . th dport ; }
                """);
        batch.addSet(IP, t, SetSpec.set("cluster-ips").key(DataType.IPV4_ADDR).comment("Active ClusterIPs").build())
                .addSet(IP, t, SetSpec.set("nodeport-ips").key(DataType.IPV4_ADDR).comment("IPs that accept NodePort traffic").build())
                .addSet(IP, t, SetSpec.map("service-ips").key(DataType.IPV4_ADDR, DataType.INET_PROTO, DataType.INET_SERVICE)
                        .data(DataType.VERDICT).comment("ClusterIP, ExternalIP and LoadBalancer IP traffic").build())
                .addSet(IP, t, SetSpec.map("service-nodeports").key(DataType.INET_PROTO, DataType.INET_SERVICE)
                        .data(DataType.VERDICT).comment("NodePort traffic").build())
                .addSet(IP, t, SetSpec.set("affinity-x").key(DataType.IPV4_ADDR).flags(SetSpec.Flag.DYNAMIC)
                        .timeout(Duration.ofSeconds(10800)).build())
                .addSet(IP, t, SetSpec.map("backends").keyTypeof(TypeOf.numgenRandom(1))
                        .dataTypeof(TypeOf.concat(TypeOf.field(Field.IP_DADDR), TypeOf.field(Field.TH_DPORT))).build());

        rule(batch, script, "filter-input", Rule.builder().ctState(Expr.CT_STATE_NEW).jump("nodeport-endpoints-check").build(),
                "ct state new jump nodeport-endpoints-check");
        rule(batch, script, "services", Rule.builder()
                        .verdictMap("service-ips", Field.IP_DADDR, Field.META_L4PROTO, Field.TH_DPORT).build(),
                "ip daddr . meta l4proto . th dport vmap @service-ips");
        rule(batch, script, "services", Rule.builder().inSet("nodeport-ips", Field.IP_DADDR)
                        .verdictMap("service-nodeports", Field.META_L4PROTO, Field.TH_DPORT).build(),
                "ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports");
        rule(batch, script, "nodeport-all", Rule.builder().fibAddressType(true, Expr.RTN_LOCAL)
                        .matchPrefix(Field.IP_DADDR, CmpOp.NEQ, Prefix.parse("127.0.0.0/8"))
                        .verdictMap("service-nodeports", Field.META_L4PROTO, Field.TH_DPORT).build(),
                "fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports");
        rule(batch, script, "cluster-ips-check", Rule.builder().inSet("cluster-ips", Field.IP_DADDR).reject(IP)
                        .comment("Reject traffic to invalid ports of ClusterIPs").build(),
                "ip daddr @cluster-ips reject comment \"Reject traffic to invalid ports of ClusterIPs\"");
        rule(batch, script, "cluster-ips-check", Rule.builder()
                        .matchPrefix(Field.IP_DADDR, CmpOp.EQ, Prefix.parse("172.30.0.0/16")).drop()
                        .comment("Drop traffic to unallocated ClusterIPs").build(),
                "ip daddr { 172.30.0.0/16 } drop comment \"Drop traffic to unallocated ClusterIPs\"");
        rule(batch, script, "cluster-ips-check", Rule.builder()
                        .inPrefixes(Field.IP_DADDR, false, List.of(Prefix.parse("172.30.0.0/16"), Prefix.parse("10.96.0.0/12"))).drop().build(),
                "ip daddr { 172.30.0.0/16 , 10.96.0.0/12 } drop");
        rule(batch, script, "reject-chain", Rule.builder().reject(IP).build(), "reject");
        rule(batch, script, "cluster-ips-check", Rule.builder().notInSet("cluster-ips", Field.IP_DADDR).accept().build(),
                "ip daddr != @cluster-ips accept");
        rule(batch, script, "masquerading", Rule.builder().markAnd(0x4000, CmpOp.EQ, 0).returnFromChain().build(),
                "mark and 0x4000 == 0 return");
        rule(batch, script, "masquerading", Rule.builder().markSetXor(0x4000).build(), "mark set mark xor 0x4000");
        rule(batch, script, "masquerading", Rule.builder().masquerade(true).build(), "masquerade fully-random");
        rule(batch, script, "mark-for-masquerade", Rule.builder().markSetOr(0x4000).build(), "mark set mark or 0x4000");
        rule(batch, script, "service-x", Rule.builder().match(Field.IP_DADDR, Values.ipv4("172.30.0.41"))
                        .matchPrefix(Field.IP_SADDR, CmpOp.NEQ, Prefix.parse("10.0.0.0/8")).jump("mark-for-masquerade").build(),
                "ip daddr 172.30.0.41 ip saddr != 10.0.0.0/8 jump mark-for-masquerade");
        rule(batch, script, "service-x", Rule.builder().inSet("affinity-x", Field.IP_SADDR).goTo("endpoint-a").build(),
                "ip saddr @affinity-x goto endpoint-a");
        rule(batch, script, "service-x", Rule.builder()
                        .numgenRandomVerdictMap(List.of(Verdict.goTo("endpoint-a"), Verdict.goTo("endpoint-b"))).build(),
                "numgen random mod 2 vmap { 0 : goto endpoint-a , 1 : goto endpoint-b }");
        rule(batch, script, "endpoint-a", Rule.builder().match(Field.IP_SADDR, Values.ipv4("10.180.0.1"))
                        .jump("mark-for-masquerade").build(),
                "ip saddr 10.180.0.1 jump mark-for-masquerade");
        rule(batch, script, "endpoint-a", Rule.builder().updateSet("affinity-x", Field.IP_SADDR).build(),
                "update @affinity-x { ip saddr }");
        rule(batch, script, "nat-prerouting", Rule.builder().match(Field.META_L4PROTO, Values.inetProto(Values.TCP))
                        .dnat(IP, Values.ipv4("10.180.0.1"), 80).build(),
                "meta l4proto tcp dnat to 10.180.0.1:80");
        rule(batch, script, "nat-prerouting", Rule.builder().match(Field.META_L4PROTO, Values.inetProto(Values.TCP))
                        .dnatNumgenMap(IP, 3, "backends").build(),
                "meta l4proto tcp dnat ip addr . port to numgen random mod 3 map @backends");
        rule(batch, script, "firewall-x", Rule.builder()
                        .inPrefixes(Field.IP_SADDR, true, List.of(Prefix.parse("203.0.113.0/25"), Prefix.parse("198.51.100.0/24"))).drop().build(),
                "ip saddr != { 203.0.113.0/25 , 198.51.100.0/24 } drop");
        rule(batch, script, "firewall-x", Rule.builder()
                        .matchPrefix(Field.IP_SADDR, CmpOp.NEQ, Prefix.parse("203.0.113.0/25")).drop().build(),
                "ip saddr != { 203.0.113.0/25 } drop");
        rule(batch, script, "external-x", Rule.builder().matchPrefix(Field.IP_SADDR, CmpOp.EQ, Prefix.parse("10.0.0.0/8"))
                        .goTo("service-x").comment("short-circuit pod traffic").build(),
                "ip saddr 10.0.0.0/8 goto service-x comment \"short-circuit pod traffic\"");
        rule(batch, script, "external-x", Rule.builder().fibAddressType(false, Expr.RTN_LOCAL).jump("mark-for-masquerade")
                        .comment("masquerade local traffic").build(),
                "fib saddr type local jump mark-for-masquerade comment \"masquerade local traffic\"");
        rule(batch, script, "external-x", Rule.builder().counter().accept().build(), "counter accept");
        oracle.assertSame(batch, script.toString());
    }

    @Test
    void ipv6Rules() {
        NfTablesBatch batch = new NfTablesBatch().addTable(IP6, "kube-proxy", null)
                .addChain(IP6, "kube-proxy", "endpoint-a", null)
                .addChain(IP6, "kube-proxy", "mark-for-masquerade", null)
                .addChain(IP6, "kube-proxy", "reject-chain", null)
                .addSet(IP6, "kube-proxy", SetSpec.map("service-ips").key(DataType.IPV6_ADDR, DataType.INET_PROTO, DataType.INET_SERVICE)
                        .data(DataType.VERDICT).build())
                .addSet(IP6, "kube-proxy", SetSpec.map("backends").keyTypeof(TypeOf.numgenRandom(1))
                        .dataTypeof(TypeOf.concat(TypeOf.field(Field.IP6_DADDR), TypeOf.field(Field.TH_DPORT))).build())
                .addBaseChain(IP6, "kube-proxy", "nat-prerouting", ChainType.NAT, Hook.PREROUTING, -100, null);
        StringBuilder script = new StringBuilder("""
                add table ip6 kube-proxy
                add chain ip6 kube-proxy endpoint-a
                add chain ip6 kube-proxy mark-for-masquerade
                add chain ip6 kube-proxy reject-chain
                add map ip6 kube-proxy service-ips { type ipv6_addr . inet_proto . inet_service : verdict ; }
                add map ip6 kube-proxy backends { typeof numgen random mod 1 : ip6 daddr . th dport ; }
                add chain ip6 kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }
                """);
        batch.addElements(IP6, "kube-proxy", "service-ips", List.of(
                SetElement.of(Values.ipv6("fd00:172:30::41"), Values.inetProto(Values.TCP), Values.inetService(80))
                        .mapsTo(Verdict.goTo("endpoint-a"))));
        script.append("add element ip6 kube-proxy service-ips { fd00:172:30::41 . tcp . 80 : goto endpoint-a }\n");
        batch.addElements(IP6, "kube-proxy", "backends", List.of(
                SetElement.of(Values.u32Host(0)).mapsTo(Values.ipv6("fd00::1"), Values.inetService(80))));
        script.append("add element ip6 kube-proxy backends { 0 : fd00::1 . 80 }\n");
        rule6(batch, script, "endpoint-a", Rule.builder().match(Field.IP6_SADDR, Values.ipv6("fd00::1")).jump("mark-for-masquerade").build(),
                "ip6 saddr fd00::1 jump mark-for-masquerade");
        rule6(batch, script, "endpoint-a", Rule.builder().matchPrefix(Field.IP6_SADDR, CmpOp.NEQ, Prefix.parse("fd00::/64"))
                .jump("mark-for-masquerade").build(), "ip6 saddr != fd00::/64 jump mark-for-masquerade");
        rule6(batch, script, "endpoint-a", Rule.builder().matchPrefix(Field.IP6_DADDR, CmpOp.EQ, Prefix.parse("fd00::/60"))
                .accept().build(), "ip6 daddr fd00::/60 accept");
        rule6(batch, script, "reject-chain", Rule.builder().reject(IP6).build(), "reject");
        rule6(batch, script, "nat-prerouting", Rule.builder()
                .verdictMap("service-ips", Field.IP6_DADDR, Field.META_L4PROTO, Field.TH_DPORT).build(),
                "ip6 daddr . meta l4proto . th dport vmap @service-ips");
        rule6(batch, script, "nat-prerouting", Rule.builder().match(Field.META_L4PROTO, Values.inetProto(Values.TCP))
                .dnat(IP6, Values.ipv6("fd00::1"), 80).build(), "meta l4proto tcp dnat to [fd00::1]:80");
        rule6(batch, script, "nat-prerouting", Rule.builder().match(Field.META_L4PROTO, Values.inetProto(Values.TCP))
                .dnatNumgenMap(IP6, 2, "backends").build(), "meta l4proto tcp dnat ip6 addr . port to numgen random mod 2 map @backends");
        oracle.assertSame(batch, script.toString());
    }

    private static void rule(NfTablesBatch batch, StringBuilder script, String chain, Rule rule, String nftText) {
        batch.addRule(IP, "kube-proxy", chain, rule);
        script.append("add rule ip kube-proxy ").append(chain).append(' ').append(nftText).append('\n');
    }

    private static void rule6(NfTablesBatch batch, StringBuilder script, String chain, Rule rule, String nftText) {
        batch.addRule(IP6, "kube-proxy", chain, rule);
        script.append("add rule ip6 kube-proxy ").append(chain).append(' ').append(nftText).append('\n');
    }
}
