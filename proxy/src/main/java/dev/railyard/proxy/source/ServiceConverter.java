package dev.railyard.proxy.source;

import dev.railyard.proxy.model.Cidr;
import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Names;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;
import inet.ipaddr.IPAddress;
import io.kubernetes.client.openapi.models.V1LoadBalancerIngress;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1ServicePort;
import io.kubernetes.client.openapi.models.V1ServiceSpec;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a v1 Service into the service ports the proxy programs, per IP family, with kube-proxy's reading of
 * each field. Validates everything first: an object with one bad field is rejected whole, with the field named,
 * rather than half-programmed.
 */
public final class ServiceConverter {
    /** Services with this label belong to another proxy. */
    public static final String SERVICE_PROXY_NAME_LABEL = "service.kubernetes.io/service-proxy-name";
    /** Set by the API server's endpoints controllers on headless Services and their slices. */
    public static final String HEADLESS_LABEL = "service.kubernetes.io/headless";
    static final String DEFAULT_NAMESPACE = "default";

    private ServiceConverter() {
    }

    /** Why kube-proxy would leave this Service alone, or null when it is to be programmed. */
    public static String ignoredBecause(V1Service service) {
        V1ObjectMeta metadata = service.getMetadata();
        if (metadata != null && metadata.getLabels() != null) {
            if (metadata.getLabels().containsKey(SERVICE_PROXY_NAME_LABEL)) {
                return "it is labelled " + SERVICE_PROXY_NAME_LABEL + " (served by another proxy)";
            }
            if (metadata.getLabels().containsKey(HEADLESS_LABEL)) {
                return "it is labelled " + HEADLESS_LABEL;
            }
        }
        V1ServiceSpec spec = service.getSpec();
        if (spec == null) {
            return null;
        }
        if ("ExternalName".equals(spec.getType())) {
            return "it is an ExternalName service (DNS only)";
        }
        if ("None".equals(spec.getClusterIP())) {
            return "it is headless (clusterIP: None)";
        }
        return null;
    }

    /** Service ports by family; a family the Service has no cluster IP in has no entry. */
    public static Map<IpFamily, List<ServicePort>> convert(V1Service service) throws InvalidFieldException {
        V1ObjectMeta metadata = service.getMetadata();
        if (metadata == null) {
            throw new InvalidFieldException("metadata", "missing");
        }
        String name = metadata.getName();
        if (name == null || name.isEmpty()) {
            throw new InvalidFieldException("metadata.name", "missing");
        }
        if (!Names.isDns1035Label(name)) {
            throw new InvalidFieldException("metadata.name", "\"" + name + "\" is not a valid DNS-1035 label "
                    + "(lower-case letters, digits and '-', starting with a letter, at most 63 characters)");
        }
        String namespace = metadata.getNamespace() == null ? DEFAULT_NAMESPACE : metadata.getNamespace();
        if (!Names.isDns1123Label(namespace)) {
            throw new InvalidFieldException("metadata.namespace", "\"" + namespace
                    + "\" is not a valid DNS-1123 label");
        }
        V1ServiceSpec spec = service.getSpec();
        if (spec == null) {
            throw new InvalidFieldException("spec", "missing");
        }

        String type = spec.getType() == null ? "ClusterIP" : spec.getType();
        if (!type.equals("ClusterIP") && !type.equals("NodePort") && !type.equals("LoadBalancer")) {
            throw new InvalidFieldException("spec.type", "unknown service type \"" + type
                    + "\" (must be ClusterIP, NodePort, LoadBalancer or ExternalName)");
        }
        Map<IpFamily, String> clusterIps = clusterIps(spec);
        if (clusterIps.isEmpty()) {
            throw new InvalidFieldException("spec.clusterIP", "not set (the API server allocates it; "
                    + "a dump from a cluster has it)");
        }
        List<String> externalIpList = Fields.list(spec.getExternalIPs(), "spec.externalIPs");
        Map<IpFamily, List<String>> externalIps = addressesByFamily(externalIpList, "spec.externalIPs");
        Map<IpFamily, List<Cidr>> sourceRanges = sourceRangesByFamily(spec.getLoadBalancerSourceRanges());
        Map<IpFamily, List<String>> loadBalancerIps = loadBalancerIpsByFamily(service);

        boolean clientIpAffinity = affinity(spec);
        int affinityTimeout = clientIpAffinity ? affinityTimeout(spec) : 0;
        String externalPolicy = policy(spec.getExternalTrafficPolicy(), "spec.externalTrafficPolicy");
        String internalPolicy = policy(spec.getInternalTrafficPolicy(), "spec.internalTrafficPolicy");
        boolean externallyAccessible = type.equals("LoadBalancer") || type.equals("NodePort")
                || !externalIpList.isEmpty();
        boolean externalPolicyLocal = externallyAccessible && "Local".equals(externalPolicy);
        boolean internalPolicyLocal = "Local".equals(internalPolicy);
        int healthCheckNodePort = 0;
        if (type.equals("LoadBalancer") && externalPolicyLocal && spec.getHealthCheckNodePort() != null) {
            healthCheckNodePort = Fields.port(spec.getHealthCheckNodePort(), "spec.healthCheckNodePort", true);
        }

        List<V1ServicePort> ports = Fields.list(spec.getPorts(), "spec.ports");
        if (ports.isEmpty()) {
            throw new InvalidFieldException("spec.ports", "a service needs at least one port");
        }
        Map<IpFamily, List<ServicePort>> result = new EnumMap<>(IpFamily.class);
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < ports.size(); i++) {
            V1ServicePort port = ports.get(i);
            String field = "spec.ports[" + i + "]";
            String portName = Fields.portName(port.getName(), field + ".name");
            if (portName.isEmpty() && ports.size() > 1) {
                throw new InvalidFieldException(field + ".name", "required when a service has more than one port");
            }
            Protocol protocol = Fields.protocol(port.getProtocol(), field + ".protocol");
            if (!seen.add(portName + "/" + protocol)) {
                throw new InvalidFieldException(field + ".name", "duplicate port \"" + portName + "\" over "
                        + protocol);
            }
            if (port.getPort() == null) {
                throw new InvalidFieldException(field + ".port", "missing");
            }
            int number = Fields.port(port.getPort(), field + ".port", false);
            int nodePort = port.getNodePort() == null ? 0 : Fields.port(port.getNodePort(), field + ".nodePort", true);
            if (type.equals("ClusterIP")) {
                nodePort = 0; // a leftover nodePort on a ClusterIP service opens nothing
            }
            ServicePortName portId = ServicePortName.of(namespace, name, portName, protocol);
            for (Map.Entry<IpFamily, String> clusterIp : clusterIps.entrySet()) {
                IpFamily family = clusterIp.getKey();
                ServicePort.Builder builder = ServicePort.builder(portId, clusterIp.getValue(), number)
                        .nodePort(nodePort)
                        .externalIps(externalIps.getOrDefault(family, List.of()))
                        .loadBalancerIps(loadBalancerIps.getOrDefault(family, List.of()))
                        .loadBalancerSourceRanges(sourceRanges.getOrDefault(family, List.of()))
                        .externalPolicyLocal(externalPolicyLocal)
                        .internalPolicyLocal(internalPolicyLocal)
                        .healthCheckNodePort(healthCheckNodePort);
                if (clientIpAffinity) {
                    builder.clientIpAffinity(affinityTimeout);
                }
                result.computeIfAbsent(family, f -> new ArrayList<>()).add(builder.build());
            }
        }
        return result;
    }

    private static Map<IpFamily, String> clusterIps(V1ServiceSpec spec) throws InvalidFieldException {
        Map<IpFamily, String> result = new EnumMap<>(IpFamily.class);
        List<String> clusterIps = Fields.list(spec.getClusterIPs(), "spec.clusterIPs");
        if (!clusterIps.isEmpty()) {
            for (int i = 0; i < clusterIps.size(); i++) {
                String field = "spec.clusterIPs[" + i + "]";
                IPAddress address = Fields.address(clusterIps.get(i), field);
                IpFamily family = IpAddresses.familyOf(address);
                if (result.put(family, IpAddresses.canonical(address)) != null) {
                    throw new InvalidFieldException(field, "two " + family.kubernetesName() + " cluster IPs");
                }
            }
            if (spec.getClusterIP() != null && !spec.getClusterIP().isEmpty()
                    && !spec.getClusterIP().equals(clusterIps.get(0))) {
                throw new InvalidFieldException("spec.clusterIP", "\"" + spec.getClusterIP()
                        + "\" differs from spec.clusterIPs[0] \"" + clusterIps.get(0) + "\"");
            }
            return result;
        }
        String clusterIp = spec.getClusterIP();
        if (clusterIp != null && !clusterIp.isEmpty()) {
            IPAddress address = Fields.address(clusterIp, "spec.clusterIP");
            result.put(IpAddresses.familyOf(address), IpAddresses.canonical(address));
        }
        return result;
    }

    private static Map<IpFamily, List<String>> addressesByFamily(List<String> values, String field)
            throws InvalidFieldException {
        Map<IpFamily, List<String>> result = new EnumMap<>(IpFamily.class);
        for (int i = 0; i < values.size(); i++) {
            IPAddress address = Fields.address(values.get(i), field + "[" + i + "]");
            result.computeIfAbsent(IpAddresses.familyOf(address), f -> new ArrayList<>())
                    .add(IpAddresses.canonical(address));
        }
        return result;
    }

    private static Map<IpFamily, List<Cidr>> sourceRangesByFamily(List<String> ranges)
            throws InvalidFieldException {
        Map<IpFamily, List<Cidr>> result = new EnumMap<>(IpFamily.class);
        List<String> values = Fields.list(ranges, "spec.loadBalancerSourceRanges");
        for (int i = 0; i < values.size(); i++) {
            String field = "spec.loadBalancerSourceRanges[" + i + "]";
            String text = values.get(i).trim(); // validation used to allow padding
            IPAddress cidr;
            try {
                cidr = IpAddresses.parseCidr(text);
            } catch (IllegalArgumentException e) {
                throw new InvalidFieldException(field, e.getMessage());
            }
            result.computeIfAbsent(IpAddresses.familyOf(cidr), f -> new ArrayList<>()).add(Cidr.of(cidr));
        }
        return result;
    }

    private static Map<IpFamily, List<String>> loadBalancerIpsByFamily(V1Service service)
            throws InvalidFieldException {
        Map<IpFamily, List<String>> result = new EnumMap<>(IpFamily.class);
        if (service.getStatus() == null || service.getStatus().getLoadBalancer() == null) {
            return result;
        }
        List<V1LoadBalancerIngress> ingress = Fields.list(service.getStatus().getLoadBalancer().getIngress(),
                "status.loadBalancer.ingress");
        for (int i = 0; i < ingress.size(); i++) {
            V1LoadBalancerIngress entry = ingress.get(i);
            String field = "status.loadBalancer.ingress[" + i + "]";
            if (entry.getIp() == null || entry.getIp().isEmpty()) {
                continue; // hostname-only ingress: nothing to capture
            }
            IPAddress address = Fields.address(entry.getIp(), field + ".ip");
            String mode = entry.getIpMode();
            if (mode != null && !mode.equals("VIP") && !mode.equals("Proxy")) {
                throw new InvalidFieldException(field + ".ipMode", "unknown mode \"" + mode
                        + "\" (must be VIP or Proxy)");
            }
            if ("Proxy".equals(mode)) {
                continue; // the load balancer rewrites the destination; the VIP never reaches this node
            }
            result.computeIfAbsent(IpAddresses.familyOf(address), f -> new ArrayList<>())
                    .add(IpAddresses.canonical(address));
        }
        return result;
    }

    private static boolean affinity(V1ServiceSpec spec) throws InvalidFieldException {
        String affinity = spec.getSessionAffinity();
        if (affinity == null || affinity.equals("None")) {
            return false;
        }
        if (affinity.equals("ClientIP")) {
            return true;
        }
        throw new InvalidFieldException("spec.sessionAffinity", "unknown affinity \"" + affinity
                + "\" (must be None or ClientIP)");
    }

    private static int affinityTimeout(V1ServiceSpec spec) throws InvalidFieldException {
        if (spec.getSessionAffinityConfig() == null || spec.getSessionAffinityConfig().getClientIP() == null
                || spec.getSessionAffinityConfig().getClientIP().getTimeoutSeconds() == null) {
            return ServicePort.DEFAULT_AFFINITY_TIMEOUT_SECONDS;
        }
        int timeout = spec.getSessionAffinityConfig().getClientIP().getTimeoutSeconds();
        if (timeout < 1 || timeout > 86400) {
            throw new InvalidFieldException("spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                    timeout + " is out of range 1-86400");
        }
        return timeout;
    }

    private static String policy(String value, String field) throws InvalidFieldException {
        if (value == null || value.equals("Cluster") || value.equals("Local")) {
            return value;
        }
        throw new InvalidFieldException(field, "unknown policy \"" + value + "\" (must be Cluster or Local)");
    }
}
