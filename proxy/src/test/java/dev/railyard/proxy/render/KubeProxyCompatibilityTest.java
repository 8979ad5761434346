package dev.railyard.proxy.render;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Renders kube-proxy's own test inputs and compares with kube-proxy's own expectations (see
 * src/test/resources/kubeproxy-compat/README.md for where each case comes from).
 */
class KubeProxyCompatibilityTest {

    static List<CompatCase> fullOutputCases() {
        return CompatCase.having("expected.rules");
    }

    static List<CompatCase> singleChainCases() {
        return CompatCase.having("expected-chain.");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fullOutputCases")
    void wholeRulesetEqualsKubeProxys(CompatCase testCase) throws Exception {
        String expected = testCase.file("expected.rules").stripLeading();

        String actual = KubeProxyCanonicalizer.canonicalize(testCase.render());

        assertThat(actual).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("singleChainCases")
    void chainEqualsKubeProxys(CompatCase testCase) throws Exception {
        String rendered = testCase.render();
        for (String file : chainFiles(testCase)) {
            // expected-chain.<table>.<CHAIN>.rules
            String[] parts = file.split("\\.", 3);
            String table = parts[1];
            String chain = parts[2].substring(0, parts[2].length() - ".rules".length());
            String expected = testCase.file(file).stripLeading();

            assertThat(chainRules(rendered, table, chain)).as(file).isEqualTo(expected);
        }
    }

    private static List<String> chainFiles(CompatCase testCase) throws Exception {
        try (var files = java.nio.file.Files.list(testCase.dir)) {
            return files.map(f -> f.getFileName().toString()).filter(f -> f.startsWith("expected-chain."))
                    .sorted().collect(Collectors.toList());
        }
    }

    static String chainRules(String rendered, String table, String chain) {
        StringBuilder out = new StringBuilder();
        String current = null;
        for (String line : rendered.split("\n")) {
            if (line.startsWith("*")) {
                current = line.substring(1);
            } else if (table.equals(current) && line.startsWith("-A " + chain + " ")) {
                out.append(line).append('\n');
            }
        }
        return out.toString();
    }

    static List<String> lines(String text) {
        return new ArrayList<>(List.of(text.split("\n")));
    }
}
