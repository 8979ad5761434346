package dev.railyard.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class RenderCommandTest {
    @TempDir
    Path dir;

    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cli = Railyard.commandLine();
        cli.setErr(new PrintWriter(err, true));
        cli.setOut(new PrintWriter(new StringWriter(), true));
        return cli.execute(args);
    }

    private Path write(String name, String text) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, text);
        return file;
    }

    @Test
    void anOutputInAMissingDirectorySaysSo() {
        Path target = dir.resolve("missing").resolve("rules.txt");
        assertThat(run("render", "../examples/cluster.yaml", "-o", target.toString())).isEqualTo(2);
        assertThat(err.toString().strip()).isEqualTo("railyard render: cannot write " + target
                + ": no such directory " + target.getParent());
    }

    /** An nftables-only option in iptables mode would be ignored without a word; it is refused instead. */
    @Test
    void nftablesOnlyOptionsAreRefusedInIptablesMode() {
        String example = "../examples/cluster.yaml";
        for (String command : new String[] {"render", "trace", "diff"}) {
            String[] args = switch (command) {
                case "trace" -> new String[] {command, example, "--nftables-layout", "flat", "--src", "10.0.0.1",
                        "--dst", "10.96.0.1:443"};
                case "diff" -> new String[] {command, example, example, "--nftables-layout", "flat"};
                default -> new String[] {command, example, "--nftables-layout", "flat"};
            };
            err.getBuffer().setLength(0);
            assertThat(run(args)).as(command).isEqualTo(2);
            assertThat(err.toString()).as(command).contains("--nftables-layout only applies to --proxy-mode nftables");
        }
        err.getBuffer().setLength(0);
        assertThat(run("render", example, "--service-cidr", "10.96.0.0/12")).isEqualTo(2);
        assertThat(err.toString()).contains("--service-cidr only applies to --proxy-mode nftables");
        assertThat(run("render", example, "--proxy-mode", "nftables", "--nftables-layout", "flat", "--service-cidr",
                "10.96.0.0/12", "-o", dir.resolve("flat.nft").toString())).isZero();
    }

    @Test
    void rendersTheBuiltInExampleToStandardOutput() throws Exception {
        Path example = Path.of("../examples/cluster.yaml");
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream original = System.out;
        System.setOut(new PrintStream(captured, true, StandardCharsets.US_ASCII));
        int status;
        try {
            status = run("render", example.toString(), "--hostname-override", "node-a", "--node-ip", "192.168.10.11",
                    "--cluster-cidr", "10.244.0.0/16");
        } finally {
            System.setOut(original);
        }
        String rules = captured.toString(StandardCharsets.US_ASCII);

        assertThat(status).isZero();
        assertThat(err.toString()).isEmpty();
        assertThat(rules).startsWith("*filter\n").endsWith("COMMIT\n")
                .contains("-A KUBE-SERVICES -m comment --comment \"default/kubernetes:https cluster IP\" -m tcp -p tcp "
                        + "-d 10.96.0.1 --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y")
                .contains("\"shop/orders-db:postgres has no endpoints\"")
                .doesNotContain("cassandra").doesNotContain("payments-api");
    }

    @Test
    void theNodeNameIsTakenTrimmedAndLowerCasedAsTheProxyTakesIt() throws Exception {
        Path example = Path.of("../examples/cluster.yaml");
        Path exact = dir.resolve("exact.rules");
        Path typed = dir.resolve("typed.rules");
        assertThat(run("render", example.toString(), "--hostname-override", "node-a", "--node-ip", "192.168.10.11",
                "--cluster-cidr", "10.244.0.0/16", "--output", exact.toString())).isZero();
        assertThat(run("render", example.toString(), "--hostname-override", " Node-A ", "--node-ip",
                "192.168.10.11", "--cluster-cidr", "10.244.0.0/16", "--output", typed.toString())).isZero();
        assertThat(err.toString()).isEmpty();
        assertThat(Files.readString(exact)).contains("KUBE-SVL-");
        assertThat(Files.readString(typed)).isEqualTo(Files.readString(exact));
    }

    @Test
    void writesTheOutputFileAndSelectsTheFamily() throws Exception {
        Path manifest = write("dual.yaml", """
                apiVersion: v1
                kind: Service
                metadata: {name: web, namespace: ns}
                spec:
                  clusterIPs: [10.96.0.20, "fd00::20"]
                  ports: [{name: http, port: 80}]
                """);
        Path out = dir.resolve("rules.v6");

        int status = run("render", "--ip-family", "6", "-o", out.toString(), manifest.toString());

        assertThat(status).isZero();
        assertThat(Files.readString(out)).contains("-d fd00::20 --dport 80 -j REJECT").doesNotContain("10.96.0.20");
        try (var files = Files.list(dir)) {
            assertThat(files.filter(f -> f.getFileName().toString().endsWith(".tmp"))).isEmpty();
        }
    }

    @Test
    void skipsInvalidObjectsRendersTheRestAndSaysSoInTheExitStatus() throws Exception {
        Path manifest = write("mixed.yaml", """
                apiVersion: v1
                kind: Service
                metadata: {name: good, namespace: ns}
                spec: {clusterIP: 10.96.0.1, ports: [{port: 80}]}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: bad, namespace: ns}
                spec:
                  clusterIP: 10.96.0.2
                  ports: [{port: 99999}]
                """);
        Path out = dir.resolve("rules");

        int status = run("render", "-o", out.toString(), manifest.toString());

        assertThat(status).isEqualTo(ExitCodes.SKIPPED_OBJECTS);
        assertThat(Files.readString(out)).contains("ns/good has no endpoints").doesNotContain("ns/bad");
        assertThat(err.toString()).contains("skipped " + manifest + ":11: Service ns/bad: spec.ports[0].port: "
                + "99999 is out of range 1-65535").contains("1 invalid object skipped");
    }

    @Test
    void aFileThatDoesNotParseFailsWithItsLineAndWritesNothing() throws Exception {
        Path manifest = write("broken.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: x\n");
        Path out = dir.resolve("rules");

        int status = run("render", "-o", out.toString(), manifest.toString());

        assertThat(status).isEqualTo(ExitCodes.USAGE);
        assertThat(out).doesNotExist();
        assertThat(err.toString()).contains(manifest + ":").contains("not valid YAML or JSON");
    }

    @Test
    void badSettingsAndMissingFilesAreUsageErrors() throws Exception {
        Path manifest = write("ok.yaml", "apiVersion: v1\nkind: List\nitems: []\n");

        assertThat(run("render", "--cluster-cidr", "10.0.0.0/33", manifest.toString())).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("10.0.0.0/33");
        assertThat(run("render", dir.resolve("missing.yaml").toString())).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("missing.yaml: no such file");
        assertThat(run("render", "--ip-family", "5", manifest.toString())).isEqualTo(ExitCodes.USAGE);
        assertThat(run("render")).isEqualTo(ExitCodes.USAGE);
    }
}
