package dev.railyard.proxy.daemon.ops;

import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.render.EndpointSelection;

/**
 * kube-proxy's sync_proxy_rules_no_local_endpoints_total: service ports with a Local traffic policy whose service
 * has usable endpoints somewhere but none on this node, so that this node drops their traffic. Counted per policy
 * (internal, external) with the renderers' own endpoint selection.
 */
final class NoLocalEndpoints {
    record Counts(int internal, int external) {
    }

    private NoLocalEndpoints() {
    }

    static Counts count(ProxyState state, String nodeName) {
        EndpointSelection selection = new EndpointSelection();
        int internal = 0;
        int external = 0;
        for (ProxyState.Entry entry : state.entries()) {
            ServicePort service = entry.service();
            if (!service.usesLocalEndpoints()) {
                continue;
            }
            selection.select(service, entry.endpoints(), nodeName, state.zone(), true);
            if (!selection.hasAnyEndpoints() || selection.localCount() > 0) {
                continue;
            }
            if (service.internalPolicyLocal()) {
                internal++;
            }
            if (service.externalPolicyLocal() && service.externallyAccessible()) {
                external++;
            }
        }
        selection.clear();
        return new Counts(internal, external);
    }
}
