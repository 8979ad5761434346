package dev.railyard.proxy.userspace;

import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Endpoint choice per traffic policy, as kube-proxy's CategorizeEndpoints makes it. */
class UserspaceUsableEndpointsTest {
    private static final ServicePortName NAME = Services.name("svc", Protocol.TCP);

    private static Endpoint endpoint(String ip, String node, boolean ready, boolean serving, boolean terminating) {
        return Endpoint.builder(NAME, ip, 80).nodeName(node).ready(ready).serving(serving).terminating(terminating)
                .build();
    }

    private static Endpoint ready(String ip, String node) {
        return endpoint(ip, node, true, true, false);
    }

    private static Endpoint servingTerminating(String ip, String node) {
        return endpoint(ip, node, false, true, true);
    }

    private static List<String> ips(UsableEndpoints usable, TrafficKind kind) {
        return java.util.Arrays.stream(usable.forTraffic(kind)).map(a -> a.getAddress().getHostAddress()).toList();
    }

    private static ServicePort.Builder service() {
        return ServicePort.builder(NAME, "10.96.0.1", 80);
    }

    @Test
    void clusterPolicyUsesReadyEndpointsEverywhere() {
        UsableEndpoints usable = UsableEndpoints.select(service().build(), List.of(ready("10.0.0.1", "node-a"),
                ready("10.0.0.2", "node-b"), servingTerminating("10.0.0.3", "node-a"),
                endpoint("10.0.0.4", "node-a", false, false, false)), "node-a");
        assertThat(ips(usable, TrafficKind.INTERNAL)).containsExactly("10.0.0.1", "10.0.0.2");
        assertThat(ips(usable, TrafficKind.EXTERNAL)).containsExactly("10.0.0.1", "10.0.0.2");
    }

    @Test
    void servingTerminatingEndpointsOnlyWhenNoneIsReady() {
        UsableEndpoints usable = UsableEndpoints.select(service().build(), List.of(
                servingTerminating("10.0.0.1", "node-a"), endpoint("10.0.0.2", "node-b", false, false, true),
                servingTerminating("10.0.0.3", "node-b")), "node-a");
        assertThat(ips(usable, TrafficKind.INTERNAL)).containsExactly("10.0.0.1", "10.0.0.3");
    }

    @Test
    void internalPolicyLocalUsesOnlyThisNodesEndpointsForClusterIpTraffic() {
        ServicePort service = service().internalPolicyLocal(true).nodePort(30000).build();
        UsableEndpoints usable = UsableEndpoints.select(service, List.of(ready("10.0.0.1", "node-a"),
                ready("10.0.0.2", "node-b")), "node-a");
        assertThat(ips(usable, TrafficKind.INTERNAL)).containsExactly("10.0.0.1");
        assertThat(ips(usable, TrafficKind.EXTERNAL)).containsExactly("10.0.0.1", "10.0.0.2");
    }

    @Test
    void externalPolicyLocalFallsBackToLocalServingTerminatingEndpoints() {
        ServicePort service = service().externalPolicyLocal(true).nodePort(30000).build();
        UsableEndpoints usable = UsableEndpoints.select(service, List.of(servingTerminating("10.0.0.1", "node-a"),
                ready("10.0.0.2", "node-b")), "node-a");
        assertThat(ips(usable, TrafficKind.EXTERNAL)).containsExactly("10.0.0.1");
        assertThat(ips(usable, TrafficKind.INTERNAL)).containsExactly("10.0.0.2");
    }

    @Test
    void localPolicyWithoutLocalEndpointsHasNone() {
        ServicePort service = service().internalPolicyLocal(true).build();
        UsableEndpoints usable = UsableEndpoints.select(service, List.of(ready("10.0.0.2", "node-b")), "node-a");
        assertThat(usable.forTraffic(TrafficKind.INTERNAL)).isEmpty();
    }

    @Test
    void ipv6EndpointsResolveWithoutLookups() {
        UsableEndpoints usable = UsableEndpoints.select(service().build(),
                List.of(Endpoint.builder(NAME, "fd00::1", 8443).build()), "node-a");
        assertThat(usable.forTraffic(TrafficKind.INTERNAL)).containsExactly(new InetSocketAddress("fd00::1", 8443));
    }
}
