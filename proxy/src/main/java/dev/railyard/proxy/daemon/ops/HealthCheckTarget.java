package dev.railyard.proxy.daemon.ops;

import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * What one service health-check port reports: the service, and how many ready endpoints it has on this node.
 *
 * @param localEndpoints ready endpoints on this node: distinct IPs over all the service's ports (kube-proxy's
 *                       count, so a pod serving 80 and 443 is one endpoint, not two)
 */
public record HealthCheckTarget(String namespace, String name, int localEndpoints) {
    public HealthCheckTarget {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(name, "name");
        if (localEndpoints < 0) {
            throw new IllegalArgumentException("localEndpoints " + localEndpoints + " < 0");
        }
    }

    /**
     * The health-check ports the proxier states ask for, as kube-proxy derives them: every service port with a
     * healthCheckNodePort (externalTrafficPolicy Local), and its local ready endpoints (terminating ones do not
     * count, so a load balancer drains the node). Dual-stack: pass both families' states; counts add up.
     */
    public static Map<Integer, HealthCheckTarget> of(String nodeName, ProxyState... states) {
        Map<Integer, String> serviceByPort = new TreeMap<>();
        Map<String, Set<String>> localByService = new HashMap<>();
        for (ProxyState state : states) {
            for (ProxyState.Entry entry : state.entries()) {
                ServicePort service = entry.service();
                if (service.healthCheckNodePort() == 0) {
                    continue;
                }
                String key = service.name().serviceKey();
                serviceByPort.put(service.healthCheckNodePort(), key);
                Set<String> local = localByService.computeIfAbsent(key, k -> new HashSet<>());
                for (Endpoint endpoint : entry.endpoints()) {
                    if (endpoint.ready() && endpoint.isOn(nodeName)) {
                        local.add(endpoint.ip());
                    }
                }
            }
        }
        Map<Integer, HealthCheckTarget> result = new TreeMap<>();
        serviceByPort.forEach((port, key) -> {
            int slash = key.indexOf('/');
            result.put(port, new HealthCheckTarget(key.substring(0, slash), key.substring(slash + 1),
                    localByService.get(key).size()));
        });
        return result;
    }

    /** "namespace/name". */
    public String serviceKey() {
        return namespace + "/" + name;
    }
}
