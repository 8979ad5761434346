package dev.railyard.nftables.netlink;

import dev.railyard.nftables.Chain;
import dev.railyard.nftables.Element;
import dev.railyard.nftables.Family;
import dev.railyard.nftables.NftMap;
import dev.railyard.nftables.NftSet;
import dev.railyard.nftables.Rule;
import dev.railyard.nftables.Table;
import dev.railyard.nftables.Transaction;
import dev.railyard.testkit.RequiresPrivileges;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every rule form and container form the proxy writes (kube-proxy's layout and the flat one), in both families,
 * applied through {@link NetlinkApplier} and through {@code nft -f}: nft must list the two alike, down to the
 * expressions and registers.
 */
@RequiresPrivileges(commands = {"nft", "ip"})
class GrammarKernelTest {
    private static TwoKernels kernels;

    @BeforeAll
    static void namespaces() {
        kernels = new TwoKernels();
    }

    @AfterAll
    static void cleanup() {
        if (kernels != null) {
            kernels.close();
        }
    }

    @BeforeEach
    void empty() {
        kernels.reset();
    }

    /** Family-specific words: {@code %ip}, {@code %addr}, {@code %a1}.. (addresses), {@code %net} (a prefix)... */
    private record Words(Family family, String ip, String type, String loopback, String a1, String a2, String a3,
                         String net8, String net12, String net16, String other, String single, String dnat) {
        String fill(String text) {
            return text.replace("%ip", ip).replace("%type", type).replace("%loopback", loopback)
                    .replace("%a1", a1).replace("%a2", a2).replace("%a3", a3).replace("%net8", net8)
                    .replace("%net12", net12).replace("%net16", net16).replace("%other", other)
                    .replace("%single", single).replace("%dnat", dnat);
        }
    }

    private static final Words IP = new Words(Family.IP, "ip", "ipv4_addr", "127.0.0.0/8", "172.30.0.41",
            "10.0.0.1", "10.0.0.2", "10.0.0.0/8", "10.96.0.0/12", "172.30.0.0/16", "10.100.0.0/16",
            "1.2.3.4", "10.0.0.1:80");
    private static final Words IP6 = new Words(Family.IP6, "ip6", "ipv6_addr", "::1", "fd00:30::41",
            "fd00::1", "fd00::2", "fd00::/8", "fd00:96::/108", "fd00:30::/64", "fd00:100::/64",
            "2001:db8::1:2", "[fd00::1]:80");

    /** The bodies of kube-proxy's layout (nft 1.0 syntax as the renderer writes it). */
    private static final List<String> KUBE_PROXY_RULES = List.of(
            "ct state new jump x",
            "jump x",
            "goto x",
            "%ip daddr . meta l4proto . th dport vmap @service-ips",
            "%ip daddr @cluster-ips meta l4proto . th dport vmap @service-nodeports",
            "%ip daddr != %loopback meta l4proto . th dport vmap @service-nodeports",
            "fib daddr type local %ip daddr != %loopback meta l4proto . th dport vmap @service-nodeports",
            "%ip daddr @cluster-ips reject",
            "%ip daddr { %net16 } drop",
            "%ip daddr { %net12 } drop",
            "%ip daddr { %net12,%other } drop",
            "%ip daddr { %net12,%other,%net8 } drop",
            "mark set mark or 0x4000",
            "mark and 0x4000 == 0 return",
            "mark set mark xor 0x4000",
            "mark set mark or 0x00004000",
            "mark and 0x00004000 == 0 return",
            "mark set mark xor 0x00004000",
            "masquerade fully-random",
            "masquerade",
            "reject",
            "%ip daddr %a1 %ip saddr != %net8 jump mark-for-masquerade",
            "%ip daddr %a1 %ip saddr != %net12 jump mark-for-masquerade",
            "%ip daddr %a1 jump mark-for-masquerade",
            "numgen random mod 2 vmap { 0 : goto x , 1 : goto endpoint-x }",
            "numgen random mod 1 vmap { 0 : goto endpoint-x }",
            "numgen random mod 3 vmap { 0 : goto x , 1 : jump endpoint-x , 2 : drop }",
            "%ip saddr %a2 jump mark-for-masquerade",
            "meta l4proto tcp dnat to %dnat",
            "meta l4proto udp dnat to %dnat",
            "meta l4proto sctp dnat to %dnat",
            "%ip saddr @affinity-x goto endpoint-x",
            "update @affinity-x { %ip saddr }",
            "%ip saddr != { %net16 , %single } drop",
            "%ip saddr != { %net16 } drop",
            "%ip saddr != { %net16 , %net8 , %a3 } drop",
            "%ip saddr { %net16 , %single } drop",
            "%ip saddr %net8 goto x",
            "fib saddr type local jump mark-for-masquerade",
            "fib saddr type local goto x");

    /** The bodies of the flat layout. */
    private static final List<String> FLAT_RULES = List.of(
            "%ip daddr %a1 %ip saddr != %net8 mark set mark or 0x4000",
            "%ip daddr %a1 mark set mark or 0x4000",
            "%ip saddr %a2 mark set mark or 0x4000",
            "fib saddr type local mark set mark or 0x4000",
            "meta l4proto tcp dnat %ip addr . port to numgen random mod 3 map @endpoints-x",
            "meta l4proto udp dnat %ip addr . port to numgen random mod 1 map @endpoints-x",
            "ct status dnat %ip saddr . %ip daddr @hairpin-ips mark set mark or 0x4000",
            "ct status dnat %ip saddr . %ip daddr @hairpin-ips mark set mark or 0x00004000",
            "numgen random mod 3 0 goto endpoint-x",
            "numgen random mod 2 0 goto x",
            "numgen random mod 4 != 0 goto x",
            "numgen random mod 5 offset 7 9 drop",
            "%ip saddr %net16 return",
            "%ip saddr %single return",
            "drop");

    private static Transaction containers(Words w) {
        Transaction tx = new Transaction(w.family(), "t");
        tx.add(new Table("rules for kube-proxy"));
        for (String chain : List.of("x", "endpoint-x", "mark-for-masquerade", "reject-chain", "kube", "flat")) {
            tx.add(Chain.named(chain));
        }
        tx.add(NftSet.of("cluster-ips", w.type(), "Active ClusterIPs"));
        tx.add(new NftSet("affinity-x", w.type(), List.of("dynamic", "timeout"), 10800, null));
        tx.add(NftSet.of("hairpin-ips", w.type() + " . " + w.type(), "pairs of endpoint addresses"));
        tx.add(NftSet.of("no-comment", w.type(), null));
        tx.add(NftMap.of("service-ips", w.type() + " . inet_proto . inet_service : verdict",
                "ClusterIP, ExternalIP and LoadBalancer IP traffic"));
        tx.add(NftMap.of("service-nodeports", "inet_proto . inet_service : verdict", "NodePort traffic"));
        tx.add(NftMap.typeOf("endpoints-x", "numgen random mod 1 : " + w.ip() + " daddr . th dport", null));
        tx.add(NftMap.typeOf("endpoints-y", "numgen random mod 1 : " + w.ip() + " daddr . th dport",
                "endpoints of y"));
        return tx;
    }

    private static void rules(Words w, Transaction tx) {
        for (String body : KUBE_PROXY_RULES) {
            tx.add(Rule.of("kube", w.fill(body)));
        }
        for (String body : FLAT_RULES) {
            tx.add(Rule.of("flat", w.fill(body)));
        }
        tx.add(new Rule("kube", w.fill("%ip daddr @cluster-ips reject"), "Reject traffic to invalid ports of ClusterIPs"));
        tx.add(new Rule("kube", "fib saddr type local jump mark-for-masquerade", "masquerade local traffic"));
        tx.insert(Rule.of("kube", "jump reject-chain"));
        tx.insert(new Rule("flat", w.fill("%ip saddr %a3 mark set mark or 0x4000"), "first"));
    }

    private static void elements(Words w, Transaction tx) {
        tx.add(Element.ofSet("cluster-ips", List.of(w.a1())));
        tx.add(new Element("cluster-ips", false, List.of(w.a2()), List.of(), "with a comment"));
        tx.add(Element.ofSet("hairpin-ips", List.of(w.a2(), w.a2())));
        tx.add(Element.ofSet("hairpin-ips", List.of(w.a3(), w.a3())));
        tx.add(Element.ofMap("service-ips", List.of(w.a1(), "tcp", "80"), "goto x", null));
        tx.add(Element.ofMap("service-ips", List.of(w.a1(), "udp", "53"), "goto reject-chain", "ns/svc:dns"));
        tx.add(Element.ofMap("service-ips", List.of(w.a2(), "sctp", "3868"), "drop", "ns/svc:sctp"));
        tx.add(Element.ofMap("service-ips", List.of(w.a3(), "tcp", "443"), "jump endpoint-x", null));
        tx.add(Element.ofMap("service-nodeports", List.of("tcp", "30080"), "goto x", null));
        tx.add(Element.ofMap("service-nodeports", List.of("udp", "30053"), "accept", "ns/svc:dns"));
        tx.add(Element.ofMap("service-nodeports", List.of("sctp", "65535"), "return", null));
        tx.add(new Element("endpoints-x", true, List.of("0"), List.of(w.a2(), "80"), null));
        tx.add(new Element("endpoints-x", true, List.of("1"), List.of(w.a3(), "8080"), "ns/pod-b"));
        tx.add(new Element("endpoints-x", true, List.of("2"), List.of(w.a1(), "65535"), null));
    }

    private void everyForm(Words w) throws Exception {
        Transaction tx = containers(w);
        rules(w, tx);
        elements(w, tx);
        kernels.assertSame(tx);

        // Then what a partial sync does to elements and chains of containers the transaction does not declare.
        Transaction partial = new Transaction(w.family(), "t")
                .delete(Element.keyOf("service-ips", List.of(w.a1(), "tcp", "80")))
                .add(Element.ofMap("service-ips", List.of(w.a1(), "tcp", "80"), "goto endpoint-x", "moved"))
                .delete(Element.keyOf("endpoints-x", List.of("1")))
                .add(new Element("endpoints-x", true, List.of("1"), List.of(w.a1(), "81"), null))
                .delete(Element.keyOf("hairpin-ips", List.of(w.a2(), w.a2())))
                .delete(Element.keyOf("service-nodeports", List.of("udp", "30053")))
                .flush(NftMap.named("endpoints-y"))
                .flush(Chain.named("flat"))
                .add(Rule.of("flat", w.fill("ct status dnat %ip saddr . %ip daddr @hairpin-ips mark set mark or 0x4000")))
                .delete(NftSet.named("no-comment"))
                .add(Element.ofSet("cluster-ips", List.of(w.a3())));
        kernels.assertSame(partial);
    }

    @Test
    void everyFormOfTheIpFamily() throws Exception {
        everyForm(IP);
    }

    @Test
    void everyFormOfTheIp6Family() throws Exception {
        everyForm(IP6);
    }

    /**
     * nft 1.0.6 refuses to add {@code meta l4proto tcp dnat ip addr . port to numgen ... map @m} once map m exists in
     * the kernel ("conflicting protocols specified: tcp vs. th": the typeof it reads back says th dport), so a later
     * transaction cannot rewrite such a rule with nft -f. Netlink can; the result is what nft writes when the map
     * is declared in the same script.
     */
    @Test
    void aFlatDnatRuleIsAddedLaterWhereNftCannot() throws Exception {
        for (Words w : List.of(IP, IP6)) {
            kernels.reset();
            Transaction first = containers(w);
            elements(w, first);
            Transaction later = new Transaction(w.family(), "t")
                    .add(Rule.of("flat", w.fill("meta l4proto tcp dnat %ip addr . port to numgen random mod 3 map @endpoints-x")))
                    .add(Rule.of("flat", w.fill("meta l4proto sctp dnat %ip addr . port to numgen random mod 1 map @endpoints-y")));
            kernels.netlink.apply(first);
            kernels.netlink.apply(later);
            kernels.nft.apply(new Transaction(w.family(), "t").addAll(first).addAll(later));
            kernels.assertListedAlike();
        }
    }

    @Test
    void anApplierThatStartsLaterLearnsTheTypesFromTheKernel() throws Exception {
        kernels.apply(containers(IP));
        kernels.netlink.close();
        kernels.netlink = NetlinkApplier.open(kernels.ours.name());
        Transaction tx = new Transaction(Family.IP, "t");
        elements(IP, tx);
        kernels.assertSame(tx);
    }

    @Test
    void setsAndMapsCreatedBehindTheAppliersBackAreFoundWhenUsed() throws Exception {
        kernels.assertSame(containers(IP));
        Transaction elsewhere = new Transaction(Family.IP, "t")
                .add(NftMap.of("late", "inet_proto . inet_service : verdict", null));
        kernels.ours.exec(List.of("nft", "-f", "-"), java.time.Duration.ofSeconds(30),
                elsewhere.script().getBytes(java.nio.charset.StandardCharsets.US_ASCII)).requireSuccess();
        kernels.nft.apply(elsewhere);
        Transaction tx = new Transaction(Family.IP, "t")
                .add(Element.ofMap("late", List.of("tcp", "8080"), "goto x", "found"));
        kernels.assertSame(tx);
    }

    @Test
    void tableVerbs() throws Exception {
        Transaction tx = containers(IP);
        rules(IP, tx);
        elements(IP, tx);
        kernels.apply(tx);
        kernels.assertSame(new Transaction(Family.IP, "t").flush(new Table(null))
                .create(Chain.named("created"))
                .create(NftSet.of("created-set", "ipv4_addr", null))
                .create(Element.ofSet("created-set", List.of("10.1.2.3")))
                .create(new Chain("base", new dev.railyard.nftables.BaseChain("nat", "postrouting", 100), "srcnat"))
                .add(Rule.of("base", "jump mark-for-masquerade")));
        kernels.assertSame(new Transaction(Family.IP, "t").delete(new Table(null))
                .create(new Table("again"))
                .add(NftSet.of("cluster-ips", "ipv4_addr", null))
                .add(Element.ofSet("cluster-ips", List.of("10.9.9.9"))));
    }
}
