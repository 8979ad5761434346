package dev.railyard.proxy.render.nftables;

import dev.railyard.nftables.Chain;
import dev.railyard.nftables.Element;
import dev.railyard.nftables.NftSet;
import dev.railyard.nftables.Rule;
import dev.railyard.nftables.Transaction;
import dev.railyard.proxy.model.Cidr;
import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;
import dev.railyard.proxy.render.EndpointSelection;
import dev.railyard.proxy.render.RenderConfig;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static dev.railyard.proxy.render.nftables.NftablesLayout.AFFINITY_PREFIX;
import static dev.railyard.proxy.render.nftables.NftablesLayout.CLUSTER_IPS;
import static dev.railyard.proxy.render.nftables.NftablesLayout.ENDPOINT_PREFIX;
import static dev.railyard.proxy.render.nftables.NftablesLayout.EXTERNAL_PREFIX;
import static dev.railyard.proxy.render.nftables.NftablesLayout.FIREWALL_IPS;
import static dev.railyard.proxy.render.nftables.NftablesLayout.FIREWALL_PREFIX;
import static dev.railyard.proxy.render.nftables.NftablesLayout.HAIRPIN_IPS;
import static dev.railyard.proxy.render.nftables.NftablesLayout.LOCAL_PREFIX;
import static dev.railyard.proxy.render.nftables.NftablesLayout.MARK_MASQ;
import static dev.railyard.proxy.render.nftables.NftablesLayout.NO_ENDPOINT_NODEPORTS;
import static dev.railyard.proxy.render.nftables.NftablesLayout.NO_ENDPOINT_SERVICES;
import static dev.railyard.proxy.render.nftables.NftablesLayout.REJECT_CHAIN;
import static dev.railyard.proxy.render.nftables.NftablesLayout.SERVICE_IPS;
import static dev.railyard.proxy.render.nftables.NftablesLayout.SERVICE_NODEPORTS;
import static dev.railyard.proxy.render.nftables.NftablesLayout.SERVICE_PREFIX;

/**
 * One service port's part of kube-proxy's syncProxyRules: which elements of the shared sets and maps it needs
 * (returned, for the renderer to reconcile across ports), and its own chains, sets, maps and rules (written into
 * the transaction, each chain added and flushed first). The layout decides how endpoints are reached; the rest
 * is the same in both. Not thread-safe: one per renderer.
 */
final class ServicePortWriter {
    /** Where the flat layout's dispatch chains find their block of keys in the shared endpoint maps. */
    interface KeyBlocks {
        long base(String chain, int count);
    }

    private final RenderConfig config;
    private final FamilySyntax syntax;
    private final Layout layout;
    /** What jumps to the masquerade mark: kube-proxy's jump, or the flat layout's jump-free statement. */
    private final String markForMasquerade;
    /** The primary node IP's bits, for source ranges that hold it; null without a node IP of this family. */
    private final byte[] nodeIp;
    private final EndpointSelection selection = new EndpointSelection();
    /** Endpoint maps declared in the current transaction. */
    private final Set<String> declaredMaps = new HashSet<>();
    /** Endpoint maps read by the rules written since begin. */
    private final Set<String> endpointMaps = new HashSet<>();
    private Transaction tx;
    private KeyBlocks keys;
    private int chains;
    private int rules;

    ServicePortWriter(RenderConfig config, FamilySyntax syntax, Layout layout) {
        this.config = config;
        this.syntax = syntax;
        this.layout = layout;
        this.markForMasquerade = layout == Layout.FLAT ? "mark set mark or " + config.masqueradeMark()
                : "jump " + MARK_MASQ;
        this.nodeIp = config.nodeIps().isEmpty() ? null : IpAddresses.parse(config.nodeIps().get(0)).getBytes();
    }

    /** Starts writing into {@code into}, with the counts at zero, dispatching from {@code keys}' blocks. */
    void begin(Transaction into, KeyBlocks keys) {
        tx = into;
        this.keys = keys;
        chains = 0;
        rules = 0;
        declaredMaps.clear();
        endpointMaps.clear();
    }

    /** Goes on writing into {@code into}, the counts running on. */
    void retarget(Transaction into) {
        tx = into;
        declaredMaps.clear();
    }

    /** The endpoint maps the rules written since {@link #begin} read. */
    Set<String> endpointMapsRead() {
        return endpointMaps;
    }

    int chainsWritten() {
        return chains;
    }

    int rulesWritten() {
        return rules;
    }

    /** Drops references to endpoints, so that a finished sync does not keep them alive. */
    void end() {
        selection.clear();
        tx = null;
        keys = null;
    }

    /** @param zone this node's zone label, for topology hints; empty when unknown */
    ServicePortRules write(ProxyState.Entry entry, String zone) {
        ServicePort service = entry.service();
        List<Endpoint> endpoints = entry.endpoints();
        ServicePortName name = service.name();
        String ipX = syntax.ipX();
        String protocol = service.protocol().lowerCase();
        String port = PortText.of(service.port());
        String comment = name.toString();
        selection.select(service, endpoints, config.nodeName(), zone, config.preferSameTrafficDistribution());
        boolean affinity = service.clientIpAffinity();
        // Affinity needs a place per endpoint to record the client: kube-proxy's endpoint chains, in both layouts.
        boolean endpointChains = affinity || layout == Layout.KUBE_PROXY;
        List<String> chainNames = new ArrayList<>();
        List<String> setNames = new ArrayList<>();
        List<Element> elements = new ArrayList<>();

        for (int i = 0; i < selection.reachableCount(); i++) {
            Endpoint ep = selection.reachable(i);
            if (endpointChains) {
                chain(ep.nftablesChainName(), chainNames);
            }
            if (affinity && layout == Layout.KUBE_PROXY) {
                setNames.add(affinitySet(ep));
            }
            if (layout == Layout.FLAT) {
                elements.add(Element.ofSet(HAIRPIN_IPS, List.of(ep.ip(), ep.ip())));
            }
        }
        String base = name.nftablesChainBase();
        String clusterChain = SERVICE_PREFIX + base;
        String localChain = LOCAL_PREFIX + base;
        String externalChain = EXTERNAL_PREFIX + base;
        String firewallChain = FIREWALL_PREFIX + base;
        boolean usesClusterChain = selection.clusterCount() > 0 && service.usesClusterEndpoints();
        if (usesClusterChain) {
            chain(clusterChain, chainNames);
        }
        boolean usesLocalChain = selection.localCount() > 0 && service.usesLocalEndpoints();
        if (usesLocalChain) {
            chain(localChain, chainNames);
        }
        boolean hasEndpoints = selection.hasAnyEndpoints();
        String internalChain = service.internalPolicyLocal() ? localChain : clusterChain;
        boolean hasInternalEndpoints = hasEndpoints
                && !(service.internalPolicyLocal() && selection.localCount() == 0);
        String externalPolicyChain = service.externalPolicyLocal() ? localChain : clusterChain;
        boolean hasExternalEndpoints = hasEndpoints
                && !(service.externalPolicyLocal() && selection.localCount() == 0);
        boolean usesExternalChain = hasEndpoints && service.externallyAccessible();
        if (usesExternalChain) {
            chain(externalChain, chainNames);
        }
        String noEndpointsVerdict = !hasEndpoints ? "goto " + REJECT_CHAIN : "drop";

        elements.add(Element.ofSet(CLUSTER_IPS, List.of(service.clusterIp())));
        if (hasInternalEndpoints) {
            elements.add(Element.ofMap(SERVICE_IPS, List.of(service.clusterIp(), protocol, port),
                    "goto " + internalChain, null));
        } else {
            elements.add(Element.ofMap(NO_ENDPOINT_SERVICES, List.of(service.clusterIp(), protocol, port),
                    noEndpointsVerdict, comment));
        }
        for (String externalIp : service.externalIps()) {
            if (hasEndpoints) {
                elements.add(Element.ofMap(SERVICE_IPS, List.of(externalIp, protocol, port),
                        "goto " + externalChain, null));
            }
            if (!hasExternalEndpoints) {
                elements.add(Element.ofMap(NO_ENDPOINT_SERVICES, List.of(externalIp, protocol, port),
                        noEndpointsVerdict, comment));
            }
        }
        boolean usesFirewallChain = service.restrictsLoadBalancerSources();
        if (usesFirewallChain) {
            chain(firewallChain, chainNames);
        }
        for (String lbIp : service.loadBalancerIps()) {
            if (hasEndpoints) {
                elements.add(Element.ofMap(SERVICE_IPS, List.of(lbIp, protocol, port),
                        "goto " + externalChain, null));
            }
            if (usesFirewallChain) {
                elements.add(Element.ofMap(FIREWALL_IPS, List.of(lbIp, protocol, port),
                        "goto " + firewallChain, null));
            }
        }
        if (!hasExternalEndpoints) {
            for (String lbIp : service.loadBalancerIps()) {
                elements.add(Element.ofMap(NO_ENDPOINT_SERVICES, List.of(lbIp, protocol, port),
                        noEndpointsVerdict, comment));
            }
        }
        if (service.nodePort() != 0) {
            String nodePort = PortText.of(service.nodePort());
            if (hasEndpoints) {
                elements.add(Element.ofMap(SERVICE_NODEPORTS, List.of(protocol, nodePort),
                        "goto " + externalChain, null));
            }
            if (!hasExternalEndpoints) {
                elements.add(Element.ofMap(NO_ENDPOINT_NODEPORTS, List.of(protocol, nodePort),
                        noEndpointsVerdict, comment));
            }
        }

        if (hasInternalEndpoints) {
            if (config.masqueradeAll()) {
                rule(internalChain, ipX + " daddr " + service.clusterIp() + " " + markForMasquerade);
            } else if (config.localDetector().implemented()) {
                // Off-cluster traffic to a service IP (a static route to any node) may leave the node again.
                rule(internalChain, ipX + " daddr " + service.clusterIp() + " "
                        + config.localDetector().ifNotLocalNft() + " " + markForMasquerade);
            }
        }
        if (usesExternalChain) {
            if (!service.externalPolicyLocal()) {
                rule(externalChain, markForMasquerade);
            } else {
                if (config.localDetector().implemented()) {
                    rule(externalChain, config.localDetector().ifLocalNft() + " goto " + clusterChain,
                            "short-circuit pod traffic");
                }
                rule(externalChain, "fib saddr type local " + markForMasquerade, "masquerade local traffic");
                rule(externalChain, "fib saddr type local goto " + clusterChain, "short-circuit local traffic");
            }
            if (hasExternalEndpoints) {
                rule(externalChain, "goto " + externalPolicyChain);
            }
        }
        if (usesFirewallChain) {
            if (layout == Layout.FLAT) {
                writeSourceRangeCheck(firewallChain, service);
            } else {
                rule(firewallChain, ipX + " saddr != { " + String.join(" , ", allowedSources(service)) + " } drop");
            }
        }
        if (affinity) {
            for (String set : setNames) {
                tx.add(new NftSet(set, syntax.addressType(), List.of("dynamic", "timeout"),
                        service.affinityTimeoutSeconds(), null));
            }
        }
        if (usesClusterChain) {
            writeEndpointDispatch(clusterChain, false, endpointChains, affinity, protocol, elements);
        }
        if (usesLocalChain) {
            writeEndpointDispatch(localChain, true, endpointChains, affinity, protocol, elements);
        }
        if (endpointChains) {
            for (int i = 0; i < selection.reachableCount(); i++) {
                Endpoint ep = selection.reachable(i);
                String chain = ep.nftablesChainName();
                rule(chain, ipX + " saddr " + ep.ip() + " " + markForMasquerade);
                if (affinity && layout == Layout.FLAT) {
                    rule(chain, "update @" + NftablesLayout.CLIENT_AFFINITY + " { "
                            + NftablesLayout.clientAffinityKey(syntax, ep) + " timeout "
                            + service.affinityTimeoutSeconds() + "s }");
                } else if (affinity) {
                    rule(chain, "update @" + affinitySet(ep) + " { " + ipX + " saddr }");
                }
                rule(chain, "meta l4proto " + protocol + " dnat to " + ep.hostPort());
            }
        }
        return new ServicePortRules(name, List.copyOf(elements), List.copyOf(chainNames), List.copyOf(setNames),
                entry);
    }

    private void chain(String name, List<String> names) {
        if (!names.contains(name)) {
            names.add(name);
            Chain chain = Chain.named(name);
            tx.add(chain).flush(chain);
            chains++;
        }
    }

    private void rule(String chain, String body) {
        tx.add(Rule.of(chain, body));
        rules++;
    }

    private void rule(String chain, String body, String comment) {
        tx.add(new Rule(chain, body, comment));
        rules++;
    }

    /**
     * Affinity first (a client seen before goes to its endpoint), then an even random spread: over endpoint
     * chains, or in the flat layout straight from the chain's block of keys in the protocol's endpoint map.
     */
    private void writeEndpointDispatch(String chain, boolean local, boolean endpointChains, boolean affinity,
                                       String protocol, List<Element> elements) {
        int count = local ? selection.localCount() : selection.clusterCount();
        if (!endpointChains) {
            long base = keys.base(chain, count);
            String map = NftablesLayout.endpointMap(protocol, base);
            // Declared in each transaction that reads it: the first block in a shard brings its map.
            if (declaredMaps.add(map)) {
                tx.add(NftablesLayout.endpointMapDeclaration(map, syntax));
            }
            endpointMaps.add(map);
            for (int i = 0; i < count; i++) {
                Endpoint ep = local ? selection.local(i) : selection.cluster(i);
                elements.add(new Element(map, true, List.of(Long.toString(base + i)),
                        List.of(ep.ip(), PortText.of(ep.port())), null));
            }
            rule(chain, "meta l4proto " + protocol + " dnat " + syntax.ipX() + " addr . port to numgen random mod "
                    + count + " offset " + base + " map @" + map);
            return;
        }
        if (affinity) {
            for (int i = 0; i < count; i++) {
                Endpoint ep = local ? selection.local(i) : selection.cluster(i);
                rule(chain, (layout == Layout.FLAT
                        ? NftablesLayout.clientAffinityKey(syntax, ep) + " @" + NftablesLayout.CLIENT_AFFINITY
                        : syntax.ipX() + " saddr @" + affinitySet(ep)) + " goto " + ep.nftablesChainName());
            }
        }
        if (layout == Layout.FLAT) {
            writeRandomCascade(chain, local, count);
            return;
        }
        StringBuilder body = new StringBuilder("numgen random mod ").append(count).append(" vmap { ");
        for (int i = 0; i < count; i++) {
            if (i > 0) {
                body.append(" , ");
            }
            Endpoint ep = local ? selection.local(i) : selection.cluster(i);
            body.append(i).append(" : goto ").append(ep.nftablesChainName());
        }
        rule(chain, body.append(" }").toString());
    }

    /**
     * The flat layout's even spread over endpoint chains without a set: rule i takes 1/(count - i) of the packets
     * that reach it, as iptables' statistic cascade does. An anonymous {@code vmap { }} per chain would cost the
     * kernel a walk of the table's set list for each one made, and lengthen the walk for every rule that names a
     * set: at 50,000 services, ~3,000 affinity chains doubled that list.
     */
    private void writeRandomCascade(String chain, boolean local, int count) {
        for (int i = 0; i < count; i++) {
            Endpoint ep = local ? selection.local(i) : selection.cluster(i);
            rule(chain, (i < count - 1 ? "numgen random mod " + (count - i) + " 0 " : "") + "goto "
                    + ep.nftablesChainName());
        }
    }

    /**
     * The flat layout's source-range check without a set (see {@link #writeRandomCascade}): an allowed source
     * leaves the chain, as reaching its end would; anything else is dropped.
     */
    private void writeSourceRangeCheck(String firewallChain, ServicePort service) {
        for (String allowed : allowedSources(service)) {
            rule(firewallChain, syntax.ipX() + " saddr " + allowed + " return");
        }
        rule(firewallChain, "drop");
    }

    /**
     * The source ranges, and the load-balancer IPs too when a range holds the node's IP: a VIP bound on the node
     * is the source of the node's own requests to it.
     */
    private List<String> allowedSources(ServicePort service) {
        List<String> sources = new ArrayList<>();
        boolean allowFromNode = false;
        for (Cidr range : service.loadBalancerSourceRanges()) {
            sources.add(range.toString());
            allowFromNode |= nodeIp != null && range.contains(nodeIp);
        }
        if (allowFromNode) {
            sources.addAll(service.loadBalancerIps());
        }
        return sources;
    }

    /** kube-proxy's layout: the endpoint's affinity set, its chain's name with the affinity prefix. */
    private static String affinitySet(Endpoint ep) {
        return AFFINITY_PREFIX + ep.nftablesChainName().substring(ENDPOINT_PREFIX.length());
    }
}
