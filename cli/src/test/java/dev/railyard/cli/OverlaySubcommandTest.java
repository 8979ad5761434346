package dev.railyard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** railyard overlay as the railyard binary exposes it: its flags are the ones docs/overlay.md documents. */
class OverlaySubcommandTest {
    private static final Pattern FLAG = Pattern.compile("`(--[a-z0-9-]+)");

    @Test
    void everyDocumentedFlagExistsAndEveryFlagIsDocumented() throws Exception {
        Set<String> documented = new TreeSet<>();
        for (String line : Files.readAllLines(Path.of("..", "docs", "overlay.md"))) {
            if (line.startsWith("| `--")) {
                Matcher m = FLAG.matcher(line.substring(0, line.indexOf('|', 1)));
                while (m.find()) {
                    documented.add(m.group(1));
                }
            }
        }
        CommandLine overlay = Railyard.commandLine().getSubcommands().get("overlay");
        Set<String> inherited = new TreeSet<>();
        Railyard.commandLine().getCommandSpec().options().forEach(o -> inherited.addAll(Set.of(o.names())));
        Set<String> own = new TreeSet<>();
        for (OptionSpec o : overlay.getCommandSpec().options()) {
            for (String name : o.names()) {
                if (name.startsWith("--") && !inherited.contains(name)) {
                    own.add(name);
                }
            }
        }
        assertThat(documented).hasSizeGreaterThan(15);
        assertThat(own).isEqualTo(documented);
    }

    @Test
    void helpListsTheModesAndABadFlagIsAUsageError() {
        StringWriter out = new StringWriter();
        CommandLine cl = Railyard.commandLine();
        cl.setOut(new PrintWriter(out));
        assertThat(cl.execute("overlay", "--help")).isZero();
        assertThat(out.toString()).contains("--kube-subnet-mgr", "--iface-can-reach", "config");

        StringWriter err = new StringWriter();
        CommandLine bad = Railyard.commandLine();
        bad.setErr(new PrintWriter(err));
        assertThat(bad.execute("overlay", "--iface-regexp", "eth.*")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("Unknown options: '--iface-regexp'", "Possible solutions: --iface, --iface-regex");
    }
}
