package dev.railyard.proxy.sync;

import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePortName;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What {@link ChangeTracker#drain} hands a proxier: the whole new state of one IP family, and what changed since
 * the previous drain of that family. Immutable.
 *
 * @param state               every service port of the family with its endpoints
 * @param changedServices     "namespace/name" of the services whose ports or endpoints differ from the previous
 *                            drain; a service changed and changed back in between is not in it
 * @param goneUdpEndpoints    UDP endpoints that were serving and are not any more, for conntrack cleanup
 * @param newlyActiveUdpPorts UDP service ports that went from no serving endpoint to some: conntrack may hold
 *                            entries that black-holed their traffic meanwhile
 * @param firstChangeTimes    per changed service, the earliest trigger time of its pending changes, for
 *                            kubeproxy_network_programming_duration_seconds
 * @param contextChanged      the node's zone or the cluster's service CIDRs differ from the previous drain: every
 *                            service's rules may change, so the sync must be full (kube-proxy's OnTopologyChange
 *                            and OnServiceCIDRsChanged)
 */
public record StateUpdate(ProxyState state, Set<String> changedServices, List<StaleUdpEndpoint> goneUdpEndpoints,
                          Set<ServicePortName> newlyActiveUdpPorts, Map<String, Instant> firstChangeTimes,
                          boolean contextChanged) {
    public StateUpdate {
        Objects.requireNonNull(state, "state");
        changedServices = Set.copyOf(changedServices);
        goneUdpEndpoints = List.copyOf(goneUdpEndpoints);
        newlyActiveUdpPorts = Set.copyOf(newlyActiveUdpPorts);
        firstChangeTimes = Map.copyOf(firstChangeTimes);
    }

    public StateUpdate(ProxyState state, Set<String> changedServices, List<StaleUdpEndpoint> goneUdpEndpoints,
                       Set<ServicePortName> newlyActiveUdpPorts, Map<String, Instant> firstChangeTimes) {
        this(state, changedServices, goneUdpEndpoints, newlyActiveUdpPorts, firstChangeTimes, false);
    }

    public boolean hasChanges() {
        return !changedServices.isEmpty();
    }
}
