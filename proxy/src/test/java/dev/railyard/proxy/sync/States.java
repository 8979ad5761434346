package dev.railyard.proxy.sync;

import dev.railyard.proxy.model.Cidr;
import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;
import dev.railyard.proxy.render.RenderConfig;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Small proxy states for partial-sync tests: a cluster of a few services built up one call at a time. */
final class States {
    static final String NODE = "node-a";
    static final String NODE_IP = "192.168.50.10";

    private final Map<ServicePortName, ServicePort> ports = new LinkedHashMap<>();
    private final Map<ServicePortName, List<Endpoint>> endpoints = new HashMap<>();

    static RenderConfig config() {
        return RenderConfig.builder(IpFamily.V4).nodeName(NODE).nodeIps(List.of(NODE_IP))
                .clusterCidrs(List.of("10.244.0.0/16")).build();
    }

    static ServicePortName name(String service, Protocol protocol) {
        return ServicePortName.of("default", service, "", protocol);
    }

    States copy() {
        States copy = new States();
        copy.ports.putAll(ports);
        endpoints.forEach((k, v) -> copy.endpoints.put(k, new ArrayList<>(v)));
        return copy;
    }

    States clusterIp(String service, Protocol protocol, String ip, int port) {
        return add(ServicePort.builder(name(service, protocol), ip, port).build());
    }

    States add(ServicePort port) {
        ports.put(port.name(), port);
        return this;
    }

    States remove(String service, Protocol protocol) {
        ports.remove(name(service, protocol));
        endpoints.remove(name(service, protocol));
        return this;
    }

    States endpoint(String service, Protocol protocol, String ip, int port, String node) {
        ServicePortName name = name(service, protocol);
        endpoints.computeIfAbsent(name, k -> new ArrayList<>())
                .add(Endpoint.builder(name, ip, port).nodeName(node).build());
        return this;
    }

    States withoutEndpoint(String service, Protocol protocol, String ip) {
        endpoints.getOrDefault(name(service, protocol), new ArrayList<>()).removeIf(e -> e.ip().equals(ip));
        return this;
    }

    ProxyState state() {
        return ProxyState.of(IpFamily.V4, ports.values(), endpoints);
    }

    /** Six services covering ClusterIP, NodePort, UDP, LoadBalancer with source ranges and Local policy. */
    static States sample() {
        States s = new States();
        s.add(ServicePort.builder(name("web", Protocol.TCP), "10.96.0.10", 80).nodePort(30080).build())
                .endpoint("web", Protocol.TCP, "10.244.1.5", 8080, NODE)
                .endpoint("web", Protocol.TCP, "10.244.2.5", 8080, "node-b");
        s.clusterIp("db", Protocol.TCP, "10.96.0.11", 5432).endpoint("db", Protocol.TCP, "10.244.2.7", 5432, "node-b");
        s.clusterIp("dns", Protocol.UDP, "10.96.0.53", 53)
                .endpoint("dns", Protocol.UDP, "10.244.1.53", 53, NODE)
                .endpoint("dns", Protocol.UDP, "10.244.2.53", 53, "node-b");
        s.add(ServicePort.builder(name("lb", Protocol.TCP), "10.96.0.12", 443).nodePort(30443)
                        .loadBalancerIps(List.of("203.0.113.7")).loadBalancerSourceRanges(List.of(Cidr.parse("198.51.100.0/24")))
                        .externalPolicyLocal(true).healthCheckNodePort(32000).build())
                .endpoint("lb", Protocol.TCP, "10.244.1.9", 8443, NODE)
                .endpoint("lb", Protocol.TCP, "10.244.2.9", 8443, "node-b");
        s.clusterIp("gone", Protocol.TCP, "10.96.0.13", 80).endpoint("gone", Protocol.TCP, "10.244.2.13", 80, "node-b");
        s.clusterIp("empty", Protocol.TCP, "10.96.0.14", 80);
        return s;
    }
}
