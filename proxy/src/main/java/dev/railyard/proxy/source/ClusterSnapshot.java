package dev.railyard.proxy.source;

import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;

import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The valid Services and endpoints read from a set of manifests, and the problems met on the way. Turns into a
 * {@link ProxyState} per IP family for a given node.
 */
public final class ClusterSnapshot {
    private final Map<IpFamily, List<ServicePort>> services;
    /** Slices (and legacy Endpoints) by service key, in slice-name order. */
    private final Map<String, List<EndpointSliceConverter.Converted>> slices;
    private final Map<String, List<EndpointSliceConverter.Converted>> legacyEndpoints;
    private final List<Problem> problems;
    private final int ignored;
    private final Map<String, NodeInfo> nodes;
    /** Every ServiceCIDR's CIDRs, canonical; null when the manifests hold no ServiceCIDR. */
    private final List<String> serviceCidrs;

    ClusterSnapshot(Map<IpFamily, List<ServicePort>> services,
                    Map<String, List<EndpointSliceConverter.Converted>> slices,
                    Map<String, List<EndpointSliceConverter.Converted>> legacyEndpoints,
                    List<Problem> problems, int ignored, Map<String, NodeInfo> nodes, List<String> serviceCidrs) {
        this.services = services;
        this.slices = slices;
        this.legacyEndpoints = legacyEndpoints;
        this.problems = List.copyOf(problems);
        this.ignored = ignored;
        this.nodes = Map.copyOf(nodes);
        this.serviceCidrs = serviceCidrs == null ? null : List.copyOf(serviceCidrs);
    }

    /** The Node of this name among the manifests (as {@code kubectl get nodes,svc,endpointslices} lists them). */
    public java.util.Optional<NodeInfo> node(String name) {
        return java.util.Optional.ofNullable(nodes.get(name));
    }

    /** The CIDRs of the manifests' ServiceCIDR objects, canonical; null when there is none. */
    public List<String> serviceCidrs() {
        return serviceCidrs;
    }

    /** Objects that were skipped because something in them is invalid. */
    public List<Problem> problems() {
        return problems;
    }

    /** Objects left alone on purpose: other kinds, headless and ExternalName services, other proxies'. */
    public int ignoredObjects() {
        return ignored;
    }

    public List<ServicePort> servicePorts(IpFamily family) {
        return services.getOrDefault(family, List.of());
    }

    /**
     * The proxy state of one family as seen from {@code nodeName}. Endpoints come from a Service's
     * EndpointSlices, or from its legacy Endpoints when it has no slice; an address listed by two slices counts
     * once, preferring the copy that says it is on this node, as kube-proxy does.
     */
    public ProxyState state(IpFamily family, String nodeName) {
        Map<ServicePortName, List<Endpoint>> endpoints = new HashMap<>();
        for (List<EndpointSliceConverter.Converted> slices : sources().values()) {
            endpoints.putAll(SliceMerge.merge(slices, family, nodeName));
        }
        return ProxyState.of(family, servicePorts(family), endpoints)
                .withZone(node(nodeName).map(NodeInfo::zone).orElse(""))
                .withServiceCidrs(serviceCidrs == null ? null : ServiceCidrs.ofFamily(serviceCidrs, family));
    }

    private Map<String, List<EndpointSliceConverter.Converted>> sources() {
        Map<String, List<EndpointSliceConverter.Converted>> result = new TreeMap<>(legacyEndpoints);
        result.putAll(slices); // slices supersede legacy Endpoints of the same Service
        return result;
    }

    static Map<IpFamily, List<ServicePort>> emptyServices() {
        return new EnumMap<>(IpFamily.class);
    }
}
