package dev.railyard.cli;

import static org.assertj.core.api.Assertions.assertThat;

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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code railyard trace --live}: the example cluster programmed into a network namespace with iptables-legacy
 * (as the proxy would, rules plus jump rules), or in nftables mode with nft, then traced from the namespace's own
 * rules and addresses.
 */
@RequiresPrivileges(commands = {"iptables-legacy-restore", "iptables-legacy-save", "iptables-legacy",
        "iptables-nft-save", "ip", "nft"})
class TraceLiveKernelTest {
    private static final String NODE_IP = "192.168.10.11";

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

    private static int run(StringWriter out, StringWriter err, String... args) {
        CommandLine cli = Railyard.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }
}
