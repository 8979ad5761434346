package dev.railyard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.railyard.proxy.apply.IptablesBackend;
import dev.railyard.proxy.apply.IptablesRestore;
import dev.railyard.proxy.apply.JumpRules;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.RequiresPrivileges;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code railyard trace --live}: the example cluster programmed into a network namespace with iptables-legacy
 * (as the proxy would, rules plus jump rules), in nftables mode with nft, or by {@code railyard proxy} itself in
 * nftables mode (flat layout through netlink, its defaults), then traced from the namespace's own rules and
 * addresses.
 */
@RequiresPrivileges(commands = {"iptables-legacy-restore", "iptables-legacy-save", "iptables-legacy",
        "iptables-nft-save", "ip", "nft"})
class TraceLiveKernelTest {
    private static final String NODE_IP = "192.168.10.11";
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String WEB_ENDPOINT_B = """
              - addresses: [10.244.1.22]
                conditions: {ready: true}
                nodeName: node-b
                zone: zone-2
            """;
    private static final Pattern WEB_DISPATCH = Pattern.compile("chain service-KHN6ECMT-shop/web/tcp/http \\{[^}]*?"
            + "numgen random mod ([0-9]+) offset ([0-9]+) map @endpoints-tcp-[0-9]+");

    @TempDir
    Path dir;

    @Test
    void tracesTheNamespacesOwnRulesWithTheChosenBackend() throws Exception {
        try (NetworkNamespace node = NetworkNamespace.create()) {
            node.execChecked("ip", "addr", "add", NODE_IP + "/32", "dev", "lo");
            Path rules = dir.resolve("node-a.rules");
            CommandLine render = Railyard.commandLine();
            render.setErr(new PrintWriter(new StringWriter(), true));
            assertThat(render.execute("render", "../examples/cluster.yaml", "--hostname-override", "node-a",
                    "--node-ip", NODE_IP, "--cluster-cidr", "10.244.0.0/16", "-o", rules.toString())).isZero();
            IptablesRestore.of(IpFamily.V4, IptablesBackend.LEGACY).withCommandPrefix(node.commandPrefix())
                    .restore(Files.readAllBytes(rules));
            JumpRules.of(IpFamily.V4, IptablesBackend.LEGACY).withCommandPrefix(node.commandPrefix()).ensure();

            // shop/web is externalTrafficPolicy Local: its node port keeps the client's address and only uses
            // node-a's own endpoint. The node's address comes from its local routing table, not from a flag.
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int status = run(out, err, "trace", "--live", "--netns", node.name(), "--iptables-backend", "legacy",
                    "--src", "203.0.113.7", "--dst", NODE_IP + ":30080", "--in-interface", "eth0", "-o", "json");

            assertThat(status).as(err.toString()).isZero();
            JsonObject trace = JsonParser.parseString(out.toString()).getAsJsonObject();
            assertThat(trace.get("rules").getAsString()).isEqualTo("live rules (iptables-legacy-save)");
            assertThat(trace.get("verdict").getAsString()).isEqualTo("DNAT");
            assertThat(trace.getAsJsonArray("endpoints")).hasSize(1);
            JsonObject endpoint = trace.getAsJsonArray("endpoints").get(0).getAsJsonObject();
            assertThat(endpoint.get("address").getAsString()).isEqualTo("10.244.0.21:8080");
            assertThat(endpoint.get("probability").getAsDouble()).isEqualTo(1.0);
            assertThat(trace.get("masquerade").getAsBoolean()).isFalse();
            assertThat(trace.getAsJsonArray("notes")).as("a live dump has its jump rules").isEmpty();
            assertThat(trace.getAsJsonArray("cannotEvaluate")).isEmpty();

            // The nf_tables backend holds none of these rules.
            StringWriter nftOut = new StringWriter();
            StringWriter nftErr = new StringWriter();
            int nft = run(nftOut, nftErr, "trace", "--live", "--netns", node.name(), "--iptables-backend", "nft",
                    "--src", "203.0.113.7", "--dst", NODE_IP + ":30080");
            assertThat(nft).isEqualTo(2);
            assertThat(nftErr.toString()).startsWith("railyard trace: cannot read this node's rules: iptables-nft-save");
            assertThat(nftOut.toString()).isEmpty();
        }
    }

    @Test
    void aNodeWithKubeProxysNftablesTableIsTracedThroughNftListRuleset() throws Exception {
        try (NetworkNamespace node = NetworkNamespace.create()) {
            node.execChecked("ip", "addr", "add", NODE_IP + "/32", "dev", "lo");
            Path script = dir.resolve("node-a.nft");
            CommandLine render = Railyard.commandLine();
            render.setErr(new PrintWriter(new StringWriter(), true));
            assertThat(render.execute("render", "../examples/cluster.yaml", "--proxy-mode", "nftables",
                    "--nftables-layout", "flat", "--hostname-override", "node-a", "--node-ip", NODE_IP,
                    "--cluster-cidr", "10.244.0.0/16", "--service-cidr", "10.96.0.0/12", "-o", script.toString()))
                    .isZero();
            node.execChecked("nft", "-f", script.toString());

            // No --proxy-mode: the node has table ip kube-proxy, so its nft list ruleset is read.
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int status = run(out, err, "trace", "--live", "--netns", node.name(), "--src", "203.0.113.7", "--dst",
                    NODE_IP + ":30080", "-o", "json");

            assertThat(status).as(err.toString()).isZero();
            JsonObject trace = JsonParser.parseString(out.toString()).getAsJsonObject();
            assertThat(trace.get("rules").getAsString()).isEqualTo("live rules (nft list ruleset)");
            assertThat(trace.get("verdict").getAsString()).isEqualTo("DNAT");
            assertThat(trace.getAsJsonArray("endpoints")).hasSize(1);
            JsonObject endpoint = trace.getAsJsonArray("endpoints").get(0).getAsJsonObject();
            assertThat(endpoint.get("address").getAsString()).isEqualTo("10.244.0.21:8080");
            assertThat(trace.get("masquerade").getAsBoolean()).isFalse();
            assertThat(trace.getAsJsonArray("cannotEvaluate")).isEmpty();

            // --proxy-mode iptables reads iptables-save, which holds nothing here.
            StringWriter iptablesOut = new StringWriter();
            StringWriter iptablesErr = new StringWriter();
            assertThat(run(iptablesOut, iptablesErr, "trace", "--live", "--netns", node.name(), "--proxy-mode",
                    "iptables", "--src", "203.0.113.7", "--dst", NODE_IP + ":30080")).isEqualTo(2);
            assertThat(iptablesErr.toString()).startsWith("railyard trace: cannot read this node's rules: ");
        }
    }

    /** A namespace whose lo never came up has no local routing table at all ("FIB table does not exist"). */
    @Test
    void aNodeWhoseInterfacesNeverCameUpIsSaidToHaveNoAddress() throws Exception {
        String name = NetworkNamespace.NAME_PREFIX + "nolo" + ProcessHandle.current().pid() % 100_000;
        assertThat(new ProcessBuilder("ip", "netns", "add", name).inheritIO().start().waitFor()).isZero();
        try {
            assertThat(new ProcessBuilder("ip", "netns", "exec", name, "nft", "add table ip kube-proxy").inheritIO()
                    .start().waitFor()).isZero();
            for (String mode : List.of("iptables", "nftables")) {
                StringWriter err = new StringWriter();
                assertThat(run(new StringWriter(), err, "trace", "--live", "--netns", name, "--proxy-mode", mode,
                        "--src", "203.0.113.7", "--dst", "10.96.0.10:53")).as(mode).isEqualTo(2);
                assertThat(err.toString()).as(mode).contains("route show table local: the node has no local "
                        + "routing table: no interface is up, not even lo").doesNotContain("Exception");
            }
        } finally {
            new ProcessBuilder("ip", "netns", "del", name).inheritIO().start().waitFor();
        }
    }

    @Test
    void aNodeProgrammedByTheDaemonInTheFlatLayoutIsTracedAndDiffedLive() throws Exception {
        Path manifests = Files.createDirectories(dir.resolve("manifests"));
        String cluster = Files.readString(Path.of("..", "examples", "cluster.yaml"));
        assertThat(cluster).contains(WEB_ENDPOINT_B);
        StringBuilder more = new StringBuilder(WEB_ENDPOINT_B);
        for (int host = 24; host <= 26; host++) {
            more.append(WEB_ENDPOINT_B.replace("10.244.1.22", "10.244.1." + host));
        }
        String scaledUp = cluster.replace(WEB_ENDPOINT_B, more.toString());
        write(manifests, cluster);

        try (NetworkNamespace node = NetworkNamespace.create()) {
            node.execChecked("ip", "addr", "add", NODE_IP + "/32", "dev", "lo");
            InProcessProxy proxy = InProcessProxy.start("--manifests", manifests.toString(), "--netns", node.name(),
                    "--proxy-mode", "nftables", "--hostname-override", "node-a", "--node-ip", NODE_IP,
                    "--cluster-cidr", "10.244.0.0/16", "--iptables-min-sync-period", "100ms",
                    "--healthz-bind-address", "", "--metrics-bind-address", "");
            try {
                String first = awaitTable(node, t -> t.contains("10.244.1.22 . 8080"), "the example programmed");
                Matcher dispatch = WEB_DISPATCH.matcher(first);
                assertThat(dispatch.find()).as("the flat layout's dispatch by default:%n%s", first).isTrue();
                assertThat(webFromAPod(node)).containsExactly("10.244.0.21:8080 0.5", "10.244.1.22:8080 0.5");

                // Five endpoints no longer fit shop/web's block of keys: it moves, and keeps the bigger block when
                // it shrinks back to two, so the node's keys end up where a fresh render would not put them.
                write(manifests, scaledUp);
                awaitTable(node, t -> t.contains("10.244.1.26 . 8080"), "five web endpoints");
                assertThat(webFromAPod(node)).containsExactly("10.244.0.21:8080 0.2", "10.244.1.22:8080 0.2",
                        "10.244.1.24:8080 0.2", "10.244.1.25:8080 0.2", "10.244.1.26:8080 0.2");
                write(manifests, cluster);
                String last = awaitTable(node, t -> !t.contains("10.244.1.26 . 8080"), "two web endpoints again");
                assertThat(webFromAPod(node)).containsExactly("10.244.0.21:8080 0.5", "10.244.1.22:8080 0.5");

                Matcher now = WEB_DISPATCH.matcher(last);
                assertThat(now.find()).isTrue();
                assertThat(now.group(2)).as("shop/web's block moved").isNotEqualTo(dispatch.group(2));
                Path listing = dir.resolve("node-a.nft");
                Files.writeString(listing, node.execChecked("nft", "list", "ruleset").stdout());
                for (String layout : List.of("flat", "kube-proxy")) {
                    StringWriter out = new StringWriter();
                    StringWriter err = new StringWriter();
                    int status = run(out, err, "diff", listing.toString(), manifests.resolve("cluster.yaml").toString(),
                            "--proxy-mode", "nftables", "--nftables-layout", layout, "--hostname-override", "node-a",
                            "--node-ip", NODE_IP, "--cluster-cidr", "10.244.0.0/16");
                    assertThat(status).as("%s%s", out, err).isZero();
                    assertThat(out.toString()).contains("no difference: 13 frontends");
                }
            } finally {
                proxy.stop();
            }
            proxy.assertStoppedCleanly();
        }
    }

    /** trace --live of a pod's connection to shop/web's cluster IP: each endpoint with its probability. */
    private static List<String> webFromAPod(NetworkNamespace node) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = run(out, err, "trace", "--live", "--netns", node.name(), "--cluster-cidr", "10.244.0.0/16",
                "--src", "10.244.1.5", "--dst", "10.101.22.7:80", "-o", "json");
        assertThat(status).as(err.toString()).isZero();
        JsonObject trace = JsonParser.parseString(out.toString()).getAsJsonObject();
        assertThat(trace.get("rules").getAsString()).isEqualTo("live rules (nft list ruleset)");
        assertThat(trace.get("verdict").getAsString()).isEqualTo("DNAT");
        assertThat(trace.getAsJsonArray("cannotEvaluate")).isEmpty();
        JsonArray path = trace.getAsJsonArray("path");
        List<String> rules = new ArrayList<>();
        for (JsonElement step : path) {
            rules.add(step.getAsJsonObject().get("rule").getAsString());
        }
        assertThat(rules).anyMatch(r -> r.contains(" offset ") && r.matches(".*map @endpoints-tcp-[0-9]+"));
        List<String> endpoints = new ArrayList<>();
        for (JsonElement endpoint : trace.getAsJsonArray("endpoints")) {
            JsonObject e = endpoint.getAsJsonObject();
            assertThat(e.get("masquerade").getAsBoolean()).isFalse();
            endpoints.add(e.get("address").getAsString() + " " + e.get("probability").getAsDouble());
        }
        return endpoints;
    }

    private static String awaitTable(NetworkNamespace node, Predicate<String> condition, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        String table = "";
        while (System.nanoTime() < deadline) {
            var listed = node.exec("nft", "list", "table", "ip", "kube-proxy");
            table = listed.stdout();
            if (listed.exitCode() == 0 && condition.test(table)) {
                return table;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("timed out after " + WAIT + " waiting for: " + what + "; last listing:\n" + table);
    }

    private static void write(Path manifests, String text) throws Exception {
        Path temp = Files.createTempFile(manifests, ".tmp", ".part");
        Files.writeString(temp, text);
        Files.move(temp, manifests.resolve("cluster.yaml"), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
    }

    private static int run(StringWriter out, StringWriter err, String... args) {
        CommandLine cli = Railyard.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }
}
