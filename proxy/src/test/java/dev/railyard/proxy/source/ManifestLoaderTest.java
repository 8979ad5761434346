package dev.railyard.proxy.source;

import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.render.IptablesRenderer;
import dev.railyard.proxy.render.RenderConfig;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

class ManifestLoaderTest {
    private static final String GOOD_SERVICE = """
            apiVersion: v1
            kind: Service
            metadata: {name: good, namespace: ns}
            spec:
              clusterIP: 10.96.0.1
              ports: [{name: http, port: 80}]
            """;

    private static List<String> serviceNames(ClusterSnapshot snapshot) {
        return snapshot.servicePorts(IpFamily.V4).stream().map(p -> p.name().toString())
                .collect(Collectors.toList());
    }

    @Test
    void readsMultiDocumentYamlJsonAndKubectlLists() throws Exception {
        String yaml = GOOD_SERVICE + """
                ---
                apiVersion: v1
                kind: List
                items:
                - apiVersion: v1
                  kind: Service
                  metadata: {name: second, namespace: ns}
                  spec: {clusterIP: 10.96.0.2, ports: [{port: 53, protocol: UDP}]}
                ---
                """;
        String json = """
                {"apiVersion": "v1", "kind": "ServiceList", "items": [
                  {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "third", "namespace": "ns"},
                   "spec": {"clusterIP": "10.96.0.3", "ports": [{"name": "https", "port": 443}]}}]}
                """;
        ManifestLoader loader = new ManifestLoader();
        loader.add("a.yaml", yaml);
        loader.add("b.json", json);
        ClusterSnapshot snapshot = loader.snapshot();

        assertThat(snapshot.problems()).isEmpty();
        assertThat(serviceNames(snapshot)).containsExactly("ns/good:http", "ns/second", "ns/third:https");
    }

    @Test
    void aFileThatDoesNotParseFailsWithItsLine() {
        String broken = GOOD_SERVICE + "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: [unclosed\n";

        assertThatThrownBy(() -> ManifestLoader.parse("broken.yaml", broken))
                .isInstanceOf(ManifestSyntaxException.class)
                .hasMessageStartingWith("broken.yaml:")
                .satisfies(e -> assertThat(((ManifestSyntaxException) e).line()).isBetween(11, 12));
    }

    @Test
    void eachInvalidObjectIsSkippedWithFileLineObjectAndFieldWhileTheRestIsKept() throws Exception {
        String yaml = GOOD_SERVICE + """
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: bad-ip, namespace: ns}
                spec:
                  clusterIP: 10.96.0.300
                  ports: [{port: 80}]
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: bad-port, namespace: ns}
                spec:
                  clusterIP: 10.96.0.4
                  ports:
                  - name: http
                    port: 70000
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: bad-protocol, namespace: ns}
                spec:
                  clusterIP: 10.96.0.5
                  ports: [{port: 80, protocol: ICMP}]
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: Not_A_Label, namespace: ns}
                spec: {clusterIP: 10.96.0.6, ports: [{port: 80}]}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: no-port, namespace: ns}
                spec:
                  clusterIP: 10.96.0.7
                  ports: [{name: http, protocol: TCP}]
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: wrong-type, namespace: ns}
                spec:
                  clusterIP: 10.96.0.8
                  ports: [{name: http, port: eighty}]
                """;

        ClusterSnapshot snapshot = ManifestLoader.parse("cluster.yaml", yaml);

        assertThat(serviceNames(snapshot)).containsExactly("ns/good:http");
        assertThat(snapshot.problems()).extracting(Problem::toString).containsExactly(
                "cluster.yaml:12: Service ns/bad-ip: spec.clusterIP: \"10.96.0.300\" is not a valid IP address",
                "cluster.yaml:22: Service ns/bad-port: spec.ports[0].port: 70000 is out of range 1-65535",
                "cluster.yaml:29: Service ns/bad-protocol: spec.ports[0].protocol: unsupported protocol \"ICMP\" "
                        + "(must be TCP, UDP or SCTP)",
                "cluster.yaml:33: Service ns/Not_A_Label: metadata.name: \"Not_A_Label\" is not a valid DNS-1035 "
                        + "label (lower-case letters, digits and '-', starting with a letter, at most 63 characters)",
                "cluster.yaml:41: Service ns/no-port: spec.ports[0].port: missing",
                "cluster.yaml:48: Service ns/wrong-type: spec.ports[0].port: expected an integer but found "
                        + "\"eighty\"");
    }

    /** Issue 13: a null entry in a list made render die with a NullPointerException and print nothing. */
    @Test
    void nullListEntriesAreProblemsNamingTheEntryAndTheOtherObjectsStillLoad() throws Exception {
        String yaml = GOOD_SERVICE + """
                ---
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata: {name: good-1, namespace: ns, labels: {kubernetes.io/service-name: good}}
                addressType: IPv4
                ports: [{name: http, port: 8080}, null]
                endpoints: [{addresses: [10.0.0.1]}]
                ---
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata: {name: good-2, namespace: ns, labels: {kubernetes.io/service-name: good}}
                addressType: IPv4
                ports: [{name: http, port: 8080}]
                endpoints: [null]
                ---
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata: {name: good-3, namespace: ns, labels: {kubernetes.io/service-name: good}}
                addressType: IPv4
                ports: [{name: http, port: 8080}]
                endpoints: [{addresses: [null]}]
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: null-port, namespace: ns}
                spec: {clusterIP: 10.96.0.2, ports: [null]}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: null-ip, namespace: ns}
                spec: {clusterIP: 10.96.0.3, clusterIPs: [null], externalIPs: [null], ports: [{port: 80}]}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: null-ingress, namespace: ns}
                spec: {clusterIP: 10.96.0.4, ports: [{port: 80}]}
                status: {loadBalancer: {ingress: [null]}}
                ---
                apiVersion: v1
                kind: Endpoints
                metadata: {name: legacy, namespace: ns}
                subsets: [null]
                ---
                apiVersion: v1
                kind: Endpoints
                metadata: {name: legacy2, namespace: ns}
                subsets: [{addresses: [null], ports: [null]}]
                ---
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata: {name: good-4, namespace: ns, labels: {kubernetes.io/service-name: good}}
                addressType: IPv4
                ports: [{name: http, port: 8080}]
                endpoints: [{addresses: [10.0.0.4]}]
                """;

        ClusterSnapshot snapshot = ManifestLoader.parse("null.yaml", yaml);

        assertThat(snapshot.problems()).extracting(Problem::object, Problem::field).containsExactly(
                tuple("EndpointSlice ns/good-1", "ports[1]"),
                tuple("EndpointSlice ns/good-2", "endpoints[0]"),
                tuple("EndpointSlice ns/good-3", "endpoints[0].addresses[0]"),
                tuple("Service ns/null-port", "spec.ports[0]"),
                tuple("Service ns/null-ip", "spec.clusterIPs[0]"),
                tuple("Service ns/null-ingress", "status.loadBalancer.ingress[0]"),
                tuple("Endpoints ns/legacy", "subsets[0]"),
                tuple("Endpoints ns/legacy2", "subsets[0].ports[0]"));
        assertThat(snapshot.problems()).allSatisfy(p -> assertThat(p.message()).contains("null"));
        assertThat(serviceNames(snapshot)).containsExactly("ns/good:http");
        assertThat(snapshot.state(IpFamily.V4, "node").entries()).singleElement()
                .satisfies(entry -> assertThat(entry.endpoints()).extracting(Endpoint::ip).containsExactly("10.0.0.4"));
    }

    /**
     * YAML that parses but cannot be an object costs that object only: it used to fail the whole file (or, for a
     * recursive alias and a mistagged number, throw StackOverflowError and NumberFormatException).
     */
    @Test
    void yamlThatCannotBeAnObjectIsAProblemOfThatObjectOnly() throws Exception {
        String yaml = GOOD_SERVICE + """
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: recursive, namespace: ns}
                spec: {clusterIP: 10.96.0.2, ports: &loop [*loop]}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: mistagged, namespace: ns}
                spec: {clusterIP: 10.96.0.3, ports: [{port: !!int eighty}]}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: custom-tag, namespace: ns}
                spec: {clusterIP: !address 10.96.0.4, ports: [{port: 80}]}
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: list-key
                  namespace: ns
                  ? [a, b]
                  : c
                spec: {clusterIP: 10.96.0.5, ports: [{port: 80}]}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: twice, namespace: ns}
                spec: {clusterIP: 10.96.0.6, clusterIP: 10.96.0.7, ports: [{port: 80}]}
                ---
                - just
                - a list
                ---
                apiVersion: v1
                kind: List
                items:
                - 42
                - apiVersion: v1
                  kind: Service
                  metadata: {name: in-list, namespace: ns}
                  spec: {clusterIP: 10.96.0.8, ports: [{port: 80}]}
                - apiVersion: v1
                  kind: Service
                  metadata: {name: global-tag, namespace: ns}
                  spec: !!python/object {clusterIP: 10.96.0.9, ports: [{port: 80}]}
                - apiVersion: v1
                  kind: Service
                  metadata: {name: global-scalar-tag, namespace: ns}
                  spec: {clusterIP: !!java.io.File 10.96.0.10, ports: [{port: 80}]}
                - apiVersion: v1
                  kind: Service
                  metadata: {name: local-list-tag, namespace: ns}
                  spec: {clusterIP: 10.96.0.11, ports: !ports [{port: 80}]}
                - apiVersion: v1
                  kind: Service
                  metadata: {name: after-tags, namespace: ns}
                  spec: {clusterIP: 10.96.0.12, ports: [{port: 80}]}
                """;

        ClusterSnapshot snapshot = ManifestLoader.parse("odd.yaml", yaml);

        assertThat(snapshot.problems()).extracting(Problem::toString).containsExactly(
                "odd.yaml:11: Service ns/recursive: spec.ports[0]: refers to itself (a recursive YAML alias)",
                "odd.yaml:16: Service ns/mistagged: spec.ports[0].port: cannot be read: "
                        + "For input string: \"eighty\"",
                "odd.yaml:21: Service ns/custom-tag: spec.clusterIP: cannot be read: "
                        + "could not determine a constructor for the tag !address",
                "odd.yaml:26: Service ns/list-key: metadata: has a key that is not a string",
                "odd.yaml:35: Service ns/twice: spec.clusterIP: appears twice",
                "odd.yaml:37: object (unnamed): not a Kubernetes object: expected a mapping, found a list",
                "odd.yaml:43: object (unnamed): not a Kubernetes object: expected a mapping, found a single value",
                "odd.yaml:51: Service ns/global-tag: spec: cannot be read: "
                        + "the YAML tag tag:yaml.org,2002:python/object is not a mapping or a list",
                "odd.yaml:55: Service ns/global-scalar-tag: spec.clusterIP: cannot be read: "
                        + "could not determine a constructor for the tag tag:yaml.org,2002:java.io.File",
                "odd.yaml:59: Service ns/local-list-tag: spec.ports: cannot be read: "
                        + "the YAML tag !ports is not a mapping or a list");
        assertThat(serviceNames(snapshot)).containsExactly("ns/good:http", "ns/in-list", "ns/after-tags");
    }

    @Test
    void clusterScopedObjectsAreNamedWithoutANamespace() throws Exception {
        String yaml = GOOD_SERVICE + """
                ---
                apiVersion: networking.k8s.io/v1
                kind: ServiceCIDR
                metadata: {name: bad}
                spec: {cidrs: [10.96.0.0/33]}
                """;

        ClusterSnapshot snapshot = ManifestLoader.parse("scoped.yaml", yaml);

        assertThat(snapshot.problems()).extracting(Problem::toString).containsExactly(
                "scoped.yaml:11: ServiceCIDR bad: spec.cidrs[0]: \"10.96.0.0/33\" is not a valid CIDR");
        assertThat(serviceNames(snapshot)).containsExactly("ns/good:http");
    }

    /** Aliases that expand exponentially would take the memory of the node; the file is refused instead. */
    @Test
    void aliasesThatExpandFarBeyondTheFileAreRefused() {
        StringBuilder yaml = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i < 9; i++) {
            yaml.append("a").append(i).append(": &a").append(i).append(" [*a").append(i - 1).append(", *a")
                    .append(i - 1).append(", *a").append(i - 1).append(", *a").append(i - 1).append("]\n");
        }

        assertThatThrownBy(() -> ManifestLoader.parse("laughs.yaml", yaml.toString()))
                .isInstanceOf(ManifestSyntaxException.class)
                .hasMessageContaining("YAML aliases expand to more values than the file has characters");
    }

    @Test
    void namesThatWouldInjectIptablesArgumentsNeverReachTheRules() throws Exception {
        String yaml = GOOD_SERVICE + """
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: 'x" -j ACCEPT -m comment --comment "', namespace: ns}
                spec: {clusterIP: 10.96.0.9, ports: [{port: 80}]}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: evil, namespace: "ns\\n-A INPUT -j ACCEPT"}
                spec: {clusterIP: 10.96.0.10, ports: [{port: 80}]}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: evil2, namespace: ns}
                spec: {clusterIP: 10.96.0.11, ports: [{name: "a -j DROP", port: 80}, {name: b, port: 81}]}
                ---
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata:
                  name: good-1
                  namespace: ns
                  labels: {kubernetes.io/service-name: good}
                addressType: IPv4
                endpoints:
                - addresses: ["10.0.0.1 -j ACCEPT"]
                ports: [{name: http, port: 8080}]
                """;

        ClusterSnapshot snapshot = ManifestLoader.parse("evil.yaml", yaml);
        String rules = new IptablesRenderer(RenderConfig.builder(IpFamily.V4).build())
                .render(snapshot.state(IpFamily.V4, "node")).toString();

        assertThat(snapshot.problems()).hasSize(4);
        assertThat(rules).doesNotContain("ACCEPT -m comment --comment \"\"").doesNotContain("-A INPUT")
                .doesNotContain("-j DROP\"").doesNotContain("10.0.0.1 -j");
        assertThat(serviceNames(snapshot)).containsExactly("ns/good:http");
    }

    @Test
    void leavesAloneWhatKubeProxyLeavesAlone() throws Exception {
        String yaml = GOOD_SERVICE + """
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: headless, namespace: ns}
                spec: {clusterIP: None, ports: [{port: 80}]}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: alias, namespace: ns}
                spec: {type: ExternalName, externalName: example.com}
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: other-proxy
                  namespace: ns
                  labels: {service.kubernetes.io/service-proxy-name: cilium}
                spec: {clusterIP: 10.96.0.12, ports: [{port: 80}]}
                ---
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web, namespace: ns}
                ---
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata:
                  name: good-fqdn
                  namespace: ns
                  labels: {kubernetes.io/service-name: good}
                addressType: FQDN
                endpoints: [{addresses: [db.example.com]}]
                ports: [{name: http, port: 80}]
                """;

        ClusterSnapshot snapshot = ManifestLoader.parse("cluster.yaml", yaml);

        assertThat(snapshot.problems()).isEmpty();
        assertThat(snapshot.ignoredObjects()).isEqualTo(5);
        assertThat(serviceNames(snapshot)).containsExactly("ns/good:http");
    }

    @Test
    void fieldsNewerThanTheClientLibraryAreIgnoredNotFatal() throws Exception {
        String yaml = """
                apiVersion: v1
                kind: Service
                metadata: {name: future, namespace: ns, creationTimestamp: "2026-01-02T03:04:05Z"}
                spec:
                  clusterIP: 10.96.0.13
                  trafficDistribution: PreferSameZone
                  someFieldFrom2030: {nested: true}
                  ports: [{name: http, port: 80, futurePortField: 1}]
                """;

        ClusterSnapshot snapshot = ManifestLoader.parse("future.yaml", yaml);

        assertThat(snapshot.problems()).isEmpty();
        assertThat(serviceNames(snapshot)).containsExactly("ns/future:http");
    }

    @Test
    void endpointsComeFromAllSlicesOnceEachPreferringTheLocalCopyAndNilConditionsMeanReady() throws Exception {
        String yaml = GOOD_SERVICE + """
                ---
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata: {name: good-b, namespace: ns, labels: {kubernetes.io/service-name: good}}
                addressType: IPv4
                endpoints:
                - addresses: [10.244.0.2]
                  nodeName: node-a
                - addresses: [10.244.0.3]
                  conditions: {ready: false, serving: true, terminating: true}
                ports: [{name: http, port: 8080}]
                ---
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata: {name: good-a, namespace: ns, labels: {kubernetes.io/service-name: good}}
                addressType: IPv4
                endpoints:
                - addresses: [10.244.0.2]
                  nodeName: node-b
                - addresses: [10.244.0.1]
                ports: [{name: http, port: 8080}]
                """;

        ProxyState state = ManifestLoader.parse("slices.yaml", yaml).state(IpFamily.V4, "node-a");
        List<Endpoint> endpoints = state.entries().get(0).endpoints();

        assertThat(endpoints).extracting(Endpoint::hostPort)
                .containsExactly("10.244.0.1:8080", "10.244.0.2:8080", "10.244.0.3:8080");
        assertThat(endpoints.get(0).ready()).isTrue();
        assertThat(endpoints.get(1).nodeName()).isEqualTo("node-a");
        assertThat(endpoints.get(2).ready()).isFalse();
        assertThat(endpoints.get(2).serving()).isTrue();
        assertThat(endpoints.get(2).terminating()).isTrue();
    }

    @Test
    void legacyEndpointsAreUsedWhenAServiceHasNoSlices() throws Exception {
        String yaml = GOOD_SERVICE + """
                ---
                apiVersion: v1
                kind: Endpoints
                metadata: {name: good, namespace: ns}
                subsets:
                - addresses: [{ip: 10.244.0.5, nodeName: node-a}]
                  notReadyAddresses: [{ip: 10.244.0.6}]
                  ports: [{name: http, port: 8080, protocol: TCP}]
                """;

        List<Endpoint> endpoints = ManifestLoader.parse("legacy.yaml", yaml).state(IpFamily.V4, "node-a")
                .entries().get(0).endpoints();

        assertThat(endpoints).extracting(Endpoint::hostPort).containsExactly("10.244.0.5:8080", "10.244.0.6:8080");
        assertThat(endpoints).extracting(Endpoint::ready).containsExactly(true, false);
    }

    @Test
    void dualStackServicesSplitByFamily() throws Exception {
        String yaml = """
                apiVersion: v1
                kind: Service
                metadata: {name: web, namespace: ns}
                spec:
                  clusterIPs: [10.96.0.20, "fd00::20"]
                  externalIPs: [192.0.2.1, "2001:db8::1"]
                  ports: [{name: http, port: 80}]
                """;

        ClusterSnapshot snapshot = ManifestLoader.parse("dual.yaml", yaml);

        assertThat(snapshot.servicePorts(IpFamily.V4).get(0).externalIps()).containsExactly("192.0.2.1");
        assertThat(snapshot.servicePorts(IpFamily.V6).get(0).clusterIp()).isEqualTo("fd00::20");
        assertThat(snapshot.servicePorts(IpFamily.V6).get(0).externalIps()).containsExactly("2001:db8::1");
    }
}
