package dev.railyard.proxy.render.nftables;

import dev.railyard.nftables.Chain;
import dev.railyard.nftables.Element;
import dev.railyard.nftables.NftMap;
import dev.railyard.nftables.NftSet;
import dev.railyard.nftables.Rule;
import dev.railyard.nftables.Table;
import dev.railyard.nftables.Transaction;
import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.render.RenderConfig;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static dev.railyard.proxy.render.nftables.NftablesLayout.BASE_CHAINS;
import static dev.railyard.proxy.render.nftables.NftablesLayout.CLUSTER_IPS;
import static dev.railyard.proxy.render.nftables.NftablesLayout.CLUSTER_IPS_CHECK;
import static dev.railyard.proxy.render.nftables.NftablesLayout.FIREWALL_CHECK;
import static dev.railyard.proxy.render.nftables.NftablesLayout.FIREWALL_IPS;
import static dev.railyard.proxy.render.nftables.NftablesLayout.HAIRPIN_IPS;
import static dev.railyard.proxy.render.nftables.NftablesLayout.JUMPS;
import static dev.railyard.proxy.render.nftables.NftablesLayout.MARK_MASQ;
import static dev.railyard.proxy.render.nftables.NftablesLayout.MASQUERADING;
import static dev.railyard.proxy.render.nftables.NftablesLayout.NAT_POSTROUTING;
import static dev.railyard.proxy.render.nftables.NftablesLayout.NODEPORT_ENDPOINTS_CHECK;
import static dev.railyard.proxy.render.nftables.NftablesLayout.NODEPORT_IPS;
import static dev.railyard.proxy.render.nftables.NftablesLayout.NO_ENDPOINT_NODEPORTS;
import static dev.railyard.proxy.render.nftables.NftablesLayout.NO_ENDPOINT_SERVICES;
import static dev.railyard.proxy.render.nftables.NftablesLayout.REJECT_CHAIN;
import static dev.railyard.proxy.render.nftables.NftablesLayout.SERVICES;
import static dev.railyard.proxy.render.nftables.NftablesLayout.SERVICE_ENDPOINTS_CHECK;
import static dev.railyard.proxy.render.nftables.NftablesLayout.SERVICE_IPS;
import static dev.railyard.proxy.render.nftables.NftablesLayout.SERVICE_NODEPORTS;
import static dev.railyard.proxy.render.nftables.NftablesLayout.TABLE_COMMENT;

/**
 * kube-proxy's setupNFTables, what a full sync writes before any service: the table, the base chains and the
 * jumps from them, the top-level chains and their rules, the shared sets and maps (their elements flushed, to be
 * written again whole). The flat layout adds its hairpin set and the postrouting rule that reads it, and its
 * endpoint maps.
 */
final class TableSetup {
    private final RenderConfig config;
    private final FamilySyntax syntax;
    private final Layout layout;

    TableSetup(RenderConfig config, FamilySyntax syntax, Layout layout) {
        this.config = config;
        this.syntax = syntax;
        this.layout = layout;
    }

    /**
     * @param recreateBaseChains once per process: a base chain whose hook or priority changed cannot be re-added
     *                           in place, so each is added and deleted first
     * @param removeHairpinSet   the kernel has the flat layout's hairpin set and this layout does not use it
     * @param flushContainers    empty the shared sets and maps, for their elements to be written again whole;
     *                           false when the caller knows what they hold and writes only the difference
     * @param serviceCidrs       the service CIDRs of this family (ServiceCIDR objects or the configuration)
     * @param endpointMaps       the flat layout's endpoint maps the kernel has, flushed with the other containers
     */
    void write(Transaction tx, boolean recreateBaseChains, boolean removeHairpinSet, boolean flushContainers,
               List<String> serviceCidrs, java.util.Collection<String> endpointMaps) {
        String ipX = syntax.ipX();
        String addressType = syntax.addressType();
        tx.add(new Table(TABLE_COMMENT));
        if (recreateBaseChains) {
            for (Chain chain : BASE_CHAINS) {
                tx.add(Chain.named(chain.name())).delete(Chain.named(chain.name()));
            }
        }
        for (Chain chain : BASE_CHAINS) {
            tx.add(chain).flush(chain);
        }
        String mark = config.masqueradeMark();
        if (layout == Layout.FLAT) {
            // Hairpin traffic (a pod reaching itself through a service) leaves DNAT with its source equal to its
            // destination, an endpoint's address: what kube-proxy's per-endpoint chains mark, one lookup here.
            tx.add(NftSet.of(HAIRPIN_IPS, addressType + " . " + addressType,
                    "endpoint addresses, whose traffic to themselves through a service is masqueraded"));
            tx.add(Rule.of(NAT_POSTROUTING, "ct status dnat " + ipX + " saddr . " + ipX + " daddr @" + HAIRPIN_IPS
                    + " mark set mark or " + mark));
            // Never flushed: clients keep their endpoints across full syncs, as in kube-proxy's per-endpoint sets.
            tx.add(NftablesLayout.clientAffinityDeclaration(syntax));
        } else if (removeHairpinSet) {
            // The flat layout's postrouting rule that used it went with the flush of the base chains above.
            tx.delete(NftSet.named(HAIRPIN_IPS));
        }
        Set<String> created = new HashSet<>();
        for (NftablesLayout.Jump jump : JUMPS) {
            ensureTopLevel(tx, jump.to(), created);
            tx.add(Rule.of(jump.from(), jump.match().isEmpty() ? "jump " + jump.to()
                    : jump.match() + " jump " + jump.to()));
        }
        for (String chain : List.of(SERVICES, CLUSTER_IPS_CHECK, MASQUERADING, MARK_MASQ)) {
            ensureTopLevel(tx, chain, created);
        }
        tx.add(Rule.of(MARK_MASQ, "mark set mark or " + mark));
        tx.add(Rule.of(MASQUERADING, "mark and " + mark + " == 0 return"));
        tx.add(Rule.of(MASQUERADING, "mark set mark xor " + mark));
        tx.add(Rule.of(MASQUERADING, "masquerade fully-random"));

        tx.add(NftSet.of(CLUSTER_IPS, addressType, "Active ClusterIPs"));
        tx.add(new Rule(CLUSTER_IPS_CHECK, ipX + " daddr @" + CLUSTER_IPS + " reject",
                "Reject traffic to invalid ports of ClusterIPs"));
        if (!serviceCidrs.isEmpty()) {
            tx.add(new Rule(CLUSTER_IPS_CHECK, ipX + " daddr { " + String.join(",", serviceCidrs)
                    + " } drop", "Drop traffic to unallocated ClusterIPs"));
        }

        // add+delete rather than delete alone, which would fail when the set does not exist.
        tx.add(NftSet.of(NODEPORT_IPS, addressType, "IPs that accept NodePort traffic"));
        boolean allAddresses = config.nodePortsOnAllAddresses();
        if (allAddresses) {
            tx.delete(NftSet.named(NODEPORT_IPS));
        } else {
            tx.flush(NftSet.named(NODEPORT_IPS));
            for (String ip : config.nodePortIps()) {
                // Localhost NodePorts are not supported in nftables mode (no route_localnet, CVE-2020-8558).
                if (!IpAddresses.parse(ip).isLoopback()) {
                    tx.add(Element.ofSet(NODEPORT_IPS, List.of(ip)));
                }
            }
        }

        String addressProtoPort = addressType + " . inet_proto . inet_service : verdict";
        tx.add(NftMap.of(NO_ENDPOINT_SERVICES, addressProtoPort,
                "vmap to drop or reject packets to services with no endpoints"));
        tx.add(NftMap.of(NO_ENDPOINT_NODEPORTS, "inet_proto . inet_service : verdict",
                "vmap to drop or reject packets to service nodeports with no endpoints"));
        Chain reject = new Chain(REJECT_CHAIN, null, "helper for @no-endpoint-services / @no-endpoint-nodeports");
        tx.add(reject).flush(reject);
        tx.add(Rule.of(REJECT_CHAIN, "reject"));
        tx.add(Rule.of(SERVICE_ENDPOINTS_CHECK,
                ipX + " daddr . meta l4proto . th dport vmap @" + NO_ENDPOINT_SERVICES));
        tx.add(Rule.of(NODEPORT_ENDPOINTS_CHECK, (allAddresses ? syntax.noLocalhost() : ipX + " daddr @"
                + NODEPORT_IPS) + " meta l4proto . th dport vmap @" + NO_ENDPOINT_NODEPORTS));

        tx.add(NftMap.of(FIREWALL_IPS, addressProtoPort,
                "destinations that are subject to LoadBalancerSourceRanges"));
        ensureTopLevel(tx, FIREWALL_CHECK, created);
        tx.add(Rule.of(FIREWALL_CHECK, ipX + " daddr . meta l4proto . th dport vmap @" + FIREWALL_IPS));

        tx.add(NftMap.of(SERVICE_IPS, addressProtoPort, "ClusterIP, ExternalIP and LoadBalancer IP traffic"));
        tx.add(NftMap.of(SERVICE_NODEPORTS, "inet_proto . inet_service : verdict", "NodePort traffic"));
        tx.add(Rule.of(SERVICES, ipX + " daddr . meta l4proto . th dport vmap @" + SERVICE_IPS));
        tx.add(Rule.of(SERVICES, (allAddresses ? "fib daddr type local " + syntax.noLocalhost()
                : ipX + " daddr @" + NODEPORT_IPS) + " meta l4proto . th dport vmap @" + SERVICE_NODEPORTS));

        if (!flushContainers) {
            return;
        }
        // The elements are written again whole: the containers start empty.
        for (String set : layout == Layout.FLAT ? List.of(CLUSTER_IPS, HAIRPIN_IPS) : List.of(CLUSTER_IPS)) {
            tx.flush(NftSet.named(set));
        }
        for (String map : List.of(SERVICE_IPS, FIREWALL_IPS, NO_ENDPOINT_SERVICES, NO_ENDPOINT_NODEPORTS,
                SERVICE_NODEPORTS)) {
            tx.flush(NftMap.named(map));
        }
        if (layout == Layout.FLAT) {
            for (String map : endpointMaps) {
                tx.add(NftablesLayout.endpointMapDeclaration(map, syntax));
                tx.flush(NftMap.named(map));
            }
        }
    }

    private static void ensureTopLevel(Transaction tx, String name, Set<String> created) {
        if (created.add(name)) {
            Chain chain = Chain.named(name);
            tx.add(chain).flush(chain);
        }
    }
}
