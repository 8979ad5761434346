package dev.railyard.proxy.render;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * kube-proxy's TestCategorizeEndpoints cases (and derived PreferSameNode ones), read from
 * {@code kubeproxy-topology/categorize-endpoints.txt}, through {@link EndpointSelection}; see that directory's
 * README for the format and provenance.
 */
class EndpointSelectionTopologyTest {
    private static final String NODE = "this-node";
    private static final ServicePortName NAME = ServicePortName.of("ns", "svc", "p80", Protocol.TCP);

    record Case(String name, String source, String zone, boolean preferSameNode, ServicePort service,
                List<Endpoint> endpoints, Set<String> cluster, Set<String> local, Set<String> all,
                boolean onlyRemote) {
    }

    @TestFactory
    Stream<DynamicTest> kubeProxyCases() throws IOException {
        List<Case> cases = load();
        assertThat(cases).hasSize(35);
        assertThat(cases.stream().filter(c -> c.source().equals("upstream"))).hasSize(26);
        return cases.stream().map(c -> DynamicTest.dynamicTest("[" + c.source() + "] " + c.name(), () -> check(c)));
    }

    /** The state carries the zone to both renderers: the same case through a ProxyState. */
    @Test
    void theStateCarriesTheZoneToTheSelection() throws IOException {
        Case c = load().get(0);
        ProxyState state = ProxyState.of(IpFamily.V4, List.of(c.service()), Map.of(NAME, c.endpoints()))
                .withZone(c.zone());
        EndpointSelection selection = new EndpointSelection();
        ProxyState.Entry entry = state.entries().get(0);
        selection.select(entry.service(), entry.endpoints(), NODE, state.zone(), true);
        assertThat(names(selection.clusterCount(), selection::cluster)).containsExactly("10.1.2.3:80", "10.1.2.6:80");
        selection.select(entry.service(), entry.endpoints(), NODE, state.withZone("zone-x").zone(), true);
        assertThat(selection.clusterCount()).as("no endpoint for zone-x: no filtering").isEqualTo(4);
    }

    private static void check(Case c) {
        EndpointSelection selection = new EndpointSelection();
        List<Endpoint> sorted = new ArrayList<>(c.endpoints());
        sorted.sort(Endpoint.HOST_PORT_ORDER); // a ProxyState keeps them so
        selection.select(c.service(), sorted, NODE, c.zone(), c.preferSameNode());
        boolean usesCluster = c.service().usesClusterEndpoints();
        boolean usesLocal = c.service().usesLocalEndpoints();
        // kube-proxy's nil lists are the policies the service does not use.
        assertThat(usesCluster ? set(selection.clusterCount(), selection::cluster) : null)
                .as("cluster endpoints").isEqualTo(c.cluster());
        assertThat(usesLocal ? set(selection.localCount(), selection::local) : null)
                .as("local endpoints").isEqualTo(c.local());
        Set<String> expectedAll = c.cluster() != null && c.local() == null ? c.cluster()
                : c.local() != null && c.cluster() == null ? c.local() : c.all();
        List<String> reachable = names(selection.reachableCount(), selection::reachable);
        assertThat(reachable).as("all reachable endpoints, each once").doesNotHaveDuplicates();
        assertThat(new TreeSet<>(reachable)).as("all reachable endpoints").isEqualTo(expectedAll);
        assertThat(selection.hasAnyEndpoints()).as("hasAnyEndpoints")
                .isEqualTo(!expectedAll.isEmpty() || c.onlyRemote());
    }

    private static Set<String> set(int count, java.util.function.IntFunction<Endpoint> at) {
        return new TreeSet<>(names(count, at));
    }

    private static List<String> names(int count, java.util.function.IntFunction<Endpoint> at) {
        List<String> result = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            result.add(at.apply(i).hostPort());
        }
        return result;
    }

    static List<Case> load() throws IOException {
        String text;
        try (InputStream in = EndpointSelectionTopologyTest.class
                .getResourceAsStream("/kubeproxy-topology/categorize-endpoints.txt")) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        List<Case> cases = new ArrayList<>();
        for (String block : text.split("\n\n")) {
            if (!block.isBlank()) {
                cases.add(parse(block.strip()));
            }
        }
        return cases;
    }

    private static Case parse(String block) {
        String name = null;
        String source = null;
        String zone = "";
        boolean preferSameNode = true;
        ServicePort service = null;
        List<Endpoint> endpoints = new ArrayList<>();
        Set<String> cluster = null;
        Set<String> local = null;
        Set<String> all = null;
        boolean onlyRemote = false;
        boolean clusterSeen = false;
        boolean localSeen = false;
        for (String line : block.split("\n")) {
            int colon = line.indexOf(':');
            String key = line.substring(0, colon);
            String value = line.substring(colon + 1).strip();
            switch (key) {
                case "name" -> name = value;
                case "source" -> source = value;
                case "zone" -> zone = value.equals("-") ? "" : value;
                case "preferSameNode" -> preferSameNode = Boolean.parseBoolean(value);
                case "service" -> service = service(value);
                case "endpoint" -> endpoints.add(endpoint(value));
                case "cluster" -> {
                    cluster = expected(value);
                    clusterSeen = true;
                }
                case "local" -> {
                    local = expected(value);
                    localSeen = true;
                }
                case "all" -> all = expected(value);
                case "onlyRemote" -> onlyRemote = Boolean.parseBoolean(value);
                default -> throw new IllegalArgumentException("unknown key in: " + line);
            }
        }
        if (name == null || source == null || service == null || !clusterSeen || !localSeen) {
            throw new IllegalArgumentException("incomplete case: " + block);
        }
        return new Case(name, source, zone, preferSameNode, service, endpoints, cluster, local, all, onlyRemote);
    }

    private static ServicePort service(String value) {
        ServicePort.Builder builder = ServicePort.builder(NAME, "172.30.0.1", 80);
        for (String word : value.split("\\s+")) {
            if (word.isEmpty()) {
                continue;
            }
            if (word.equals("itpLocal")) {
                builder.internalPolicyLocal(true);
            } else if (word.equals("etpLocal")) {
                builder.externalPolicyLocal(true);
            } else if (word.startsWith("nodePort=")) {
                builder.nodePort(Integer.parseInt(word.substring("nodePort=".length())));
            } else {
                throw new IllegalArgumentException("unknown service word " + word);
            }
        }
        return builder.build();
    }

    private static Endpoint endpoint(String value) {
        String[] words = value.split("\\s+");
        int colon = words[0].lastIndexOf(':');
        Endpoint.Builder builder = Endpoint.builder(NAME, words[0].substring(0, colon),
                Integer.parseInt(words[0].substring(colon + 1))).ready(false).serving(false).terminating(false);
        for (String word : Arrays.copyOfRange(words, 1, words.length)) {
            switch (word.contains("=") ? word.substring(0, word.indexOf('=')) : word) {
                case "ready" -> builder.ready(true);
                case "serving" -> builder.serving(true);
                case "terminating" -> builder.terminating(true);
                case "local" -> builder.nodeName(NODE);
                case "zones" -> builder.zoneHints(List.of(word.substring(6).split(",")));
                case "nodes" -> builder.nodeHints(List.of(word.substring(6).split(",")));
                default -> throw new IllegalArgumentException("unknown endpoint word " + word);
            }
        }
        return builder.build();
    }

    private static Set<String> expected(String value) {
        if (value.equals("nil")) {
            return null;
        }
        if (value.equals("{}")) {
            return new TreeSet<>();
        }
        return new TreeSet<>(List.of(value.split("\\s+")));
    }
}
