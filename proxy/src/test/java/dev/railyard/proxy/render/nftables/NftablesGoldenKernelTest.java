package dev.railyard.proxy.render.nftables;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.nftables.Family;
import dev.railyard.nftables.Ruleset;
import dev.railyard.nftables.ScriptParser;
import dev.railyard.testkit.CommandResult;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.RequiresPrivileges;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every golden nftables script ({@link NftablesGoldenTest}) as a real kernel takes it, each in a fresh network
 * namespace: {@code nft -c -f} accepts the file, {@code nft -f} loads it, loading the same bytes again leaves
 * {@code nft list table} exactly as it was (the script replaces the table whole), and the kernel then holds what
 * the in-memory {@link Ruleset} holds after the same script: the same chains (base chains on the same hook,
 * type and priority) with as many rules each, the same sets and maps, and the same elements with the same
 * verdicts, read back with {@code nft -j list table}.
 */
@RequiresPrivileges(commands = {"nft", "ip"})
class NftablesGoldenKernelTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    static List<NftablesGoldenCase> cases() {
        return NftablesGoldenCase.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void theKernelLoadsTheGoldenAndReloadsItToTheSameTable(NftablesGoldenCase golden) throws Exception {
        byte[] script = golden.expected().getBytes(StandardCharsets.UTF_8);
        Ruleset model = new Ruleset();
        model.apply(ScriptParser.parse(golden.expected(), golden.family(), NftablesLayout.TABLE));

        try (NetworkNamespace ns = NetworkNamespace.create()) {
            nft(ns, script, "-c", "-f", "-");
            assertThat(listTable(ns, golden.family())).as("nft -c must not commit anything").isNull();

            nft(ns, script, "-f", "-");
            String first = listTable(ns, golden.family());
            nft(ns, script, "-f", "-");
            String second = listTable(ns, golden.family());

            assertThat(second).as("nft list table after loading %s twice", golden).isEqualTo(first);
            KernelTable kernel = KernelTable.parse(nft(ns, null, "-j", "list", "table", golden.family().keyword(),
                    NftablesLayout.TABLE).stdout());
            assertThat(kernel).isEqualTo(KernelTable.of(model, golden.family()));
        }
    }

    private static CommandResult nft(NetworkNamespace ns, byte[] stdin, String... args) {
        List<String> command = new ArrayList<>(List.of("nft"));
        command.addAll(List.of(args));
        CommandResult result = ns.exec(command, TIMEOUT, stdin);
        assertThat(result.succeeded()).as("%s: %s", result.commandLine(), result.stderr()).isTrue();
        return result;
    }

    /** {@code nft list table}, or null when there is no such table. */
    private static String listTable(NetworkNamespace ns, Family family) {
        CommandResult result = ns.exec(List.of("nft", "list", "table", family.keyword(), NftablesLayout.TABLE),
                TIMEOUT, null);
        return result.succeeded() ? result.stdout() : null;
    }
}
