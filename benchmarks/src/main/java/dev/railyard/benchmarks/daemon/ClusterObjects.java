package dev.railyard.benchmarks.daemon;

import dev.railyard.benchmarks.ClusterGenerator;
import dev.railyard.proxy.model.Cidr;
import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;
import io.kubernetes.client.openapi.models.DiscoveryV1EndpointPort;
import io.kubernetes.client.openapi.models.V1ClientIPConfig;
import io.kubernetes.client.openapi.models.V1Endpoint;
import io.kubernetes.client.openapi.models.V1EndpointConditions;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1LoadBalancerIngress;
import io.kubernetes.client.openapi.models.V1LoadBalancerStatus;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1ServicePort;
import io.kubernetes.client.openapi.models.V1ServiceSpec;
import io.kubernetes.client.openapi.models.V1ServiceStatus;
import io.kubernetes.client.openapi.models.V1SessionAffinityConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link ClusterGenerator} cluster as the API objects an informer would deliver: one v1 Service and one
 * EndpointSlice per service, so the daemon benchmarks go through the same conversion, tracking and merging as
 * objects from the API server do.
 *
 * <p>The conversion back differs from the generated model in one place: the API (and so the converter) only
 * gives a health check node port to LoadBalancer services, while the generator also gives one to
 * {@code externalTrafficPolicy: Local} NodePort services. The benchmarks report the bytes of what the daemon
 * actually programs.
 */
public record ClusterObjects(List<V1Service> services, List<V1EndpointSlice> slices) {
    public static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";

    public static ClusterObjects of(ProxyState state) {
        Map<String, List<ProxyState.Entry>> byService = new LinkedHashMap<>();
        for (ProxyState.Entry entry : state.entries()) {
            byService.computeIfAbsent(entry.service().name().serviceKey(), k -> new ArrayList<>()).add(entry);
        }
        List<V1Service> services = new ArrayList<>(byService.size());
        List<V1EndpointSlice> slices = new ArrayList<>(byService.size());
        for (List<ProxyState.Entry> ports : byService.values()) {
            services.add(service(ports));
            slices.add(slice(ports));
        }
        return new ClusterObjects(List.copyOf(services), List.copyOf(slices));
    }

    /** The name of the slice of a service, as the EndpointSlice controller would pick it (less the suffix). */
    public static String sliceName(String serviceName) {
        return serviceName + "-abcde";
    }

    private static V1Service service(List<ProxyState.Entry> ports) {
        ServicePort first = ports.get(0).service();
        String type = !first.loadBalancerIps().isEmpty() ? "LoadBalancer"
                : first.nodePort() != 0 ? "NodePort" : "ClusterIP";
        V1ServiceSpec spec = new V1ServiceSpec().type(type).clusterIP(first.clusterIp())
                .clusterIPs(List.of(first.clusterIp()));
        for (ProxyState.Entry entry : ports) {
            ServicePort port = entry.service();
            V1ServicePort apiPort = new V1ServicePort().protocol(port.protocol().name()).port(port.port());
            if (!port.name().port().isEmpty()) {
                apiPort.name(port.name().port());
            }
            if (port.nodePort() != 0) {
                apiPort.nodePort(port.nodePort());
            }
            spec.addPortsItem(apiPort);
        }
        if (!first.externalIps().isEmpty()) {
            spec.externalIPs(first.externalIps());
        }
        if (!first.loadBalancerSourceRanges().isEmpty()) {
            spec.loadBalancerSourceRanges(first.loadBalancerSourceRanges().stream().map(Cidr::toString).toList());
        }
        if (first.externalPolicyLocal()) {
            spec.externalTrafficPolicy("Local");
            if (first.healthCheckNodePort() != 0) {
                spec.healthCheckNodePort(first.healthCheckNodePort());
            }
        }
        if (first.internalPolicyLocal()) {
            spec.internalTrafficPolicy("Local");
        }
        if (first.clientIpAffinity()) {
            spec.sessionAffinity("ClientIP").sessionAffinityConfig(new V1SessionAffinityConfig()
                    .clientIP(new V1ClientIPConfig().timeoutSeconds(first.affinityTimeoutSeconds())));
        }
        V1Service service = new V1Service().apiVersion("v1").kind("Service")
                .metadata(new V1ObjectMeta().namespace(first.name().namespace()).name(first.name().name()))
                .spec(spec);
        if (!first.loadBalancerIps().isEmpty()) {
            List<V1LoadBalancerIngress> ingress = new ArrayList<>();
            first.loadBalancerIps().forEach(ip -> ingress.add(new V1LoadBalancerIngress().ip(ip)));
            service.status(new V1ServiceStatus().loadBalancer(new V1LoadBalancerStatus().ingress(ingress)));
        }
        return service;
    }

    /** One slice with every port; the generator gives all ports of a service the same pods. */
    private static V1EndpointSlice slice(List<ProxyState.Entry> ports) {
        ServicePort first = ports.get(0).service();
        List<DiscoveryV1EndpointPort> apiPorts = new ArrayList<>();
        for (ProxyState.Entry entry : ports) {
            ServicePort port = entry.service();
            int targetPort = entry.endpoints().isEmpty() ? port.port() : entry.endpoints().get(0).port();
            apiPorts.add(new DiscoveryV1EndpointPort().name(port.name().port()).protocol(port.protocol().name())
                    .port(targetPort));
        }
        List<V1Endpoint> endpoints = new ArrayList<>();
        for (Endpoint endpoint : ports.get(0).endpoints()) {
            endpoints.add(endpoint(endpoint.ip(), endpoint.nodeName(), endpoint.ready(), endpoint.serving(),
                    endpoint.terminating()));
        }
        return new V1EndpointSlice().apiVersion("discovery.k8s.io/v1").kind("EndpointSlice").addressType("IPv4")
                .metadata(new V1ObjectMeta().namespace(first.name().namespace())
                        .name(sliceName(first.name().name()))
                        .labels(Map.of(SERVICE_NAME_LABEL, first.name().name())))
                .ports(apiPorts).endpoints(endpoints);
    }

    static V1Endpoint endpoint(String ip, String node, boolean ready, boolean serving, boolean terminating) {
        return new V1Endpoint().addresses(List.of(ip)).nodeName(node)
                .conditions(new V1EndpointConditions().ready(ready).serving(serving).terminating(terminating));
    }
}
