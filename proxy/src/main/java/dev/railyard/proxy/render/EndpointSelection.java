package dev.railyard.proxy.render;

import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.ServicePort;

import java.util.Arrays;
import java.util.List;

/**
 * Which endpoints each traffic policy of one service port uses on this node, as kube-proxy's
 * CategorizeEndpoints decides it: ready endpoints, falling back to serving-and-terminating ones when a policy
 * has no ready endpoint. Reused across service ports, so a sync allocates nothing here. Topology hints are not
 * applied (a node's zone is not known to the renderer). Shared by the iptables and nftables renderers.
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

    public void select(ServicePort service, List<Endpoint> endpoints, String nodeName) {
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

        if (service.usesClusterEndpoints()) {
            for (int i = 0; i < size; i++) {
                Endpoint ep = endpoints.get(i);
                if (ep.ready()) {
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
        } else if (!usesServingTerminating) {
            // Local holds only ready endpoints, all of which are in cluster already.
            reachableSource = cluster;
            reachableCount = clusterCount;
        } else {
            mergeClusterAndLocal();
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
