package dev.railyard.proxy.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What one proxier programs: every service port of one IP family with its endpoints, in a fixed order so that
 * rendering is deterministic. Immutable; a sync builds a new one and reuses unchanged ports and endpoints.
 */
public final class ProxyState {
    private static final ProxyState EMPTY = new ProxyState(IpFamily.V4, List.of());

    private final IpFamily family;
    private final List<Entry> entries;
    private final int endpointCount;
    /** This node's topology.kubernetes.io/zone label; empty when unknown or unset. */
    private final String zone;
    /** The cluster's service CIDRs of this family (ServiceCIDR objects); null when the source does not know. */
    private final List<String> serviceCidrs;

    private ProxyState(IpFamily family, List<Entry> entries) {
        this(family, entries, "", null);
    }

    private ProxyState(IpFamily family, List<Entry> entries, String zone, List<String> serviceCidrs) {
        this.family = family;
        this.entries = entries;
        this.zone = Objects.requireNonNull(zone, "zone");
        this.serviceCidrs = serviceCidrs == null ? null : List.copyOf(serviceCidrs);
        int count = 0;
        for (Entry entry : entries) {
            count += entry.endpoints.size();
        }
        this.endpointCount = count;
    }

    public static ProxyState empty(IpFamily family) {
        return family == IpFamily.V4 ? EMPTY : new ProxyState(family, List.of());
    }

    /**
     * @param services  service ports of this family
     * @param endpoints endpoints by service port; those without a service are ignored, as kube-proxy does
     */
    public static ProxyState of(IpFamily family, Iterable<ServicePort> services,
                                Map<ServicePortName, List<Endpoint>> endpoints) {
        TreeMap<ServicePortName, ServicePort> sorted = new TreeMap<>();
        for (ServicePort port : services) {
            if (sorted.put(port.name(), port) != null) {
                throw new IllegalArgumentException("service port " + port.name() + "/" + port.protocol()
                        + " appears twice");
            }
        }
        List<Entry> entries = new ArrayList<>(sorted.size());
        for (ServicePort port : sorted.values()) {
            entries.add(entry(port, endpoints.getOrDefault(port.name(), List.of())));
        }
        return new ProxyState(family, Collections.unmodifiableList(entries));
    }

    /** A service port with its endpoints, sorted as {@link Entry#endpoints} keeps them. */
    public static Entry entry(ServicePort port, List<Endpoint> endpoints) {
        List<Endpoint> list = new ArrayList<>(endpoints);
        list.sort(Endpoint.HOST_PORT_ORDER);
        return new Entry(port, Collections.unmodifiableList(list));
    }

    /**
     * A state of entries kept by port name, as a change tracker keeps them between syncs: one change then costs
     * the entries of its service, not a sort of every port and a copy of every endpoint list (at 10,000 services
     * that rebuild was most of the time from a change to its sync).
     */
    public static ProxyState of(IpFamily family, java.util.SortedMap<ServicePortName, Entry> entries) {
        if (entries.comparator() != null) {
            throw new IllegalArgumentException("entries must be in the natural order of their names");
        }
        return new ProxyState(family, List.copyOf(entries.values()));
    }

    public IpFamily family() {
        return family;
    }

    /** The same services and endpoints, seen from a node in {@code zone} (empty: no zone label). */
    public ProxyState withZone(String zone) {
        String value = zone == null ? "" : zone;
        return value.equals(this.zone) ? this : new ProxyState(family, entries, value, serviceCidrs);
    }

    /** The same services and endpoints with the cluster's service CIDRs of this family (null: unknown). */
    public ProxyState withServiceCidrs(List<String> cidrs) {
        return Objects.equals(cidrs, serviceCidrs) ? this : new ProxyState(family, entries, zone, cidrs);
    }

    /** This node's zone label, for topology hints; empty when the node has none (or is not known). */
    public String zone() {
        return zone;
    }

    /**
     * The service CIDRs of this family as the cluster's ServiceCIDR objects give them, canonical; null when the
     * source of this state does not know them (then the render configuration's apply).
     */
    public List<String> serviceCidrs() {
        return serviceCidrs;
    }

    /** Service ports in (namespace, name, port name, protocol) order. */
    public List<Entry> entries() {
        return entries;
    }

    public int serviceCount() {
        return entries.size();
    }

    public int endpointCount() {
        return endpointCount;
    }

    /** A service port and its endpoints, sorted by "ip:port" as kube-proxy keeps them. */
    public static final class Entry {
        private final ServicePort service;
        private final List<Endpoint> endpoints;

        Entry(ServicePort service, List<Endpoint> endpoints) {
            this.service = Objects.requireNonNull(service);
            this.endpoints = endpoints;
        }

        public ServicePort service() {
            return service;
        }

        public List<Endpoint> endpoints() {
            return endpoints;
        }
    }
}
