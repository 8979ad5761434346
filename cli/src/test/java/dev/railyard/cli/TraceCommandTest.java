package dev.railyard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class TraceCommandTest {
    static final String EXAMPLE = Path.of("../examples/cluster.yaml").toString();
    static final String[] NODE_A = {"--hostname-override", "node-a", "--node-ip", "192.168.10.11", "--cluster-cidr",
        "10.244.0.0/16"};
    static final Path KUBE_PROXY_OVERALL = Path.of("../proxy/src/test/resources/kubeproxy-compat/overall-iptables-rules");
    /** nft list ruleset of node-a: kube-proxy's table for the example cluster and two other programs' tables. */
    static final Path NODE_A_LISTING = Path.of("../proxy/src/test/resources/inspect-nftables/"
            + "node-a-kube-proxy-layout.nft");

    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cli = Railyard.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }

    private static String[] concat(String[] first, String... rest) {
        String[] all = new String[first.length + rest.length];
        System.arraycopy(first, 0, all, 0, first.length);
        System.arraycopy(rest, 0, all, first.length, rest.length);
        return all;
    }

    @Test
    void tracesAClientThroughTheExampleClusterToBothEndpoints() {
        int status = run(concat(new String[] {"trace", EXAMPLE}, concat(NODE_A, "--src", "203.0.113.7", "--dst", "10.101.22.7:80")));

        assertThat(status).as(err.toString()).isZero();
        assertThat(err.toString()).isEmpty();
        String text = out.toString();
        assertThat(text).startsWith("trace: tcp 203.0.113.7 -> 10.101.22.7:80 from external (203.0.113.7 is outside "
                + "--cluster-cidr 10.244.0.0/16)\n");
        assertThat(text).contains("\n[ 100%]   nat KUBE-SERVICES\n")
                .contains("no match  -A KUBE-SERVICES -m comment --comment \"default/kubernetes:https cluster IP\" -m tcp "
                        + "-p tcp -d 10.96.0.1 --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y   # destination 10.101.22.7 is "
                        + "not 10.96.0.1")
                .contains("[  50%] routing: 10.244.0.21 is not a local address: forwarded (FORWARD)")
                .contains("[  50%] => DNAT to 10.244.1.22:8080, masqueraded  (forwarded)");
        assertThat(text).endsWith("""
                verdict: DNAT
                endpoints:
                  10.244.0.21:8080     50%  masquerade: yes
                  10.244.1.22:8080     50%  masquerade: yes
                masquerade: yes
                affinity: none
                cannot evaluate: none
                """);
    }

    /** node-a's flat-layout listing with shop/checkout's verdict map replaced by a cascade of numgen rules. */
    static String flatListingWithCascade(String first) throws Exception {
        String a = "endpoint-H2O5H4NC-shop/checkout/tcp/https__10.244.0.31/8443";
        String b = "endpoint-IXTNODKI-shop/checkout/tcp/https__10.244.1.32/8443";
        String c = "endpoint-QPALKZTE-shop/checkout/tcp/https__10.244.1.33/8443";
        String vmap = "\t\tnumgen random mod 3 vmap { 0 : goto " + a + ", 1 : goto " + b + ", 2 : goto " + c
                + " } # handle 89\n";
        String listing = Files.readString(NODE_A_LISTING.resolveSibling("node-a-flat-layout-with-handles.nft"),
                StandardCharsets.UTF_8);
        assertThat(listing).contains(vmap);
        return listing.replace(vmap, "\t\t" + first + " goto " + a + " # handle 89\n"
                + "\t\tnumgen random mod 2 0 goto " + b + " # handle 120\n"
                + "\t\tgoto " + c + " # handle 121\n");
    }

    @Test
    void aCascadeOfNumgenRulesShowsEachRandomChoiceAndAThirdPerEndpoint() throws Exception {
        Path listing = dir.resolve("cascade.nft");
        Files.writeString(listing, flatListingWithCascade("numgen random mod 3 0"), StandardCharsets.UTF_8);

        int status = run("trace", "--nft-ruleset", listing.toString(), "--node-ip", "192.168.10.11",
                "--cluster-cidr", "10.244.0.0/16", "--src", "203.0.113.7", "--dst", "198.51.100.20:443", "--brief");

        assertThat(status).as(err.toString()).isZero();
        assertThat(out.toString())
                .contains("[33.3%]     match     numgen random mod 3 0 goto endpoint-H2O5H4NC-shop/checkout/tcp/"
                        + "https__10.244.0.31/8443   # random choice: numgen random mod 3 gives 0 (1 of its 3 values: "
                        + "33.3% of the packets that get here); go to endpoint-H2O5H4NC-shop/checkout/tcp/"
                        + "https__10.244.0.31/8443\n")
                .contains("[66.7%]     no match  numgen random mod 3 0 goto endpoint-H2O5H4NC-shop/checkout/tcp/"
                        + "https__10.244.0.31/8443   # random choice: numgen random mod 3 gives 1 or 2 (2 of its 3 "
                        + "values: 66.7% of the packets that get here), which does not match \"numgen random mod 3 "
                        + "0\"\n")
                .endsWith("""
                        verdict: DNAT
                        endpoints:
                          10.244.0.31:8443   33.3%  masquerade: yes
                          10.244.1.32:8443   33.3%  masquerade: yes
                          10.244.1.33:8443   33.3%  masquerade: yes
                        masquerade: yes
                        affinity: ClientIP, 600 s (traced as a new client; a client seen within that time returns to its endpoint)
                        cannot evaluate: none
                        """);
    }

    @Test
    void jsonHasTheVerdictEndpointsMasqueradeAndPath() {
        int status = run(concat(new String[] {"trace", EXAMPLE}, concat(NODE_A, "--src", "10.244.1.5", "--dst", "10.101.22.9:443",
                "-o", "json")));

        assertThat(status).as(err.toString()).isZero();
        JsonObject trace = JsonParser.parseString(out.toString()).getAsJsonObject();
        assertThat(trace.get("verdict").getAsString()).isEqualTo("DNAT");
        assertThat(trace.getAsJsonObject("packet").get("from").getAsString()).isEqualTo("pod");
        JsonArray endpoints = trace.getAsJsonArray("endpoints");
        assertThat(endpoints).hasSize(3);
        JsonObject first = endpoints.get(0).getAsJsonObject();
        assertThat(first.get("address").getAsString()).isEqualTo("10.244.0.31:8443");
        assertThat(first.get("probability").getAsDouble()).isEqualTo(0.3333333333);
        // A pod inside the cluster CIDR is not masqueraded.
        assertThat(trace.get("masquerade").getAsBoolean()).isFalse();
        assertThat(trace.getAsJsonArray("affinity").get(0).getAsJsonObject().get("timeoutSeconds").getAsLong())
                .isEqualTo(600);
        JsonObject firstStep = trace.getAsJsonArray("path").get(0).getAsJsonObject();
        assertThat(firstStep.get("table").getAsString()).isEqualTo("nat");
        assertThat(firstStep.get("chain").getAsString()).isEqualTo("PREROUTING");
        assertThat(firstStep.get("result").getAsString()).isEqualTo("match");
        assertThat(firstStep.get("rule").getAsString())
                .isEqualTo("-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES");
        double total = 0;
        for (JsonElement outcome : trace.getAsJsonArray("outcomes")) {
            total += outcome.getAsJsonObject().get("probability").getAsDouble();
        }
        assertThat(total).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-9));
    }

    @Test
    void aServiceWithoutEndpointsIsRejectedAndNoEndpointsAreListed() {
        int status = run(concat(new String[] {"trace", EXAMPLE}, concat(NODE_A, "--src", "203.0.113.7", "--dst", "10.101.30.5:5432",
                "-o", "json")));

        assertThat(status).isZero();
        JsonObject trace = JsonParser.parseString(out.toString()).getAsJsonObject();
        assertThat(trace.get("verdict").getAsString()).isEqualTo("REJECT");
        assertThat(trace.getAsJsonArray("endpoints")).isEmpty();
    }

    @Test
    void tracesKubeProxysOwnRulesetReadFromStandardInput() throws Exception {
        InputStream original = System.in;
        System.setIn(new ByteArrayInputStream(Files.readAllBytes(KUBE_PROXY_OVERALL.resolve("expected.rules"))));
        int status;
        try {
            status = run("trace", "--iptables-save", "-", "--node-ip", "192.168.0.2", "--cluster-cidr", "10.0.0.0/8",
                    "--src", "203.0.113.130", "--dst", "5.6.7.8:80", "--brief");
        } finally {
            System.setIn(original);
        }

        assertThat(status).as(err.toString()).isZero();
        assertThat(out.toString())
                .contains("rules: iptables rules from standard input\n")
                .contains("note: table nat has no built-in chains (an iptables-restore input")
                .contains("match     -A KUBE-PROXY-FIREWALL -m comment --comment \"ns5/svc5:p80 traffic not accepted by "
                        + "KUBE-FW-NUKIZ6OKUXPJNT4C\" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j DROP   # DROP")
                .doesNotContain("no match")
                .contains("verdict: DROP\n");
    }

    @Test
    void rulesItCannotEvaluateAreNamedOnTheRuleAndInTheSummary() throws Exception {
        Path dump = dir.resolve("node.rules");
        Files.writeString(dump, """
                *filter
                :INPUT ACCEPT [0:0]
                :FORWARD ACCEPT [0:0]
                :OUTPUT ACCEPT [0:0]
                -A FORWARD -m physdev --physdev-is-bridged -j DROP
                COMMIT
                """, StandardCharsets.UTF_8);

        int status = run("trace", "--iptables-save", dump.toString(), "--src", "203.0.113.7", "--dst", "10.1.2.3:80");

        assertThat(status).isZero();
        assertThat(out.toString())
                .contains("CANNOT    -A FORWARD -m physdev --physdev-is-bridged -j DROP   # cannot evaluate: match -m "
                        + "physdev --physdev-is-bridged is not modelled; treated as not matching")
                .contains("verdict: ACCEPT\n")
                .contains("cannot evaluate: 1 rule, treated as not matching:\n  filter FORWARD: -A FORWARD");
    }

    @Test
    void tracesTheExampleClusterInNftablesModeInEitherLayout() {
        for (String layout : new String[] {"kube-proxy", "flat"}) {
            out.getBuffer().setLength(0);
            int status = run(concat(new String[] {"trace", EXAMPLE, "--proxy-mode", "nftables", "--nftables-layout",
                layout, "--service-cidr", "10.96.0.0/12"}, concat(NODE_A, "--src", "203.0.113.7", "--dst",
                    "198.51.100.20:443", "-o", "json")));

            assertThat(status).as(err.toString()).isZero();
            JsonObject trace = JsonParser.parseString(out.toString()).getAsJsonObject();
            assertThat(trace.get("rules").getAsString()).isEqualTo("railyard render --proxy-mode nftables of "
                    + EXAMPLE + " (node node-a, 192.168.10.11, " + layout + " layout)");
            assertThat(trace.get("verdict").getAsString()).isEqualTo("DNAT");
            JsonArray endpoints = trace.getAsJsonArray("endpoints");
            assertThat(endpoints).hasSize(3);
            assertThat(endpoints.get(0).getAsJsonObject().get("address").getAsString()).isEqualTo("10.244.0.31:8443");
            assertThat(endpoints.get(0).getAsJsonObject().get("probability").getAsDouble()).isEqualTo(0.3333333333);
            assertThat(trace.get("masquerade").getAsBoolean()).isTrue();
            assertThat(trace.getAsJsonArray("affinity")).hasSize(3);
            JsonObject firstStep = trace.getAsJsonArray("path").get(0).getAsJsonObject();
            assertThat(firstStep.get("table").getAsString()).isEqualTo("ip kube-proxy");
            assertThat(firstStep.get("chain").getAsString()).isEqualTo("filter-prerouting-pre-dnat");
            assertThat(firstStep.get("rule").getAsString()).isEqualTo("ct state new jump firewall-check");
        }
    }

    @Test
    void aFlatRenderSpreadsOverEveryEndpointInTheSharedMapBlock() {
        for (String layout : new String[] {"kube-proxy", "flat"}) {
            out.getBuffer().setLength(0);
            int status = run(concat(new String[] {"trace", EXAMPLE, "--proxy-mode", "nftables", "--nftables-layout",
                layout}, concat(NODE_A, "--src", "10.244.1.5", "--dst", "10.96.0.10:53", "--proto", "udp", "-o",
                    "json")));

            assertThat(status).as(err.toString()).isZero();
            JsonObject trace = JsonParser.parseString(out.toString()).getAsJsonObject();
            assertThat(trace.get("verdict").getAsString()).isEqualTo("DNAT");
            JsonArray endpoints = trace.getAsJsonArray("endpoints");
            assertThat(endpoints).hasSize(2);
            for (int i = 0; i < 2; i++) {
                JsonObject endpoint = endpoints.get(i).getAsJsonObject();
                assertThat(endpoint.get("address").getAsString()).isEqualTo(i == 0 ? "10.244.0.5:53" : "10.244.1.7:53");
                assertThat(endpoint.get("probability").getAsDouble()).isEqualTo(0.5);
            }
            if (layout.equals("flat")) {
                List<String> dispatch = new ArrayList<>();
                for (var step : trace.getAsJsonArray("path")) {
                    String rule = step.getAsJsonObject().get("rule").getAsString();
                    if (rule.matches(".*map @endpoints-udp-[0-9]+")) {
                        dispatch.add(rule + " # " + step.getAsJsonObject().get("why").getAsString());
                    }
                }
                assertThat(dispatch).hasSize(2).allMatch(r -> r.startsWith(
                        "meta l4proto udp dnat ip addr . port to numgen random mod 2 offset "));
                assertThat(dispatch.get(0)).contains("# random choice 0 of 2, key ").endsWith("DNAT to 10.244.0.5:53");
                assertThat(dispatch.get(1)).contains("# random choice 1 of 2, key ").endsWith("DNAT to 10.244.1.7:53");
            }
        }
    }

    @Test
    void tracesANodesNftListingReadFromStandardInput() throws Exception {
        InputStream original = System.in;
        System.setIn(new ByteArrayInputStream(Files.readAllBytes(NODE_A_LISTING)));
        int status;
        try {
            status = run("trace", "--nft-ruleset", "-", "--node-ip", "192.168.10.11", "--cluster-cidr", "10.244.0.0/16",
                    "--src", "192.0.2.50", "--dst", "198.51.100.20:443", "--brief");
        } finally {
            System.setIn(original);
        }

        assertThat(status).as(err.toString()).isZero();
        assertThat(out.toString()).isEqualTo("""
                trace: tcp 192.0.2.50 -> 198.51.100.20:443 from external (192.0.2.50 is outside --cluster-cidr 10.244.0.0/16)
                rules: nftables rules from standard input
                ip edge untracked
                  policy    policy accept   # end of base chain untracked: its policy accept applies
                inet firewall pre
                  policy    policy accept   # end of base chain pre: its policy accept applies
                ip kube-proxy filter-prerouting-pre-dnat
                  match     ct state new jump firewall-check   # jump to firewall-check
                  ip kube-proxy firewall-check
                    match     ip daddr . meta l4proto . th dport vmap @firewall-ips   # 198.51.100.20 . tcp . 443 : go to firewall-2FHNLMWZ-shop/checkout/tcp/https
                  ip kube-proxy firewall-2FHNLMWZ-shop/checkout/tcp/https
                    match     ip saddr != 203.0.113.0/24 drop   # drop
                => DROP  (ip kube-proxy firewall-2FHNLMWZ-shop/checkout/tcp/https: ip saddr != 203.0.113.0/24 drop)

                verdict: DROP
                endpoints: none
                masquerade: no
                affinity: none
                cannot evaluate: none
                """);
    }

    @Test
    void anNftRuleItCannotEvaluateIsNamedOnTheRuleAndInTheSummary() throws Exception {
        Path dump = dir.resolve("node.nft");
        Files.writeString(dump, """
                table inet filter {
                	chain forward {
                		type filter hook forward priority filter; policy accept;
                		meta skuid 0 drop
                	}
                }
                """, StandardCharsets.UTF_8);

        int status = run("trace", "--nft-ruleset", dump.toString(), "--src", "203.0.113.7", "--dst", "10.1.2.3:80");

        assertThat(status).isZero();
        assertThat(out.toString())
                .contains("CANNOT    meta skuid 0 drop   # cannot evaluate: \"meta skuid\" is not modelled; treated as "
                        + "not matching")
                .contains("verdict: ACCEPT\n")
                .contains("cannot evaluate: 1 rule, treated as not matching:\n  inet filter forward: meta skuid 0 drop");
    }

    @Test
    void badUsageExitsWithTwoAndSaysWhy() throws Exception {
        assertThat(run("trace", "--src", "1.2.3.4", "--dst", "10.0.0.1:80")).isEqualTo(2);
        assertThat(err.toString()).contains("railyard trace: give exactly one source of rules: manifest FILE..., "
                + "--iptables-save FILE, --nft-ruleset FILE or --live\n");

        Path nft = dir.resolve("ruleset.nft");
        Files.writeString(nft, "table ip kube-proxy {\n\tchain c {\n");
        assertThat(run("trace", "--nft-ruleset", nft.toString(), "--src", "1.2.3.4", "--dst", "10.0.0.1:80"))
                .isEqualTo(2);
        assertThat(err.toString()).contains("railyard trace: " + nft + ":2: chain c is not closed\n");
        assertThat(run("trace", "--iptables-save", nft.toString(), "--src", "1.2.3.4", "--dst", "10.0.0.1:80"))
                .isEqualTo(2);
        assertThat(err.toString()).contains("ruleset.nft looks like an nftables ruleset; trace it with --nft-ruleset\n");
        assertThat(run("trace", "--nft-ruleset", KUBE_PROXY_OVERALL.resolve("expected.rules").toString(), "--src",
                "1.2.3.4", "--dst", "10.0.0.1:80")).isEqualTo(2);
        assertThat(err.toString()).contains("expected.rules is not an nftables ruleset (`nft list ruleset` output or an "
                + "nft script of add commands); it looks like an iptables-save dump: trace it with --iptables-save\n");
        assertThat(run("trace", EXAMPLE, "--proxy-mode", "ipvs", "--src", "1.2.3.4", "--dst", "10.0.0.1:80"))
                .isEqualTo(2);
        assertThat(err.toString()).contains("railyard trace: --proxy-mode: \"ipvs\" (must be iptables or nftables)\n");
        assertThat(run("trace", EXAMPLE, "--proxy-mode", "nftables", "--nftables-layout", "tall", "--src", "1.2.3.4",
                "--dst", "10.0.0.1:80")).isEqualTo(2);
        assertThat(err.toString()).contains("railyard trace: --nftables-layout: ");

        assertThat(run("trace", EXAMPLE, "--src", "1.2.3.4", "--dst", "10.0.0.1")).isEqualTo(2);
        assertThat(err.toString()).contains("railyard trace: --dst: \"10.0.0.1\" has no port (IP:PORT, [IPv6]:PORT)");
        assertThat(run("trace", EXAMPLE, "--src", "fd00::1", "--dst", "10.0.0.1:80")).isEqualTo(2);
        assertThat(err.toString()).contains("railyard trace: --src fd00::1 and --dst 10.0.0.1:80 are of different IP "
                + "families");
        assertThat(run("trace", EXAMPLE, "--src", "1.2.3.4", "--dst", "10.0.0.1:80", "--proto", "icmp")).isEqualTo(2);
        assertThat(err.toString()).contains("--proto: \"icmp\" (must be tcp, udp or sctp)");
        assertThat(run("trace", EXAMPLE, "--src", "1.2.3.4", "--dst", "10.0.0.1:80", "--from", "mars")).isEqualTo(2);
        assertThat(err.toString()).contains("--from: unknown origin \"mars\" (must be external, pod or node)");

        Path broken = dir.resolve("broken.rules");
        Files.writeString(broken, "*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j NOWHERE --to 1\n");
        assertThat(run("trace", "--iptables-save", broken.toString(), "--src", "1.2.3.4", "--dst", "10.0.0.1:80"))
                .isEqualTo(2);
        assertThat(err.toString()).contains("broken.rules:1: table nat has no COMMIT");
        assertThat(out.toString()).isEmpty();
    }
}
