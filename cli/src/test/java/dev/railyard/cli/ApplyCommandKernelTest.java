package dev.railyard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.testkit.AgentHandle;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.NftListing;
import dev.railyard.testkit.RequiresPrivileges;
import dev.railyard.testkit.VethLink;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * railyard apply programming a network namespace that stands for a node, with a client and a pod on veth links:
 *
 * <pre>
 *   client 192.0.2.2/24 ──── 192.0.2.1/24 ┐ node "node-a" (ip_forward=1): railyard apply --netns
 *   pod    10.244.1.2/24 ──── 10.244.1.1/24 ┘
 * </pre>
 */
@RequiresPrivileges(commands = {"iptables-restore", "iptables-save", "iptables", "ip6tables-restore",
        "ip6tables", "iptables-legacy-restore", "iptables-legacy-save", "ip6tables-legacy-restore",
        "ip6tables-legacy-save", "iptables-nft-save", "nft", "ip"})
class ApplyCommandKernelTest {
    private static final Duration PROBE = Duration.ofSeconds(2);

    @TempDir
    Path dir;

    private final List<AutoCloseable> opened = new ArrayList<>();
    private NetworkNamespace node;
    private AgentHandle client;
    private AgentHandle pod;

    @AfterEach
    void tearDown() throws Exception {
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
    }

    private void buildNodeWithClientAndPod() {
        node = open(NetworkNamespace.create());
        NetworkNamespace podNs = open(NetworkNamespace.create());
        NetworkNamespace clientNs = open(NetworkNamespace.create());
        node.sysctl("net.ipv4.ip_forward", "1");
        VethLink toPod = VethLink.between(node, podNs).names("veth-pod", "eth0")
                .ipv4("10.244.1.1/24", "10.244.1.2/24").create();
        VethLink toClient = VethLink.between(node, clientNs).names("veth-client", "eth0")
                .ipv4("192.0.2.1/24", "192.0.2.2/24").create();
        toPod.b().addRoute("default", "10.244.1.1");
        toClient.b().addRoute("default", "192.0.2.1");
        toClient.a().addRoute("default", "192.0.2.2");
        pod = open(podNs.startAgent());
        client = open(clientNs.startAgent());
        pod.tcpServe(8080, "pod");
    }

    @Test
    void applyingTwiceLeavesTheSameRulesAndServicesCarryTraffic() throws Exception {
        buildNodeWithClientAndPod();
        // Someone else's rules in the built-in chains stay as they are.
        node.execChecked("iptables", "-t", "nat", "-A", "POSTROUTING", "-s", "198.51.100.0/24", "-j", "MASQUERADE");
        Path manifest = write("cluster.yaml", service("web", "10.96.0.10", 30080) + "---\n"
                + slice("web-1", "web", "10.244.1.2"));

        Result first = apply(manifest);
        String afterFirst = saved();
        Result second = apply(manifest);

        assertThat(first.status()).as("first apply; stderr: %s", first.err()).isZero();
        assertThat(second.status()).as("second apply; stderr: %s", second.err()).isZero();
        assertThat(first.out()).isEqualTo("IPv4: applied 1 service ports, 1 endpoints; deleted 0 stale chains\n");
        assertThat(saved()).as("iptables-save after the second apply").isEqualTo(afterFirst);
        assertThat(afterFirst)
                .containsOnlyOnce("-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES")
                .containsOnlyOnce("-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES")
                .contains("-A POSTROUTING -s 198.51.100.0/24 -j MASQUERADE")
                .contains("--to-destination 10.244.1.2:8080");

        assertThat(client.tcpGet("10.96.0.10", 80, PROBE).serverReply().serverName()).as("cluster IP").isEqualTo("pod");
        assertThat(client.tcpGet("192.0.2.1", 30080, PROBE).serverReply().serverName()).as("node port")
                .isEqualTo("pod");
    }

    @Test
    void aServiceGoneFromTheFilesLosesItsChainsAndAnInvalidObjectIsSkippedWithExitStatusOne() throws Exception {
        buildNodeWithClientAndPod();
        Path both = write("both.yaml", service("web", "10.96.0.10", 30080) + "---\n"
                + slice("web-1", "web", "10.244.1.2") + "---\n" + service("old", "10.96.0.11", 30081) + "---\n"
                + slice("old-1", "old", "10.244.1.2"));
        assertThat(apply(both).status()).isZero();
        String oldChains = node.execChecked("iptables-save", "-t", "nat").stdout();
        assertThat(oldChains).contains("\"default/old cluster IP\"");

        Path webOnly = write("web.yaml", service("web", "10.96.0.10", 30080) + "---\n"
                + slice("web-1", "web", "10.244.1.2") + "---\n"
                + slice("broken-1", "web", "10.244.1.2").replace("port: 8080", "port: 80800"));
        Result result = apply(webOnly);

        assertThat(result.status()).as("stderr: %s", result.err()).isEqualTo(1);
        assertThat(result.err()).contains("skipped " + webOnly + ":").contains("EndpointSlice default/broken-1: "
                + "ports[0].port: 80800 is out of range 1-65535").endsWith("railyard apply: 1 invalid object skipped\n");
        assertThat(result.out()).isEqualTo("IPv4: applied 1 service ports, 1 endpoints; deleted 3 stale chains\n");
        String nat = node.execChecked("iptables-save", "-t", "nat").stdout();
        assertThat(nat).doesNotContain("default/old").contains("\"default/web cluster IP\"");
        assertThat(client.tcpGet("10.96.0.11", 80, Duration.ofMillis(500)).isOk()).as("old cluster IP").isFalse();
        assertThat(client.tcpGet("10.96.0.10", 80, PROBE).serverReply().serverName()).isEqualTo("pod");
    }

    /** An IPv6 node address makes the node dual-stack, as for railyard proxy: one apply programs both families. */
    @Test
    void aDualStackNodeGetsBothFamiliesAndTheChosenBackend() throws Exception {
        NetworkNamespace ns = open(NetworkNamespace.create());
        Path manifest = write("dual.yaml", """
                apiVersion: v1
                kind: Service
                metadata: {name: web, namespace: ns}
                spec:
                  clusterIPs: [10.96.0.20, "fd00::20"]
                  ports: [{name: http, port: 80}]
                """);
        String[] options = {"--netns", ns.name(), "--hostname-override", "node-a",
                "--node-ip", "192.0.2.1,fd00::1", "--iptables-backend", "legacy"};

        Result first = apply(manifest, options);
        String v4 = ns.execChecked("iptables-legacy-save", "-t", "filter").stdout().replaceAll("(?m)^#.*\n", "");
        String v6 = ns.execChecked("ip6tables-legacy-save", "-t", "filter").stdout().replaceAll("(?m)^#.*\n", "");
        Result second = apply(manifest, options);

        assertThat(first.status()).as("stderr: %s", first.err()).isZero();
        assertThat(second.status()).as("stderr: %s", second.err()).isZero();
        assertThat(first.out()).isEqualTo("IPv4: applied 1 service ports, 0 endpoints; deleted 0 stale chains\n"
                + "IPv6: applied 1 service ports, 0 endpoints; deleted 0 stale chains\n");
        assertThat(v4).contains("-d 10.96.0.20/32 -p tcp -m comment --comment \"ns/web:http has no endpoints\"");
        assertThat(v6).contains("-d fd00::20/128 -p tcp -m comment --comment \"ns/web:http has no endpoints\"");
        assertThat(ns.execChecked("iptables-legacy-save", "-t", "filter").stdout().replaceAll("(?m)^#.*\n", ""))
                .isEqualTo(v4);
        assertThat(ns.execChecked("ip6tables-legacy-save", "-t", "filter").stdout().replaceAll("(?m)^#.*\n", ""))
                .isEqualTo(v6);
        assertThat(ns.execChecked("iptables-nft-save").stdout()).as("nothing through the other backend")
                .doesNotContain("KUBE-");
    }

    /**
     * nftables mode, in both layouts: applying twice leaves the same table; a service gone from the files loses
     * its chains (flushed, then deleted after the grace); iptables mode's rules, left by an earlier apply, go.
     */
    @Test
    void nftablesModeAppliesIdempotentlyInBothLayoutsAndRemovesIptablesLeftovers() throws Exception {
        buildNodeWithClientAndPod();
        Path both = write("both.yaml", service("web", "10.96.0.10", 30080) + "---\n"
                + slice("web-1", "web", "10.244.1.2") + "---\n" + service("old", "10.96.0.11", 30081) + "---\n"
                + slice("old-1", "old", "10.244.1.2"));
        Path webOnly = write("web.yaml", service("web", "10.96.0.10", 30080) + "---\n"
                + slice("web-1", "web", "10.244.1.2"));
        assertThat(apply(webOnly).status()).as("iptables mode first").isZero();
        assertThat(node.execChecked("iptables-save").stdout()).contains("KUBE-SERVICES");

        for (String layout : List.of("kube-proxy", "flat")) {
            Result first = apply(both, nftables(layout));
            String afterFirst = nftRuleset();
            Result second = apply(both, nftables(layout));

            assertThat(first.status()).as("%s: first apply; stderr: %s", layout, first.err()).isZero();
            assertThat(second.status()).as("%s: second apply; stderr: %s", layout, second.err()).isZero();
            assertThat(nftRuleset()).as("%s: the table after the second apply", layout).isEqualTo(afterFirst);
            assertThat(node.execChecked("iptables-save").stdout()).as("iptables mode's rules removed")
                    .doesNotContain("KUBE-");
            assertThat(client.tcpGet("10.96.0.10", 80, PROBE).serverReply().serverName()).as("%s: cluster IP", layout)
                    .isEqualTo("pod");
            assertThat(client.tcpGet("192.0.2.1", 30080, PROBE).serverReply().serverName()).as("%s: node port",
                    layout).isEqualTo("pod");

            Result pruned = apply(webOnly, nftables(layout));
            assertThat(pruned.status()).as("stderr: %s", pruned.err()).isZero();
            assertThat(pruned.out()).contains("IPv4: applied 1 service ports, 1 endpoints (nftables, " + layout
                    + " layout)").doesNotContain("removed 0 stale chains");
            assertThat(nftRuleset()).as("%s: old's chains and elements gone", layout)
                    .doesNotContain("default/old").doesNotContain("10.96.0.11")
                    .contains("default/web");
            assertThat(client.tcpGet("10.96.0.11", 80, Duration.ofMillis(500)).isOk()).isFalse();
        }
        assertThat(apply(webOnly).status()).as("back to iptables mode").isZero();
        assertThat(node.execChecked("nft", "list", "tables").stdout()).doesNotContain("kube-proxy");
    }

    private String[] nftables(String layout) {
        return new String[] {"--proxy-mode", "nftables", "--nftables-layout", layout, "--netns", node.name(),
                "--hostname-override", "node-a", "--node-ip", "192.0.2.1", "--cluster-cidr", "10.244.0.0/16"};
    }

    /** The table as nft lists it, normalized (a full sync re-creates the base chains). */
    private String nftRuleset() {
        return NftListing.normalized(node.execChecked("nft", "list", "table", "ip", "kube-proxy").stdout());
    }

    /** --nfacct without kube-proxy's counters: iptables accepts the rules, the kernel refuses them. */
    @Test
    void whenTheKernelRefusesTheRulesApplyFailsAndSaysSo() throws Exception {
        NetworkNamespace ns = open(NetworkNamespace.create());
        Result result = apply(Path.of("../examples/cluster.yaml"), "--netns", ns.name(), "--nfacct",
                "--hostname-override", "node-a", "--node-ip", "192.168.10.11", "--cluster-cidr", "10.244.0.0/16");

        assertThat(result.status()).isEqualTo(2);
        assertThat(result.err()).startsWith("railyard apply: IPv4 rules were not applied: ")
                .contains("KUBE-FORWARD");
        assertThat(result.out()).isEmpty();
        assertThat(ns.execChecked("iptables-save", "-t", "nat").stdout()).doesNotContain("KUBE-SVC-");
    }

    /** The README's example, as written, in a namespace of its own. */
    @Test
    void theExampleClusterAppliesWithTheReadmeCommand() throws Exception {
        NetworkNamespace ns = open(NetworkNamespace.create());
        Result result = apply(Path.of("../examples/cluster.yaml"), "--netns", ns.name(),
                "--hostname-override", "node-a", "--node-ip", "192.168.10.11", "--cluster-cidr", "10.244.0.0/16");

        assertThat(result.status()).as("stderr: %s", result.err()).isZero();
        assertThat(ns.execChecked("iptables-save", "-t", "nat").stdout())
                .contains("--comment \"default/kubernetes:https cluster IP\"")
                .contains("--comment \"kube-system/kube-dns:dns cluster IP\"");
    }

    private record Result(int status, String out, String err) {
    }

    private Result apply(Path manifest, String... options) {
        List<String> args = new ArrayList<>(List.of("apply", manifest.toString()));
        if (options.length == 0) {
            args.addAll(List.of("--netns", node.name(), "--hostname-override", "node-a", "--node-ip", "192.0.2.1",
                    "--cluster-cidr", "10.244.0.0/16"));
        } else {
            args.addAll(List.of(options));
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        picocli.CommandLine cli = Railyard.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int status = cli.execute(args.toArray(String[]::new));
        return new Result(status, out.toString(), err.toString());
    }

    /** iptables-save without its timestamps and counters. */
    private String saved() {
        return node.execChecked("iptables-save").stdout().replaceAll("(?m)^#.*\n", "")
                .replaceAll("\\[\\d+:\\d+\\]", "[0:0]");
    }

    private Path write(String name, String text) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, text);
        return file;
    }

    private static String service(String name, String clusterIp, int nodePort) {
        return "apiVersion: v1\nkind: Service\nmetadata:\n  name: " + name + "\nspec:\n  type: NodePort\n"
                + "  clusterIP: " + clusterIp + "\n  ports:\n  - protocol: TCP\n    port: 80\n    targetPort: 8080\n"
                + "    nodePort: " + nodePort + "\n";
    }

    private static String slice(String name, String service, String address) {
        return "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: " + name + "\n"
                + "  labels:\n    kubernetes.io/service-name: " + service + "\naddressType: IPv4\n"
                + "ports:\n- protocol: TCP\n  port: 8080\nendpoints:\n- addresses: [" + address + "]\n"
                + "  conditions: {ready: true}\n  nodeName: node-a\n";
    }

    private <T extends AutoCloseable> T open(T resource) {
        opened.add(resource);
        return resource;
    }
}
