package dev.railyard.proxy.daemon;

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

/** The API objects the daemon tests create: one-port ClusterIP services and their slices, all on one node. */
final class ApiObjects {
    private ApiObjects() {
    }

    static V1Service service(String name, String clusterIp, int port) {
        return new V1Service().apiVersion("v1").kind("Service")
                .metadata(new V1ObjectMeta().namespace("default").name(name))
                .spec(new V1ServiceSpec().type("ClusterIP").clusterIP(clusterIp).clusterIPs(List.of(clusterIp))
                        .ports(List.of(new V1ServicePort().protocol("TCP").port(port))));
    }

    static V1EndpointSlice slice(String name, String service, String node, int port, String... addresses) {
        List<V1Endpoint> endpoints = new ArrayList<>();
        for (String address : addresses) {
            endpoints.add(new V1Endpoint().addresses(List.of(address)).nodeName(node)
                    .conditions(new V1EndpointConditions().ready(true).serving(true).terminating(false)));
        }
        return new V1EndpointSlice().apiVersion("discovery.k8s.io/v1").kind("EndpointSlice").addressType("IPv4")
                .metadata(new V1ObjectMeta().namespace("default").name(name)
                        .labels(Map.of("kubernetes.io/service-name", service)))
                .ports(List.of(new DiscoveryV1EndpointPort().protocol("TCP").port(port)))
                .endpoints(endpoints);
    }
}
