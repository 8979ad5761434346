package dev.railyard.proxy.source;

import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ServicePortName;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One Service's endpoints over all its EndpointSlices, as kube-proxy's endpoint slice cache merges them: an
 * address listed by two slices counts once, and the copy that says it is on this node wins.
 */
public final class SliceMerge {
    private SliceMerge() {
    }

    /** Endpoints of {@code family} by service port, each list in host:port order; ports without any are left out. */
    public static Map<ServicePortName, List<Endpoint>> merge(Iterable<EndpointSliceConverter.Converted> slices,
                                                              IpFamily family, String nodeName) {
        Map<ServicePortName, Map<String, Endpoint>> merged = new HashMap<>();
        for (EndpointSliceConverter.Converted slice : slices) {
            if (slice.family() != family) {
                continue;
            }
            for (Map.Entry<ServicePortName, List<Endpoint>> port : slice.endpoints().entrySet()) {
                Map<String, Endpoint> byAddress = merged.computeIfAbsent(port.getKey(), k -> new HashMap<>());
                for (Endpoint endpoint : port.getValue()) {
                    String address = endpoint.hostPort();
                    Endpoint existing = byAddress.get(address);
                    if (existing == null || (endpoint.isOn(nodeName) && !existing.isOn(nodeName))) {
                        byAddress.put(address, endpoint);
                    }
                }
            }
        }
        Map<ServicePortName, List<Endpoint>> result = new HashMap<>();
        for (Map.Entry<ServicePortName, Map<String, Endpoint>> port : merged.entrySet()) {
            if (!port.getValue().isEmpty()) {
                List<Endpoint> list = new ArrayList<>(port.getValue().values());
                list.sort(Endpoint.HOST_PORT_ORDER);
                result.put(port.getKey(), list);
            }
        }
        return result;
    }
}
