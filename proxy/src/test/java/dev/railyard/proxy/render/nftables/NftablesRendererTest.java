package dev.railyard.proxy.render.nftables;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.nftables.Family;
import dev.railyard.nftables.NftApplier;
import dev.railyard.nftables.NftException;
import dev.railyard.nftables.Ruleset;
import dev.railyard.nftables.Transaction;
import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;
import dev.railyard.proxy.render.RenderConfig;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The renderer's syncs applied to an in-memory ruleset with the kernel's rules: what a full sync writes is
 * kube-proxy's (TestSyncProxyRulesRepeated's first expectation), and partial syncs write only what changed and
 * leave the same ruleset a full sync would.
 */
class NftablesRendererTest {
    private static final String BASE_RULES = """
            add table ip kube-proxy { comment "rules for kube-proxy" ; }
            add set ip kube-proxy cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }
            add set ip kube-proxy nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }
            add map ip kube-proxy firewall-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }
            add map ip kube-proxy no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }
            add map ip kube-proxy no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }
            add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }
            add map ip kube-proxy service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }
            add chain ip kube-proxy cluster-ips-check
            add chain ip kube-proxy filter-prerouting-pre-dnat { type filter hook prerouting priority -110 ; }
            add chain ip kube-proxy filter-output-pre-dnat { type filter hook output priority -110 ; }
            add chain ip kube-proxy filter-forward { type filter hook forward priority 0 ; }
            add chain ip kube-proxy filter-input { type filter hook input priority 0 ; }
            add chain ip kube-proxy filter-output { type filter hook output priority 0 ; }
            add chain ip kube-proxy firewall-check
            add chain ip kube-proxy mark-for-masquerade
            add chain ip kube-proxy masquerading
            add chain ip kube-proxy nat-output { type nat hook output priority -100 ; }
            add chain ip kube-proxy nat-postrouting { type nat hook postrouting priority 100 ; }
            add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }
            add chain ip kube-proxy nodeport-endpoints-check
            add chain ip kube-proxy reject-chain { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }
            add chain ip kube-proxy services
            add chain ip kube-proxy service-endpoints-check
            add rule ip kube-proxy cluster-ips-check ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"
            add rule ip kube-proxy cluster-ips-check ip daddr { 172.30.0.0/16 } drop comment "Drop traffic to unallocated ClusterIPs"
            add rule ip kube-proxy filter-prerouting-pre-dnat ct state new jump firewall-check
            add rule ip kube-proxy filter-forward ct state new jump service-endpoints-check
            add rule ip kube-proxy filter-forward ct state new jump cluster-ips-check
            add rule ip kube-proxy filter-input ct state new jump nodeport-endpoints-check
            add rule ip kube-proxy filter-input ct state new jump service-endpoints-check
            add rule ip kube-proxy filter-output ct state new jump service-endpoints-check
            add rule ip kube-proxy filter-output-pre-dnat ct state new jump firewall-check
            add rule ip kube-proxy filter-output ct state new jump cluster-ips-check
            add rule ip kube-proxy firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips
            add rule ip kube-proxy mark-for-masquerade mark set mark or 0x4000
            add rule ip kube-proxy masquerading mark and 0x4000 == 0 return
            add rule ip kube-proxy masquerading mark set mark xor 0x4000
            add rule ip kube-proxy masquerading masquerade fully-random
            add rule ip kube-proxy nat-output jump services
            add rule ip kube-proxy nat-postrouting jump masquerading
            add rule ip kube-proxy nat-prerouting jump services
            add rule ip kube-proxy nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports
            add rule ip kube-proxy reject-chain reject
            add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips
            add rule ip kube-proxy services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports
            add element ip kube-proxy nodeport-ips { 192.168.0.2 }
            add rule ip kube-proxy service-endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services
            """;

    private static RenderConfig config() {
        return RenderConfig.builder(IpFamily.V4).nodeName("test-node").nodeIps(List.of("192.168.0.2"))
                .clusterCidrs(List.of("10.0.0.0/8")).serviceCidrs(List.of("172.30.0.0/16"))
                .nodePortAddresses(List.of("192.168.0.2/32")).masqueradeMark("0x4000").build();
    }

    private final Map<ServicePortName, ServicePort> ports = new HashMap<>();
    private final Map<ServicePortName, List<Endpoint>> endpoints = new HashMap<>();

    private ServicePortName clusterIp(String ns, String svc, String port, String ip, int number) {
        ServicePortName name = ServicePortName.of(ns, svc, port, Protocol.TCP);
        ports.put(name, ServicePort.builder(name, ip, number).build());
        return name;
    }

    private void endpoint(ServicePortName name, String ip, int port) {
        endpoints.computeIfAbsent(name, k -> new ArrayList<>()).add(Endpoint.builder(name, ip, port).build());
    }

    private ProxyState state() {
        return ProxyState.of(IpFamily.V4, ports.values(), endpoints);
    }

    private static List<String> lines(String text) {
        List<String> lines = new ArrayList<>(Arrays.asList(text.split("\n")));
        lines.removeIf(String::isBlank);
        return lines;
    }

    @Test
    void aFullSyncIsKubeProxysFirstSyncOfTestSyncProxyRulesRepeated() throws NftException {
        ServicePortName svc1 = clusterIp("ns1", "svc1", "p80", "172.30.0.41", 80);
        endpoint(svc1, "10.0.1.1", 80);
        ServicePortName svc2 = clusterIp("ns2", "svc2", "p8080", "172.30.0.42", 8080);
        endpoint(svc2, "10.0.2.1", 8080);
        NftablesRenderer renderer = new NftablesRenderer(config());
        NftablesRenderer.Plan plan = renderer.plan(state(), null, Instant.EPOCH);
        Ruleset kernel = new Ruleset();
        kernel.apply(plan.sync());

        String expected = BASE_RULES + """
                add element ip kube-proxy cluster-ips { 172.30.0.41 }
                add element ip kube-proxy cluster-ips { 172.30.0.42 }
                add element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 : goto service-ULMVA6XW-ns1/svc1/tcp/p80 }
                add element ip kube-proxy service-ips { 172.30.0.42 . tcp . 8080 : goto service-MHHHYRWA-ns2/svc2/tcp/p8080 }
                add chain ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80
                add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 ip daddr 172.30.0.41 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
                add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-5TPGNJF2-ns1/svc1/tcp/p80__10.0.1.1/80 }
                add chain ip kube-proxy endpoint-5TPGNJF2-ns1/svc1/tcp/p80__10.0.1.1/80
                add rule ip kube-proxy endpoint-5TPGNJF2-ns1/svc1/tcp/p80__10.0.1.1/80 ip saddr 10.0.1.1 jump mark-for-masquerade
                add rule ip kube-proxy endpoint-5TPGNJF2-ns1/svc1/tcp/p80__10.0.1.1/80 meta l4proto tcp dnat to 10.0.1.1:80
                add chain ip kube-proxy service-MHHHYRWA-ns2/svc2/tcp/p8080
                add rule ip kube-proxy service-MHHHYRWA-ns2/svc2/tcp/p8080 ip daddr 172.30.0.42 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
                add rule ip kube-proxy service-MHHHYRWA-ns2/svc2/tcp/p8080 numgen random mod 1 vmap { 0 : goto endpoint-7RVP4LUQ-ns2/svc2/tcp/p8080__10.0.2.1/8080 }
                add chain ip kube-proxy endpoint-7RVP4LUQ-ns2/svc2/tcp/p8080__10.0.2.1/8080
                add rule ip kube-proxy endpoint-7RVP4LUQ-ns2/svc2/tcp/p8080__10.0.2.1/8080 ip saddr 10.0.2.1 jump mark-for-masquerade
                add rule ip kube-proxy endpoint-7RVP4LUQ-ns2/svc2/tcp/p8080__10.0.2.1/8080 meta l4proto tcp dnat to 10.0.2.1:8080
                """;
        assertThat(lines(kernel.dump())).containsExactlyInAnyOrderElementsOf(lines(expected));
    }

    @Test
    void partialSyncsWriteOnlyWhatChangedAndLeaveWhatAFullSyncWould() throws NftException {
        ServicePortName svc1 = clusterIp("ns1", "svc1", "p80", "172.30.0.41", 80);
        endpoint(svc1, "10.0.1.1", 80);
        ServicePortName svc2 = clusterIp("ns2", "svc2", "p8080", "172.30.0.42", 8080);
        endpoint(svc2, "10.0.2.1", 8080);
        NftablesRenderer renderer = new NftablesRenderer(config());
        Ruleset kernel = new Ruleset();
        Instant now = Instant.parse("2026-01-01T00:00:00Z");
        sync(renderer, kernel, null, now);

        // A new ClusterIP service with one endpoint: 10 operations, as kube-proxy counts them.
        ServicePortName svc3 = clusterIp("ns3", "svc3", "p80", "172.30.0.43", 80);
        endpoint(svc3, "10.0.3.1", 80);
        Transaction tx = sync(renderer, kernel, Set.of("ns3/svc3"), now = now.plusSeconds(10));
        assertThat(tx.size()).isEqualTo(10);
        assertFullSyncWouldLeaveTheSame(kernel);

        // Nothing changed: nothing written.
        assertThat(sync(renderer, kernel, Set.of(), now = now.plusSeconds(10)).size()).isZero();

        // Deleting a service: its two elements and two chains flushed (kube-proxy: 4 operations).
        ports.remove(svc2);
        endpoints.remove(svc2);
        tx = sync(renderer, kernel, Set.of("ns2/svc2"), now = now.plusMillis(100));
        assertThat(tx.size()).isEqualTo(4);
        assertThat(renderer.staleChains()).containsExactlyInAnyOrder("service-MHHHYRWA-ns2/svc2/tcp/p8080",
                "endpoint-7RVP4LUQ-ns2/svc2/tcp/p8080__10.0.2.1/8080");
        // Within the grace the flushed chains stay; after it, a sync deletes them first.
        NftablesRenderer.Plan early = renderer.plan(state(), Set.of(), now.plusMillis(500));
        assertThat(early.staleChainDeletion().isEmpty()).isTrue();
        NftablesRenderer.Plan later = renderer.plan(state(), Set.of(), now.plusSeconds(2));
        assertThat(later.staleChainDeletion().size()).isEqualTo(2);
        kernel.apply(later.staleChainDeletion());
        renderer.staleDeletionApplied(later);
        kernel.apply(later.sync());
        renderer.committed(later);
        assertThat(renderer.staleChains()).isEmpty();
        assertThat(kernel.chainNames(Family.IP, "kube-proxy")).noneMatch(c -> c.contains("svc2"));
        assertFullSyncWouldLeaveTheSame(kernel);

        // An endpoint replaced: the service's chains rewritten, the old endpoint's chain stale.
        endpoints.put(svc1, new ArrayList<>());
        endpoint(svc1, "10.0.1.2", 80);
        sync(renderer, kernel, Set.of("ns1/svc1"), now = now.plusSeconds(10));
        assertThat(renderer.staleChains()).containsExactly("endpoint-5TPGNJF2-ns1/svc1/tcp/p80__10.0.1.1/80");
        assertFullSyncWouldLeaveTheSame(kernel);

        // No endpoints left: the service IP moves from service-ips to no-endpoint-services (reject).
        endpoints.remove(svc3);
        sync(renderer, kernel, Set.of("ns3/svc3"), now = now.plusSeconds(10));
        assertThat(kernel.dump()).contains("add element ip kube-proxy no-endpoint-services { 172.30.0.43 . tcp . 80 "
                + "comment \"ns3/svc3:p80\" : goto reject-chain }");
        assertFullSyncWouldLeaveTheSame(kernel);
    }

    /**
     * The flat layout rewrites only the objects of a changed port that differ: a pod replaced touches one key of
     * its block in the endpoint map and the hairpin set, no rule (rules cost the kernel a validation of the jump
     * graph).
     */
    @Test
    void flatPartialSyncsWriteOnlyTheObjectsThatChanged() throws NftException {
        ServicePortName svc1 = clusterIp("ns1", "svc1", "p80", "172.30.0.41", 80);
        endpoint(svc1, "10.0.1.1", 80);
        endpoint(svc1, "10.0.1.2", 80);
        ServicePortName svc2 = clusterIp("ns2", "svc2", "p8080", "172.30.0.42", 8080);
        endpoint(svc2, "10.0.2.1", 8080);
        NftablesRenderer renderer = new NftablesRenderer(config(), Layout.FLAT, NftApplier.TableObjects.none());
        Ruleset kernel = new Ruleset();
        Instant now = Instant.parse("2026-01-01T00:00:00Z");
        sync(renderer, kernel, null, now);

        endpoints.put(svc1, new ArrayList<>());
        endpoint(svc1, "10.0.1.1", 80);
        endpoint(svc1, "10.0.1.3", 80);
        Transaction replaced = sync(renderer, kernel, Set.of("ns1/svc1"), now = now.plusSeconds(1));
        assertThat(replaced.script().lines().toList()).containsExactly(
                "delete element ip kube-proxy hairpin-ips { 10.0.1.2 . 10.0.1.2 }",
                "add element ip kube-proxy hairpin-ips { 10.0.1.3 . 10.0.1.3 }",
                "delete element ip kube-proxy endpoints-tcp-0 { 17 }",
                "add element ip kube-proxy endpoints-tcp-0 { 17 : 10.0.1.3 . 80 }");
        assertFullSyncWouldLeaveTheSame(kernel, Layout.FLAT);

        // One more endpoint: the dispatch rule's modulus changes, so the service chain is written again too; the
        // endpoints keep their keys.
        endpoint(svc1, "10.0.1.4", 80);
        Transaction grown = sync(renderer, kernel, Set.of("ns1/svc1"), now = now.plusSeconds(1));
        assertThat(grown.script().lines().filter(line -> line.startsWith("add rule")).toList()).containsExactly(
                "add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 ip daddr 172.30.0.41 ip saddr != "
                        + "10.0.0.0/8 mark set mark or 0x4000",
                "add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 meta l4proto tcp dnat ip addr . port to "
                        + "numgen random mod 3 offset 16 map @endpoints-tcp-0");
        assertThat(grown.script()).as("the block of 4 keys holds a third endpoint").contains(
                "add element ip kube-proxy endpoints-tcp-0 { 18 : 10.0.1.4 . 80 }");
        assertFullSyncWouldLeaveTheSame(kernel, Layout.FLAT);

        // Named as changed, but the same: nothing written.
        assertThat(sync(renderer, kernel, Set.of("ns1/svc1", "ns2/svc2"), now.plusSeconds(1)).size()).isZero();
    }

    private Transaction sync(NftablesRenderer renderer, Ruleset kernel, Set<String> changed, Instant now)
            throws NftException {
        NftablesRenderer.Plan plan = renderer.plan(state(), changed, now);
        kernel.apply(plan.staleChainDeletion());
        renderer.staleDeletionApplied(plan);
        kernel.apply(plan.sync());
        renderer.committed(plan);
        return plan.sync();
    }

    /** Every chain in use, element and rule the same as a fresh full sync writes (stale chains aside). */
    private void assertFullSyncWouldLeaveTheSame(Ruleset kernel) throws NftException {
        assertFullSyncWouldLeaveTheSame(kernel, Layout.KUBE_PROXY);
    }

    private void assertFullSyncWouldLeaveTheSame(Ruleset kernel, Layout layout) throws NftException {
        Ruleset fresh = new Ruleset();
        fresh.apply(new NftablesRenderer(config(), layout, NftApplier.TableObjects.none())
                .plan(state(), null, Instant.EPOCH).sync());
        List<String> actual = ResolvedEndpoints.of(kernel.dump());
        actual.removeIf(line -> line.startsWith("add chain") && !fresh.dump().contains(line));
        assertThat(actual).containsExactlyInAnyOrderElementsOf(ResolvedEndpoints.of(fresh.dump()));
    }
}
