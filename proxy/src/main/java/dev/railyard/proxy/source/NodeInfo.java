package dev.railyard.proxy.source;

import dev.railyard.proxy.model.IpAddresses;
import inet.ipaddr.IPAddress;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeSpec;
import io.kubernetes.client.openapi.models.V1Taint;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What the proxy reads from its own Node object, as kube-proxy does: the zone label (topology hints), the pod CIDRs
 * (the NodeCIDR local-traffic detector) and whether the node is going away (deletion or the cluster autoscaler's
 * taint, which make /healthz answer 503 so that load balancers drain the node). Immutable.
 *
 * @param zone     the {@value #ZONE_LABEL} label; empty when unset
 * @param podCidrs spec.podCIDRs (or spec.podCIDR), canonical; invalid entries are left out
 * @param eligible neither being deleted nor tainted {@value #TO_BE_DELETED_TAINT}
 */
public record NodeInfo(String name, String zone, List<String> podCidrs, boolean eligible) {
    public static final String ZONE_LABEL = "topology.kubernetes.io/zone";
    /** The cluster autoscaler's taint on a node it is about to delete. */
    public static final String TO_BE_DELETED_TAINT = "ToBeDeletedByClusterAutoscaler";

    /** What a node has before its Node object is known: no zone, no pod CIDRs, eligible (kube-proxy's start). */
    public static NodeInfo unknown(String name) {
        return new NodeInfo(name, "", List.of(), true);
    }

    public NodeInfo {
        podCidrs = List.copyOf(podCidrs);
    }

    public static NodeInfo of(V1Node node) {
        String name = node.getMetadata() == null ? "" : String.valueOf(node.getMetadata().getName());
        Map<String, String> labels = node.getMetadata() == null ? null : node.getMetadata().getLabels();
        String zone = labels == null ? null : labels.get(ZONE_LABEL);
        boolean eligible = node.getMetadata() == null || node.getMetadata().getDeletionTimestamp() == null;
        List<String> cidrs = new ArrayList<>();
        V1NodeSpec spec = node.getSpec();
        if (spec != null) {
            if (spec.getTaints() != null) {
                for (V1Taint taint : spec.getTaints()) {
                    if (taint != null && TO_BE_DELETED_TAINT.equals(taint.getKey())) {
                        eligible = false;
                    }
                }
            }
            List<String> podCidrs = spec.getPodCIDRs() != null && !spec.getPodCIDRs().isEmpty() ? spec.getPodCIDRs()
                    : spec.getPodCIDR() == null ? List.of() : List.of(spec.getPodCIDR());
            for (String text : podCidrs) {
                if (text == null) {
                    continue;
                }
                try {
                    IPAddress cidr = IpAddresses.parseCidr(text.trim());
                    cidrs.add(IpAddresses.canonicalCidr(cidr));
                } catch (IllegalArgumentException e) {
                    // Not a CIDR: the API server validates podCIDRs, so only a hand-made object gets here.
                }
            }
        }
        return new NodeInfo(name, zone == null ? "" : zone, cidrs, eligible);
    }
}
