package dev.railyard.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** railyard apply's options and refusals; what it does to a kernel is in {@link ApplyCommandKernelTest}. */
class ApplyCommandTest {
    @TempDir
    Path dir;

    private final StringWriter err = new StringWriter();
    private final StringWriter out = new StringWriter();

    private int run(String... args) {
        CommandLine cli = Railyard.commandLine();
        cli.setErr(new PrintWriter(err, true));
        cli.setOut(new PrintWriter(out, true));
        return cli.execute(args);
    }

    @Test
    void takesEveryOptionOfRenderButItsOutputFile() {
        CommandLine cli = Railyard.commandLine();
        List<String> render = cli.getSubcommands().get("render").getCommandSpec().options().stream()
                .flatMap(option -> List.of(option.names()).stream()).toList();
        List<String> apply = cli.getSubcommands().get("apply").getCommandSpec().options().stream()
                .flatMap(option -> List.of(option.names()).stream()).toList();

        assertThat(apply).containsAll(render.stream().filter(name -> !name.equals("-o") && !name.equals("--output"))
                .toList());
        assertThat(apply).contains("--iptables-backend", "--proxy-mode", "--netns", "--ip-family");
        OptionSpec renderNodeIp = cli.getSubcommands().get("render").getCommandSpec().findOption("--node-ip");
        assertThat(cli.getSubcommands().get("apply").getCommandSpec().findOption("--node-ip").description())
                .isEqualTo(renderNodeIp.description());
    }

    @Test
    void anUnknownModeOrLayoutIsRefusedBeforeAnythingIsRead() {
        assertThat(run("apply", "--proxy-mode", "ipvs", dir.resolve("missing.yaml").toString())).isEqualTo(2);
        assertThat(err.toString()).isEqualTo("railyard apply: --proxy-mode: \"ipvs\" is not supported; use iptables "
                + "or nftables\n");
        assertThat(run("apply", "--proxy-mode", "nftables", "--nftables-layout", "tall",
                dir.resolve("missing.yaml").toString())).isEqualTo(2);
        assertThat(err.toString()).contains("--nftables-layout: nftables layout \"tall\" is not supported");
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void badSettingsAndUnreadableFilesChangeNothing() throws Exception {
        Path good = dir.resolve("good.yaml");
        Files.writeString(good, "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
                + "spec: {clusterIP: 10.96.0.10, ports: [{port: 80}]}\n");
        Path broken = dir.resolve("broken.yaml");
        Files.writeString(broken, "apiVersion: v1\nkind: Service\nmetadata: {name: [unclosed\n");
        // Namespaces that do not exist: had apply reached iptables, it would have failed differently.
        String netns = "--netns=ry-apply-absent";

        assertThat(run("apply", "--proxy-mode", "ipvs", netns, good.toString())).isEqualTo(2);
        assertThat(run("apply", "--iptables-backend", "xtables", netns, good.toString())).isEqualTo(2);
        assertThat(run("apply", "--ip-family", "5", netns, good.toString())).isEqualTo(2);
        assertThat(run("apply", "--cluster-cidr", "10.244.0.0/33", netns, good.toString())).isEqualTo(2);
        assertThat(run("apply", netns, dir.resolve("missing.yaml").toString())).isEqualTo(2);
        assertThat(run("apply", netns, good.toString(), broken.toString())).isEqualTo(2);

        List<String> lines = err.toString().lines().toList();
        assertThat(lines).hasSize(6);
        assertThat(lines.subList(0, 3)).containsExactly(
                "railyard apply: --proxy-mode: \"ipvs\" is not supported; use iptables or nftables",
                "railyard apply: unknown iptables backend \"xtables\" (must be auto, legacy or nft)",
                "railyard apply: IP family must be 4 or 6, not 5");
        assertThat(lines.get(3)).isEqualTo("railyard apply: \"10.244.0.0/33\" is not a valid CIDR");
        assertThat(lines.get(4)).isEqualTo("railyard apply: " + dir.resolve("missing.yaml") + ": no such file");
        assertThat(lines.get(5)).startsWith("railyard apply: " + broken + ":4: not valid YAML or JSON: ");
        assertThat(out.toString()).isEmpty();
    }
}
