package dev.railyard.proxy.source;

import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Names;
import dev.railyard.proxy.model.ServicePortName;
import inet.ipaddr.IPAddress;
import io.kubernetes.client.openapi.models.DiscoveryV1EndpointPort;
import io.kubernetes.client.openapi.models.V1Endpoint;
import io.kubernetes.client.openapi.models.V1EndpointConditions;
import io.kubernetes.client.openapi.models.V1EndpointHints;
import io.kubernetes.client.openapi.models.V1ForNode;
import io.kubernetes.client.openapi.models.V1ForZone;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1ObjectMeta;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a discovery.k8s.io/v1 EndpointSlice into endpoints per service port, as kube-proxy's endpoint slice
 * cache reads one: the first address of each endpoint, nil conditions meaning ready, FQDN slices ignored.
 */
public final class EndpointSliceConverter {
    /** The label that ties a slice to its Service. */
    public static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";

    private EndpointSliceConverter() {
    }

    /** Why kube-proxy would not read this slice at all, or null. */
    public static String ignoredBecause(V1EndpointSlice slice) {
        V1ObjectMeta metadata = slice.getMetadata();
        if (metadata != null && metadata.getLabels() != null) {
            if (metadata.getLabels().containsKey(ServiceConverter.SERVICE_PROXY_NAME_LABEL)) {
                return "it is labelled " + ServiceConverter.SERVICE_PROXY_NAME_LABEL + " (served by another proxy)";
            }
            if (metadata.getLabels().containsKey(ServiceConverter.HEADLESS_LABEL)) {
                return "it belongs to a headless service";
            }
        }
        if ("FQDN".equals(slice.getAddressType())) {
            return "its addressType is FQDN (not proxied)";
        }
        return null;
    }

    /** The slice's family and endpoints; every field is validated before anything is returned. */
    public static Converted convert(V1EndpointSlice slice) throws InvalidFieldException {
        V1ObjectMeta metadata = slice.getMetadata();
        if (metadata == null) {
            throw new InvalidFieldException("metadata", "missing");
        }
        if (metadata.getName() == null || !Names.isDns1123Subdomain(metadata.getName())) {
            throw new InvalidFieldException("metadata.name", metadata.getName() == null ? "missing"
                    : "\"" + metadata.getName() + "\" is not a valid DNS-1123 subdomain");
        }
        String namespace = metadata.getNamespace() == null ? ServiceConverter.DEFAULT_NAMESPACE
                : metadata.getNamespace();
        if (!Names.isDns1123Label(namespace)) {
            throw new InvalidFieldException("metadata.namespace", "\"" + namespace
                    + "\" is not a valid DNS-1123 label");
        }
        String service = metadata.getLabels() == null ? null : metadata.getLabels().get(SERVICE_NAME_LABEL);
        if (service == null || service.isEmpty()) {
            throw new InvalidFieldException("metadata.labels", "missing the " + SERVICE_NAME_LABEL
                    + " label that names the slice's Service");
        }
        if (!Names.isDns1035Label(service)) {
            throw new InvalidFieldException("metadata.labels", SERVICE_NAME_LABEL + " \"" + service
                    + "\" is not a valid service name");
        }
        IpFamily family;
        if ("IPv4".equals(slice.getAddressType())) {
            family = IpFamily.V4;
        } else if ("IPv6".equals(slice.getAddressType())) {
            family = IpFamily.V6;
        } else {
            throw new InvalidFieldException("addressType", slice.getAddressType() == null ? "missing"
                    : "unknown address type \"" + slice.getAddressType() + "\" (must be IPv4, IPv6 or FQDN)");
        }

        List<DiscoveryV1EndpointPort> ports = Fields.list(slice.getPorts(), "ports");
        List<ServicePortName> portNames = new ArrayList<>(ports.size());
        for (int i = 0; i < ports.size(); i++) {
            DiscoveryV1EndpointPort port = ports.get(i);
            portNames.add(Fields.endpointPort(namespace, service, port.getName(), port.getProtocol(), port.getPort(),
                    "ports[" + i + "]", portNames));
        }

        List<V1Endpoint> endpoints = Fields.list(slice.getEndpoints(), "endpoints");
        Map<ServicePortName, List<Endpoint>> result = new LinkedHashMap<>();
        for (ServicePortName portName : portNames) {
            result.put(portName, new ArrayList<>(endpoints.size()));
        }
        for (int e = 0; e < endpoints.size(); e++) {
            V1Endpoint endpoint = endpoints.get(e);
            String field = "endpoints[" + e + "]";
            List<String> addresses = Fields.list(endpoint.getAddresses(), field + ".addresses");
            if (addresses.isEmpty()) {
                throw new InvalidFieldException(field + ".addresses", "an endpoint needs at least one address");
            }
            IPAddress address = Fields.address(addresses.get(0), field + ".addresses[0]");
            if (IpAddresses.familyOf(address) != family) {
                throw new InvalidFieldException(field + ".addresses[0]", "\"" + addresses.get(0)
                        + "\" is not an " + family.kubernetesName() + " address, as the slice's addressType says");
            }
            String ip = IpAddresses.canonical(address);
            if (ip.equals(addresses.get(0))) {
                ip = addresses.get(0); // the source keeps that one anyway: one copy, not two
            }
            String nodeName = endpoint.getNodeName();
            if (nodeName != null && !Names.isDns1123Subdomain(nodeName)) {
                throw new InvalidFieldException(field + ".nodeName", "\"" + nodeName
                        + "\" is not a valid node name");
            }
            V1EndpointConditions conditions = endpoint.getConditions();
            boolean ready = conditions == null || conditions.getReady() == null || conditions.getReady();
            boolean serving = conditions == null || conditions.getServing() == null ? ready : conditions.getServing();
            boolean terminating = conditions != null && Boolean.TRUE.equals(conditions.getTerminating());
            List<String> zoneHints = List.of();
            List<String> nodeHints = List.of();
            V1EndpointHints hints = endpoint.getHints();
            if (hints != null) {
                zoneHints = hintNames(Fields.list(hints.getForZones(), field + ".hints.forZones"),
                        V1ForZone::getName, field + ".hints.forZones");
                nodeHints = hintNames(Fields.list(hints.getForNodes(), field + ".hints.forNodes"),
                        V1ForNode::getName, field + ".hints.forNodes");
            }
            for (int p = 0; p < portNames.size(); p++) {
                ServicePortName portName = portNames.get(p);
                result.get(portName).add(Endpoint.builder(portName, ip, ports.get(p).getPort())
                        .ready(ready)
                        .serving(serving)
                        .terminating(terminating)
                        .nodeName(nodeName)
                        .zone(endpoint.getZone())
                        .zoneHints(zoneHints)
                        .nodeHints(nodeHints)
                        .build());
            }
        }
        return new Converted(namespace + "/" + service, family, result);
    }

    /** The names of a hints list; a hint without a name is an error, as the API server's validation has it. */
    private static <T> List<String> hintNames(List<T> hints, java.util.function.Function<T, String> name,
                                              String field) throws InvalidFieldException {
        if (hints.isEmpty()) {
            return List.of();
        }
        List<String> names = new ArrayList<>(hints.size());
        for (int i = 0; i < hints.size(); i++) {
            String value = name.apply(hints.get(i));
            if (value == null || value.isEmpty()) {
                throw new InvalidFieldException(field + "[" + i + "].name", "missing");
            }
            names.add(value);
        }
        return names;
    }

    /** What one slice contributes. */
    public static final class Converted {
        private final String serviceKey;
        private final IpFamily family;
        private final Map<ServicePortName, List<Endpoint>> endpoints;

        Converted(String serviceKey, IpFamily family, Map<ServicePortName, List<Endpoint>> endpoints) {
            this.serviceKey = serviceKey;
            this.family = family;
            this.endpoints = endpoints;
        }

        /** "namespace/name" of the Service the slice belongs to. */
        public String serviceKey() {
            return serviceKey;
        }

        public IpFamily family() {
            return family;
        }

        public Map<ServicePortName, List<Endpoint>> endpoints() {
            return endpoints;
        }
    }
}
