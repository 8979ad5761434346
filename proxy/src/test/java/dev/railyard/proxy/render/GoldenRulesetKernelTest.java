package dev.railyard.proxy.render;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.apply.IptablesRestore;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.testkit.CommandResult;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.RequiresPrivileges;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every golden ruleset, and every kube-proxy compatibility case with a whole expected ruleset (both Railyard's
 * rendering of its input and kube-proxy's own expected output), is loadable by a real kernel: {@code --test}
 * accepts it, a real restore succeeds (with iptables-nft, {@code --test} does not catch a jump to an undefined
 * chain, a real restore does), restoring the same bytes again succeeds ({@code --noflush} re-declares and so
 * replaces our chains), and {@code iptables-save} then shows every chain the text declares with exactly as many
 * rules as the text gives it, and none of the chains it deletes with {@code -X}.
 *
 * <p>Each case gets a fresh network namespace, so nothing is left over from another case. Rules that count in
 * nfacct objects ({@code -m nfacct --nfacct-name NAME}) need those objects to exist, as they do on a node where
 * kube-proxy created them at start-up; the test creates them in the namespace first.
 */
@RequiresPrivileges(commands = {"iptables-restore", "ip6tables-restore", "ip", "nfacct"})
class GoldenRulesetKernelTest {

    private static final Pattern NFACCT_NAME = Pattern.compile("--nfacct-name (\\S+)");
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);

    /** One ruleset to load: its name, family and text. */
    record Ruleset(String name, IpFamily family, String rules) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> rulesets() throws Exception {
        List<Arguments> all = new ArrayList<>();
        for (GoldenCases.Case golden : GoldenCases.all()) {
            all.add(Arguments.of(new Ruleset("golden " + golden.name, golden.family, golden.render())));
        }
        for (CompatCase testCase : CompatCase.having("expected.rules")) {
            all.add(Arguments.of(new Ruleset("kube-proxy case " + testCase.name + ", rendered by Railyard",
                    testCase.family(), testCase.render())));
            all.add(Arguments.of(new Ruleset("kube-proxy case " + testCase.name + ", kube-proxy's expected.rules",
                    testCase.family(), testCase.file("expected.rules").stripLeading())));
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rulesets")
    void kernelLoadsTheRulesetAndReloadsItIdempotently(Ruleset ruleset) throws Exception {
        byte[] bytes = ruleset.rules().getBytes(StandardCharsets.UTF_8);
        Map<String, TableText> declared = parse(ruleset.rules());
        assertThat(declared).as("tables in the ruleset").isNotEmpty();

        try (NetworkNamespace ns = NetworkNamespace.create()) {
            createNfacctObjects(ns, ruleset.rules());
            IptablesRestore restore = IptablesRestore.of(ruleset.family()).withCommandPrefix(ns.commandPrefix());

            restore.test(bytes);
            restore.restore(bytes);
            assertKernelHolds(ns, ruleset, declared, "after the first restore");

            restore.restore(bytes);
            assertKernelHolds(ns, ruleset, declared, "after restoring the same bytes again");
        }
    }

    private static void assertKernelHolds(NetworkNamespace ns, Ruleset ruleset, Map<String, TableText> declared,
                                          String when) {
        String save = ruleset.family() == IpFamily.V6 ? "ip6tables-save" : "iptables-save";
        for (Map.Entry<String, TableText> table : declared.entrySet()) {
            String saved = ns.exec(List.of(save, "-t", table.getKey()), COMMAND_TIMEOUT, null).requireSuccess().stdout();
            TableText kernel = parse(saved).get(table.getKey());
            assertThat(kernel).as("%s: table %s %s%n%s", ruleset, table.getKey(), when, saved).isNotNull();
            TableText text = table.getValue();

            for (String chain : text.chains) {
                if (text.deleted.contains(chain)) {
                    continue;
                }
                assertThat(kernel.chains).as("%s: chain %s in table %s %s%n%s", ruleset, chain, table.getKey(), when,
                        saved).contains(chain);
                assertThat(kernel.ruleCounts.getOrDefault(chain, 0))
                        .as("%s: rules in %s/%s %s%n%s", ruleset, table.getKey(), chain, when, saved)
                        .isEqualTo(text.ruleCounts.getOrDefault(chain, 0));
            }
            for (String chain : text.deleted) {
                assertThat(kernel.chains).as("%s: chain %s deleted by -X in table %s %s", ruleset, chain,
                        table.getKey(), when).doesNotContain(chain);
            }
        }
    }

    /** What kube-proxy does at start-up for its metrics: create the nfacct objects its rules count in. */
    private static void createNfacctObjects(NetworkNamespace ns, String rules) {
        Set<String> names = new LinkedHashSet<>();
        Matcher matcher = NFACCT_NAME.matcher(rules);
        while (matcher.find()) {
            names.add(matcher.group(1));
        }
        if (names.isEmpty()) {
            return;
        }
        for (String name : names) {
            CommandResult result = ns.exec(COMMAND_TIMEOUT, "nfacct", "add", name);
            assertThat(result.succeeded()).as("nfacct add %s in %s: %s", name, ns, result).isTrue();
        }
    }

    /** The chains, per-chain rule counts and {@code -X} deletions of each table in iptables-save format. */
    static final class TableText {
        final Set<String> chains = new LinkedHashSet<>();
        final Map<String, Integer> ruleCounts = new TreeMap<>();
        final Set<String> deleted = new LinkedHashSet<>();
    }

    static Map<String, TableText> parse(String text) {
        Map<String, TableText> tables = new LinkedHashMap<>();
        TableText current = null;
        for (String line : text.split("\n")) {
            if (line.startsWith("*")) {
                current = tables.computeIfAbsent(line.substring(1).strip(), t -> new TableText());
            } else if (current == null || line.startsWith("#") || line.isBlank()) {
                continue;
            } else if (line.startsWith(":")) {
                current.chains.add(line.substring(1).split(" ", 2)[0]);
            } else if (line.startsWith("-A ")) {
                current.ruleCounts.merge(line.split(" ", 3)[1], 1, Integer::sum);
            } else if (line.startsWith("-X ")) {
                current.deleted.add(line.substring(3).strip());
            }
        }
        return tables;
    }
}
