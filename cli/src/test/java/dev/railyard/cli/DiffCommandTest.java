package dev.railyard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class DiffCommandTest {
    static final Path OVERALL = Path.of("../proxy/src/test/resources/kubeproxy-compat/overall-iptables-rules");
    /** The fake proxier's settings of that case, as render flags. */
    static final String[] KUBE_PROXY_TEST_NODE = {"--hostname-override", "test-node", "--node-ip", "192.168.0.2",
        "--cluster-cidr", "10.0.0.0/8", "--no-random-fully", "--nfacct"};

    static final Path NFT_OVERALL = Path.of("../proxy/src/test/resources/kubeproxy-nftables-compat/"
            + "overall-nftables-rules");
    /** The nftables fake proxier's settings of that case, as render flags. */
    static final String[] KUBE_PROXY_NFT_TEST_NODE = {"--hostname-override", "test-node", "--node-ip",
        "192.168.0.2,192.168.1.2,192.168.99.11", "--cluster-cidr", "10.0.0.0/8", "--service-cidr", "172.30.0.0/16",
        "--nodeport-addresses", "192.168.0.2/32", "--iptables-masquerade-bit", "14"};

    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String a, String b, String... options) {
        CommandLine cli = Railyard.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        String[] args = new String[3 + options.length];
        args[0] = "diff";
        args[1] = a;
        args[2] = b;
        System.arraycopy(options, 0, args, 3, options.length);
        return cli.execute(args);
    }

    @Test
    void kubeProxysRulesetAndRailyardsRenderOfTheSameManifestsAreEqual() {
        int status = run(OVERALL.resolve("expected.rules").toString(), OVERALL.resolve("manifests.yaml").toString(),
                KUBE_PROXY_TEST_NODE);

        assertThat(status).as(out + "\n" + err).isZero();
        assertThat(out.toString()).endsWith("no difference: 14 frontends, 61 probes each, same verdicts, endpoints, "
                + "probabilities, masquerading and affinity\n");
    }

    @Test
    void aLostEndpointAndALostMasqueradeJumpAreEachReportedAndExitOne() throws Exception {
        String rules = Files.readString(OVERALL.resolve("expected.rules"), StandardCharsets.UTF_8)
                .replace("-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment \"ns4/svc4:p80 -> 10.180.0.5:80\" "
                        + "-j KUBE-SEP-C6EBXVWJJZMIWKLZ\n", "")
                .replace("-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 cluster IP\" -m tcp -p tcp "
                        + "-d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ\n", "");
        Path changed = dir.resolve("kube-proxy.rules");
        Files.writeString(changed, rules, StandardCharsets.UTF_8);

        int status = run(changed.toString(), OVERALL.resolve("manifests.yaml").toString(), KUBE_PROXY_TEST_NODE);

        assertThat(status).as(err.toString()).isEqualTo(1);
        assertThat(out.toString())
                .contains("\nns1/svc1:p80  172.30.0.41:80/tcp (cluster IP)\n"
                        + "  masquerade: A 10.180.0.1:80 no vs B 10.180.0.1:80 yes\n"
                        + "    from 203.0.113.200 (outside every source range); from the node (192.168.0.2)\n")
                .contains("\nns4/svc4:p80  172.30.0.44:80/tcp (cluster IP)\n"
                        + "  verdict: A DNAT 0.5, ACCEPT 0.5 vs B DNAT\n")
                .contains("  endpoints: A {10.180.0.4:80 0.5} vs B {10.180.0.4:80 0.5, 10.180.0.5:80 0.5}\n")
                .endsWith("3 of 14 frontends differ (61 probes each)\n");
    }

    @Test
    void jsonListsTheDifferingFrontends() throws Exception {
        Path changed = dir.resolve("kube-proxy.rules");
        Files.writeString(changed, Files.readString(OVERALL.resolve("expected.rules"), StandardCharsets.UTF_8)
                .replace("--probability 0.5000000000", "--probability 0.9000000000"), StandardCharsets.UTF_8);

        int status = run(OVERALL.resolve("manifests.yaml").toString(), changed.toString(), concat(KUBE_PROXY_TEST_NODE,
                "-o", "json"));

        assertThat(status).isEqualTo(1);
        JsonObject report = JsonParser.parseString(out.toString()).getAsJsonObject();
        assertThat(report.get("equal").getAsBoolean()).isFalse();
        JsonObject first = report.getAsJsonArray("differing").get(0).getAsJsonObject();
        assertThat(first.get("name").getAsString()).isEqualTo("ns4/svc4:p80");
        assertThat(first.getAsJsonArray("differences").get(0).getAsJsonObject().get("b").getAsString())
                .isEqualTo("{10.180.0.4:80 0.9, 10.180.0.5:80 0.1}");
    }

    @Test
    void twoRendersWithDifferentNodesDifferOnlyInTheirLocalEndpoints() throws Exception {
        // The same manifests from node-a's and node-b's point of view: externalTrafficPolicy Local services
        // pick different endpoints. Render node-b to a file and diff it against node-a's render.
        Path example = Path.of("../examples/cluster.yaml");
        Path nodeB = dir.resolve("node-b.rules");
        CommandLine render = Railyard.commandLine();
        render.setErr(new PrintWriter(err, true));
        assertThat(render.execute("render", example.toString(), "--hostname-override", "node-b", "--node-ip",
                "192.168.10.11", "--cluster-cidr", "10.244.0.0/16", "-o", nodeB.toString())).isZero();

        int status = run(example.toString(), nodeB.toString(), "--hostname-override", "node-a", "--node-ip",
                "192.168.10.11", "--cluster-cidr", "10.244.0.0/16");

        assertThat(status).isEqualTo(1);
        assertThat(out.toString()).contains("\nshop/web:http  node port 30080/tcp (node port)\n")
                .contains("endpoints: A {10.244.0.21:8080 1} vs B {10.244.1.22:8080 1}")
                .doesNotContain("default/kubernetes:https");
    }

    @Test
    void kubeProxysNftablesStateAndRailyardsRenderInEitherLayoutAreEqual() {
        for (String layout : new String[] {"kube-proxy", "flat"}) {
            out.getBuffer().setLength(0);
            int status = run(NFT_OVERALL.resolve("expected.nft").toString(),
                    NFT_OVERALL.resolve("manifests.yaml").toString(), concat(KUBE_PROXY_NFT_TEST_NODE,
                            "--proxy-mode", "nftables", "--nftables-layout", layout));

            assertThat(status).as(out + "\n" + err).isZero();
            assertThat(out.toString()).startsWith("A: nftables rules from " + NFT_OVERALL.resolve("expected.nft")
                    + "\nB: railyard render --proxy-mode nftables of " + NFT_OVERALL.resolve("manifests.yaml")
                    + " (node test-node, 192.168.0.2, 192.168.1.2, 192.168.99.11, " + layout + " layout)\n");
            assertThat(out.toString()).endsWith("no difference: 13 frontends, 81 probes each, same verdicts, endpoints, "
                    + "probabilities, masquerading and affinity\n");
        }
    }

    @Test
    void aFlatScriptAndTheManifestsInKubeProxysLayoutAreEqual() throws Exception {
        Path flat = dir.resolve("node-a-flat.nft");
        CommandLine render = Railyard.commandLine();
        render.setErr(new PrintWriter(err, true));
        assertThat(render.execute("render", "../examples/cluster.yaml", "--proxy-mode", "nftables",
                "--nftables-layout", "flat", "--hostname-override", "node-a", "--node-ip", "192.168.10.11",
                "--cluster-cidr", "10.244.0.0/16", "--service-cidr", "10.96.0.0/12", "-o", flat.toString())).isZero();
        assertThat(Files.readString(flat)).contains(" offset ").contains("map @endpoints-tcp");

        int status = run(flat.toString(), "../examples/cluster.yaml", "--proxy-mode", "nftables", "--hostname-override",
                "node-a", "--node-ip", "192.168.10.11", "--cluster-cidr", "10.244.0.0/16", "--service-cidr",
                "10.96.0.0/12");

        assertThat(status).as(out + "\n" + err).isZero();
        assertThat(out.toString()).contains("(node node-a, 192.168.10.11, kube-proxy layout)\n")
                .endsWith("no difference: 13 frontends, 66 probes each, same verdicts, endpoints, probabilities, "
                        + "masquerading and affinity\n");
    }

    @Test
    void anIptablesDumpAndAnNftablesScriptOfTheSameClusterAreEqual() throws Exception {
        // The example cluster in both modes, with the nftables mode's node-port addresses for iptables too.
        Path example = Path.of("../examples/cluster.yaml");
        Path iptables = dir.resolve("node-a.rules");
        Path nftables = dir.resolve("node-a.nft");
        CommandLine render = Railyard.commandLine();
        render.setErr(new PrintWriter(err, true));
        assertThat(render.execute("render", example.toString(), "--hostname-override", "node-a", "--node-ip",
                "192.168.10.11", "--cluster-cidr", "10.244.0.0/16", "--nodeport-addresses", "primary",
                "--no-iptables-localhost-nodeports", "-o", iptables.toString())).isZero();
        assertThat(render.execute("render", example.toString(), "--proxy-mode", "nftables", "--nftables-layout",
                "flat", "--hostname-override", "node-a", "--node-ip", "192.168.10.11", "--cluster-cidr",
                "10.244.0.0/16", "--service-cidr", "10.96.0.0/12", "-o", nftables.toString())).isZero();

        int status = run(iptables.toString(), nftables.toString(), "--node-ip", "192.168.10.11", "--cluster-cidr",
                "10.244.0.0/16");

        assertThat(status).as(out + "\n" + err).isZero();
        assertThat(out.toString()).isEqualTo("A: iptables rules from " + iptables + "\nB: nftables rules from "
                + nftables + "\n\nno difference: 13 frontends, 66 probes each, same verdicts, endpoints, "
                + "probabilities, masquerading and affinity\n");
    }

    @Test
    void aNodesListingShowsWhatOtherTablesChange() {
        // node-a's nft list ruleset holds two more tables: one DNATs a client's DNS elsewhere (edge, before
        // kube-proxy's nat chain), one drops 198.51.100.0/24 in forward (firewall).
        int status = run(TraceCommandTest.NODE_A_LISTING.toString(), "../examples/cluster.yaml", "--proxy-mode",
                "nftables", "--hostname-override", "node-a", "--node-ip", "192.168.10.11", "--cluster-cidr",
                "10.244.0.0/16", "--service-cidr", "10.96.0.0/12");

        assertThat(status).as(err.toString()).isEqualTo(1);
        assertThat(out.toString())
                .contains("\nkube-system/kube-dns:dns  10.96.0.10:53/udp (cluster IP)\n"
                        + "  verdict: A DROP vs B DNAT\n"
                        + "    from 198.51.100.200 (outside every source range); from 203.0.113.9\n")
                .contains("  endpoints: A {10.244.0.99:53 1} vs B {10.244.0.5:53 0.5, 10.244.1.7:53 0.5}\n"
                        + "    from 192.0.2.53\n")
                // The firewall's input chain tests iifname "lo", which a probe to the API server (DNATed to the
                // node itself) cannot tell.
                .contains("note: 3 probes met rules of A that cannot be evaluated (treated as not matching; trace one "
                        + "to see them)\n")
                .endsWith("12 of 13 frontends differ (69 probes each)\n");
    }

    @Test
    void aNumgenCascadeMeansWhatTheVerdictMapItReplacesAndAWrongShareIsReported() throws Exception {
        Path vmap = TraceCommandTest.NODE_A_LISTING.resolveSibling("node-a-flat-layout-with-handles.nft");
        Path cascade = dir.resolve("cascade.nft");
        Files.writeString(cascade, TraceCommandTest.flatListingWithCascade("numgen random mod 3 0"),
                StandardCharsets.UTF_8);
        Path wrong = dir.resolve("wrong.nft");
        Files.writeString(wrong, TraceCommandTest.flatListingWithCascade("numgen random mod 2 0"),
                StandardCharsets.UTF_8);
        String[] node = {"--node-ip", "192.168.10.11", "--cluster-cidr", "10.244.0.0/16"};

        int same = run(vmap.toString(), cascade.toString(), node);
        String sameOut = out.toString();
        out.getBuffer().setLength(0);
        int differs = run(vmap.toString(), wrong.toString(), node);

        assertThat(same).as(sameOut + "\n" + err).isZero();
        assertThat(sameOut).contains("no difference: 13 frontends");
        assertThat(differs).as(err.toString()).isEqualTo(1);
        assertThat(out.toString())
                .contains("  endpoints: A {10.244.0.31:8443 0.3333, 10.244.1.32:8443 0.3333, 10.244.1.33:8443 0.3333} "
                        + "vs B {10.244.0.31:8443 0.5, 10.244.1.32:8443 0.25, 10.244.1.33:8443 0.25}\n")
                .endsWith("3 of 13 frontends differ (69 probes each)\n");
    }

    @Test
    void badInputExitsWithTwo() throws Exception {
        Path nft = dir.resolve("ruleset.nft");
        Files.writeString(nft, "add table ip kube-proxy\nadd rule ip kube-proxy nowhere accept\n");
        assertThat(run(nft.toString(), OVERALL.resolve("manifests.yaml").toString())).isEqualTo(2);
        assertThat(err.toString()).contains("railyard diff: " + nft + ": nft would refuse it: no such chain nowhere");
        assertThat(run("-", "-")).isEqualTo(2);
        assertThat(err.toString()).contains("railyard diff: only one of A and B can be standard input (-)");
        assertThat(run(dir.resolve("missing.rules").toString(), nft.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("missing.rules: no such file");
        assertThat(run(OVERALL.resolve("manifests.yaml").toString(), OVERALL.resolve("expected.rules").toString(),
                "--proxy-mode", "ipvs")).isEqualTo(2);
        assertThat(err.toString()).contains("railyard diff: --proxy-mode: \"ipvs\" (must be iptables or nftables)");
        assertThat(out.toString()).isEmpty();
    }

    private static String[] concat(String[] first, String... rest) {
        String[] all = new String[first.length + rest.length];
        System.arraycopy(first, 0, all, 0, first.length);
        System.arraycopy(rest, 0, all, first.length, rest.length);
        return all;
    }
}
