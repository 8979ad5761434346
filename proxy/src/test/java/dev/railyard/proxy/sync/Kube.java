package dev.railyard.proxy.sync;

import io.kubernetes.client.openapi.models.DiscoveryV1EndpointPort;
import io.kubernetes.client.openapi.models.V1Endpoint;
import io.kubernetes.client.openapi.models.V1EndpointConditions;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1ServicePort;
import io.kubernetes.client.openapi.models.V1ServiceSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Kubernetes API objects as an informer would deliver them, built compactly for tests. */
final class Kube {
    private Kube() {
    }

    static V1Service service(String name, String clusterIp, String protocol, int port) {
        return new V1Service().metadata(new V1ObjectMeta().namespace("default").name(name))
                .spec(new V1ServiceSpec().type("ClusterIP").clusterIP(clusterIp).clusterIPs(List.of(clusterIp))
                        .ports(List.of(new V1ServicePort().protocol(protocol).port(port))));
    }

    static V1Service dualStackService(String name, String ipv4, String ipv6, int port) {
        return new V1Service().metadata(new V1ObjectMeta().namespace("default").name(name))
                .spec(new V1ServiceSpec().type("ClusterIP").clusterIP(ipv4).clusterIPs(List.of(ipv4, ipv6))
                        .ports(List.of(new V1ServicePort().protocol("TCP").port(port))));
    }

    static V1Service nodePortService(String name, String clusterIp, int port, int nodePort) {
        return new V1Service().metadata(new V1ObjectMeta().namespace("default").name(name))
                .spec(new V1ServiceSpec().type("NodePort").clusterIP(clusterIp).clusterIPs(List.of(clusterIp))
                        .ports(List.of(new V1ServicePort().protocol("TCP").port(port).nodePort(nodePort))));
    }

    /** @param endpoints "ip@node" or "ip" */
    static V1EndpointSlice slice(String sliceName, String service, String protocol, int port, String... endpoints) {
        List<V1Endpoint> list = new ArrayList<>();
        String addressType = "IPv4";
        for (String endpoint : endpoints) {
            String[] parts = endpoint.split("@");
            if (parts[0].contains(":")) {
                addressType = "IPv6";
            }
            list.add(new V1Endpoint().addresses(List.of(parts[0])).nodeName(parts.length > 1 ? parts[1] : null)
                    .conditions(new V1EndpointConditions().ready(true).serving(true).terminating(false)));
        }
        return new V1EndpointSlice().addressType(addressType)
                .metadata(new V1ObjectMeta().namespace("default").name(sliceName)
                        .labels(Map.of("kubernetes.io/service-name", service)))
                .ports(List.of(new DiscoveryV1EndpointPort().protocol(protocol).port(port)))
                .endpoints(list);
    }

    static V1EndpointSlice withTriggerTime(V1EndpointSlice slice, String time) {
        slice.getMetadata().annotations(Map.of("endpoints.kubernetes.io/last-change-trigger-time", time));
        return slice;
    }
}
