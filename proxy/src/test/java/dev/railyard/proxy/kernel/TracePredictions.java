package dev.railyard.proxy.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.inspect.EndpointShare;
import dev.railyard.proxy.inspect.Packet;
import dev.railyard.proxy.inspect.ServiceRuleset;
import dev.railyard.proxy.inspect.Trace;
import dev.railyard.proxy.inspect.Verdict;
import dev.railyard.proxy.kernel.NodeTopology.Addresses;
import dev.railyard.testkit.SctpInit;
import dev.railyard.testkit.ServerReply;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * What {@code railyard trace} predicts for the service traffic tests' probes, checked twice: the prediction from
 * the manifests against the one from the node's own rules, and the prediction against what the packets did.
 */
final class TracePredictions {
    private TracePredictions() {
    }

    /** The trace of {@code packet} through the node's rules, after checking that the manifests' trace agrees. */
    static Trace predict(ServiceRuleset fromManifests, ServiceRuleset fromNode, Packet packet) {
        Trace manifests = fromManifests.trace(packet);
        Trace live = fromNode.trace(packet);
        String description = packet.describe();
        assertThat(live.unevaluated()).as("%s: rules that cannot be evaluated", description).isEmpty();
        assertThat(manifests.unevaluated()).as("%s: rules that cannot be evaluated", description).isEmpty();
        assertThat(live.verdicts()).as("%s: verdicts, live vs manifests", description)
                .isEqualTo(manifests.verdicts());
        assertThat(live.endpoints()).as("%s: endpoints, live vs manifests", description)
                .isEqualTo(manifests.endpoints());
        assertThat(live.affinity()).as("%s: affinity, live vs manifests", description)
                .isEqualTo(manifests.affinity());
        return live;
    }

    /**
     * The pods that answered are among the predicted endpoints (all of them when {@code everyEndpointSeen}), on
     * {@code podPort}, and each saw the client's own address exactly when the trace predicted no masquerade for
     * its endpoint.
     */
    static void assertPredicted(Addresses net, Trace predicted, Map<String, List<String>> clientsByPod,
                                String sourceIp, boolean everyEndpointSeen, int podPort) {
        Map<String, String> podByIp = Map.of(net.pod1Ip(), "pod1", net.pod2Ip(), "pod2");
        assertThat(predicted.verdicts()).as("predicted verdict").containsOnlyKeys(Verdict.DNAT);
        Map<String, EndpointShare> byPod = new TreeMap<>();
        for (EndpointShare endpoint : predicted.endpoints()) {
            String ip = endpoint.address().substring(0, endpoint.address().lastIndexOf(':')).replace("[", "")
                    .replace("]", "");
            assertThat(endpoint.address()).isEqualTo(Packet.hostPort(ip, podPort));
            byPod.put(podByIp.get(ip), endpoint);
        }
        Set<String> seen = new TreeSet<>(clientsByPod.keySet());
        if (everyEndpointSeen) {
            assertThat(seen).as("pods that answered vs predicted endpoints").isEqualTo(byPod.keySet());
        } else {
            assertThat(byPod.keySet()).as("predicted endpoints").containsAll(seen);
        }
        for (Map.Entry<String, List<String>> pod : clientsByPod.entrySet()) {
            boolean masqueraded = byPod.get(pod.getKey()).masquerade();
            Set<Boolean> sawOtherAddress = pod.getValue().stream().map(client -> !client.equals(sourceIp))
                    .collect(Collectors.toSet());
            assertThat(sawOtherAddress).as("%s saw a masqueraded source (predicted: %s)", pod.getKey(), masqueraded)
                    .containsOnly(masqueraded);
        }
    }

    /** The client address each pod saw, by pod. */
    static Map<String, List<String>> replies(Map<String, List<ServerReply>> byPod) {
        Map<String, List<String>> clients = new TreeMap<>();
        byPod.forEach((pod, replies) -> clients.put(pod, clientsOf(replies)));
        return clients;
    }

    /** The source address each pod saw in the SCTP INITs it recorded, by pod. */
    static Map<String, List<String>> inits(Map<String, List<SctpInit>> byPod) {
        Map<String, List<String>> clients = new TreeMap<>();
        byPod.forEach((pod, inits) -> clients.put(pod, inits.stream().map(SctpInit::sourceIp).toList()));
        return clients;
    }

    static Map<String, List<String>> one(ServerReply reply) {
        return Map.of(reply.serverName(), List.of(reply.clientIp()));
    }

    static List<String> clientsOf(List<ServerReply> replies) {
        return replies.stream().map(ServerReply::clientIp).toList();
    }
}
