package dev.railyard.proxy.render;

import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.ServicePort;

import java.util.Arrays;
import java.util.List;

/**
 * Which endpoints each traffic policy of one service port uses on this node, as kube-proxy's
 * CategorizeEndpoints (pkg/proxy/topology.go) decides it: ready endpoints, falling back to serving-and-terminating
 * ones when a policy has no ready endpoint. The Cluster-policy set follows topology hints, all or nothing per
 * service: when every ready endpoint has node hints and one names this node, only endpoints hinted for this node
 * (PreferSameNode, when that gate is on); else when every ready endpoint has zone hints and one names this node's
 * zone, only endpoints hinted for that zone; else every ready endpoint. The Local-policy set ignores hints.
 * Reused across service ports, so a sync allocates nothing here. Shared by the iptables and nftables renderers.
 */
public final class EndpointSelection {
    private Endpoint[] cluster = new Endpoint[16];
    private Endpoint[] local = new Endpoint[16];
    private Endpoint[] reachable = new Endpoint[16];
    private int clusterCount;
    private int localCount;
    private int reachableCount;
    private boolean hasAnyEndpoints;
    /** True when {@link #reachable} is its own merged array rather than an alias of cluster or local. */
    private Endpoint[] reachableSource;

    /** No topology: a node without a zone label, with PreferSameNode off. */
    public void select(ServicePort service, List<Endpoint> endpoints, String nodeName) {
        select(service, endpoints, nodeName, "", false);
    }

    /**
     * @param zone           this node's topology.kubernetes.io/zone label; empty when it has none
     * @param preferSameNode kube-proxy's PreferSameTrafficDistribution gate: node hints are honoured
     */
    public void select(ServicePort service, List<Endpoint> endpoints, String nodeName, String zone,
                       boolean preferSameNode) {
        clusterCount = 0;
        localCount = 0;
        hasAnyEndpoints = false;
        int size = endpoints.size();
        if (cluster.length < size) {
            int capacity = Math.max(size, cluster.length * 2);
            cluster = new Endpoint[capacity];
            local = new Endpoint[capacity];
            reachable = new Endpoint[capacity * 2];
        }

        Topology topology = Topology.NONE;
        if (service.usesClusterEndpoints()) {
            topology = topologyMode(endpoints, nodeName, zone, preferSameNode);
            for (int i = 0; i < size; i++) {
                Endpoint ep = endpoints.get(i);
                if (ep.ready() && topology.admits(ep, nodeName, zone)) {
                    cluster[clusterCount++] = ep;
                }
            }
            if (clusterCount == 0) {
                for (int i = 0; i < size; i++) {
                    Endpoint ep = endpoints.get(i);
                    if (ep.serving() && ep.terminating()) {
                        cluster[clusterCount++] = ep;
                    }
                }
            }
            hasAnyEndpoints = clusterCount > 0;
        }

        if (!service.usesLocalEndpoints()) {
            reachableSource = cluster;
            reachableCount = clusterCount;
            return;
        }

        boolean localReady = false;
        boolean localServingTerminating = false;
        for (int i = 0; i < size; i++) {
            Endpoint ep = endpoints.get(i);
            if (ep.ready()) {
                hasAnyEndpoints = true;
                localReady |= ep.isOn(nodeName);
            } else if (ep.serving() && ep.terminating()) {
                hasAnyEndpoints = true;
                localServingTerminating |= ep.isOn(nodeName);
            }
        }
        boolean usesServingTerminating = false;
        if (localReady) {
            for (int i = 0; i < size; i++) {
                Endpoint ep = endpoints.get(i);
                if (ep.isOn(nodeName) && ep.ready()) {
                    local[localCount++] = ep;
                }
            }
        } else if (localServingTerminating) {
            usesServingTerminating = true;
            for (int i = 0; i < size; i++) {
                Endpoint ep = endpoints.get(i);
                if (ep.isOn(nodeName) && ep.serving() && ep.terminating()) {
                    local[localCount++] = ep;
                }
            }
        }

        if (!service.usesClusterEndpoints()) {
            reachableSource = local;
            reachableCount = localCount;
        } else if (!usesServingTerminating && topology == Topology.NONE) {
            // Local holds only ready endpoints, all of which are in cluster already.
            reachableSource = cluster;
            reachableCount = clusterCount;
        } else {
            mergeClusterAndLocal();
        }
    }

    /** kube-proxy's topologyModeFromHints: hints are used only when every ready endpoint has them. */
    private static Topology topologyMode(List<Endpoint> endpoints, String nodeName, String zone,
                                         boolean preferSameNode) {
        boolean hasReady = false;
        boolean allHaveNodeHints = true;
        boolean hasEndpointForNode = false;
        boolean allHaveZoneHints = true;
        boolean hasEndpointForZone = false;
        for (int i = 0, n = endpoints.size(); i < n; i++) {
            Endpoint ep = endpoints.get(i);
            if (!ep.ready()) {
                continue;
            }
            hasReady = true;
            if (ep.nodeHints().isEmpty()) {
                allHaveNodeHints = false;
            } else if (ep.nodeHints().contains(nodeName)) {
                hasEndpointForNode = true;
            }
            if (ep.zoneHints().isEmpty()) {
                allHaveZoneHints = false;
            } else if (ep.zoneHints().contains(zone)) {
                hasEndpointForZone = true;
            }
        }
        if (!hasReady) {
            return Topology.NONE;
        }
        if (preferSameNode && allHaveNodeHints && hasEndpointForNode) {
            return Topology.SAME_NODE;
        }
        if (allHaveZoneHints && hasEndpointForZone) {
            return Topology.SAME_ZONE;
        }
        return Topology.NONE;
    }

    /** kube-proxy's topology modes: "", PreferSameNode, PreferSameZone. */
    private enum Topology {
        NONE,
        SAME_NODE,
        SAME_ZONE;

        boolean admits(Endpoint ep, String nodeName, String zone) {
            return switch (this) {
                case NONE -> true;
                case SAME_NODE -> ep.nodeHints().contains(nodeName);
                case SAME_ZONE -> ep.zoneHints().contains(zone);
            };
        }
    }

    /** Both lists are in host:port order (they filter a sorted list); merge them without duplicates. */
    private void mergeClusterAndLocal() {
        int i = 0;
        int j = 0;
        int n = 0;
        while (i < clusterCount || j < localCount) {
            if (j >= localCount) {
                reachable[n++] = cluster[i++];
            } else if (i >= clusterCount) {
                reachable[n++] = local[j++];
            } else {
                int order = cluster[i].compareHostPort(local[j]);
                if (order < 0) {
                    reachable[n++] = cluster[i++];
                } else if (order > 0) {
                    reachable[n++] = local[j++];
                } else {
                    reachable[n++] = cluster[i++];
                    j++;
                }
            }
        }
        reachableSource = reachable;
        reachableCount = n;
    }

    public int clusterCount() {
        return clusterCount;
    }

    public Endpoint cluster(int i) {
        return cluster[i];
    }

    public int localCount() {
        return localCount;
    }

    public Endpoint local(int i) {
        return local[i];
    }

    /** Endpoints this node may send to under any of the service's policies: one KUBE-SEP chain each. */
    public int reachableCount() {
        return reachableCount;
    }

    public Endpoint reachable(int i) {
        return reachableSource[i];
    }

    /** Usable endpoints exist somewhere in the cluster. */
    public boolean hasAnyEndpoints() {
        return hasAnyEndpoints;
    }

    /** Drops references so a finished sync does not keep endpoints alive. */
    public void clear() {
        Arrays.fill(cluster, null);
        Arrays.fill(local, null);
        Arrays.fill(reachable, null);
    }
}
