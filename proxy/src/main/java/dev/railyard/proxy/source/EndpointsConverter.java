package dev.railyard.proxy.source;

import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Names;
import dev.railyard.proxy.model.ServicePortName;
import inet.ipaddr.IPAddress;
import io.kubernetes.client.openapi.models.CoreV1EndpointPort;
import io.kubernetes.client.openapi.models.V1EndpointAddress;
import io.kubernetes.client.openapi.models.V1EndpointSubset;
import io.kubernetes.client.openapi.models.V1Endpoints;
import io.kubernetes.client.openapi.models.V1ObjectMeta;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads legacy v1 Endpoints, for dumps of clusters (or tools) that have no EndpointSlices. Ready addresses are
 * ready; notReadyAddresses are neither ready nor serving, since Endpoints cannot say "terminating".
 */
public final class EndpointsConverter {
    private EndpointsConverter() {
    }

    public static List<EndpointSliceConverter.Converted> convert(V1Endpoints endpoints) throws InvalidFieldException {
        V1ObjectMeta metadata = endpoints.getMetadata();
        if (metadata == null || metadata.getName() == null) {
            throw new InvalidFieldException("metadata.name", "missing");
        }
        String service = metadata.getName();
        if (!Names.isDns1035Label(service)) {
            throw new InvalidFieldException("metadata.name", "\"" + service + "\" is not a valid service name");
        }
        String namespace = metadata.getNamespace() == null ? ServiceConverter.DEFAULT_NAMESPACE
                : metadata.getNamespace();
        if (!Names.isDns1123Label(namespace)) {
            throw new InvalidFieldException("metadata.namespace", "\"" + namespace
                    + "\" is not a valid DNS-1123 label");
        }
        Map<IpFamily, Map<ServicePortName, List<Endpoint>>> byFamily = new EnumMap<>(IpFamily.class);
        List<V1EndpointSubset> subsets = Fields.list(endpoints.getSubsets(), "subsets");
        for (int s = 0; s < subsets.size(); s++) {
            V1EndpointSubset subset = subsets.get(s);
            String field = "subsets[" + s + "]";
            List<CoreV1EndpointPort> ports = Fields.list(subset.getPorts(), field + ".ports");
            List<ServicePortName> names = new ArrayList<>();
            for (int p = 0; p < ports.size(); p++) {
                CoreV1EndpointPort port = ports.get(p);
                names.add(Fields.endpointPort(namespace, service, port.getName(), port.getProtocol(), port.getPort(),
                        field + ".ports[" + p + "]", names));
            }
            addAll(byFamily, Fields.list(subset.getAddresses(), field + ".addresses"), field + ".addresses", names,
                    ports, true);
            addAll(byFamily, Fields.list(subset.getNotReadyAddresses(), field + ".notReadyAddresses"),
                    field + ".notReadyAddresses", names, ports, false);
        }
        List<EndpointSliceConverter.Converted> result = new ArrayList<>();
        for (Map.Entry<IpFamily, Map<ServicePortName, List<Endpoint>>> entry : byFamily.entrySet()) {
            result.add(new EndpointSliceConverter.Converted(namespace + "/" + service, entry.getKey(),
                    entry.getValue()));
        }
        return result;
    }

    private static void addAll(Map<IpFamily, Map<ServicePortName, List<Endpoint>>> byFamily,
                               List<V1EndpointAddress> addresses, String field, List<ServicePortName> names,
                               List<CoreV1EndpointPort> ports, boolean ready) throws InvalidFieldException {
        for (int a = 0; a < addresses.size(); a++) {
            V1EndpointAddress address = addresses.get(a);
            IPAddress ip = Fields.address(address.getIp(), field + "[" + a + "].ip");
            String nodeName = address.getNodeName();
            if (nodeName != null && !Names.isDns1123Subdomain(nodeName)) {
                throw new InvalidFieldException(field + "[" + a + "].nodeName", "\"" + nodeName
                        + "\" is not a valid node name");
            }
            Map<ServicePortName, List<Endpoint>> endpoints =
                    byFamily.computeIfAbsent(IpAddresses.familyOf(ip), f -> new LinkedHashMap<>());
            for (int p = 0; p < names.size(); p++) {
                endpoints.computeIfAbsent(names.get(p), n -> new ArrayList<>())
                        .add(Endpoint.builder(names.get(p), IpAddresses.canonical(ip), ports.get(p).getPort())
                                .ready(ready)
                                .serving(ready)
                                .nodeName(nodeName)
                                .build());
            }
        }
    }
}
