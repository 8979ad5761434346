package dev.railyard.proxy.userspace;

import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds service ports and states for the userspace proxy tests. */
final class Services {
    static final String NODE = "node-a";

    private final Map<ServicePort, List<Endpoint>> services = new LinkedHashMap<>();

    static ServicePortName name(String service, Protocol protocol) {
        return ServicePortName.of("default", service, "p", protocol);
    }

    /** A ready endpoint on another node. */
    static Endpoint endpoint(ServicePortName name, InetSocketAddress address) {
        return Endpoint.builder(name, address.getAddress().getHostAddress(), address.getPort()).nodeName("node-b").build();
    }

    static List<Endpoint> endpoints(ServicePortName name, List<InetSocketAddress> addresses) {
        List<Endpoint> list = new ArrayList<>();
        for (InetSocketAddress address : addresses) {
            list.add(endpoint(name, address));
        }
        return list;
    }

    Services add(ServicePort service, List<Endpoint> endpoints) {
        services.put(service, endpoints);
        return this;
    }

    ProxyState state() {
        return state(IpFamily.V4);
    }

    ProxyState state(IpFamily family) {
        Map<ServicePortName, List<Endpoint>> byName = new LinkedHashMap<>();
        services.forEach((service, endpoints) -> byName.put(service.name(), endpoints));
        return ProxyState.of(family, services.keySet(), byName);
    }

    static ProxyState single(ServicePort service, List<Endpoint> endpoints) {
        return new Services().add(service, endpoints).state();
    }
}
