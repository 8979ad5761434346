package dev.railyard.proxy.render.nftables;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.nftables.Ruleset;
import dev.railyard.nftables.ScriptParser;
import dev.railyard.nftables.Transaction;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The whole nftables script for one small cluster per feature ({@link NftablesGoldenCase}, under
 * src/test/resources/nftables-golden), to the byte, and consistent: it applies to an empty in-memory
 * {@link Ruleset} with the kernel's rules (no jump to a missing chain, no missing set or map), once or twice to
 * the same result, and leaves no chain, set or map unreached ({@link RulesetConsistency}).
 * {@link NftablesGoldenKernelTest} loads the same files into a real kernel.
 *
 * <p>A change to the renderer's output must be deliberate: after changing the renderer, regenerate the files with
 * <pre>
 * ./mvnw -pl proxy -am verify -Dtest=NftablesGoldenTest -Dsurefire.failIfNoSpecifiedTests=false -Drailyard.updateGoldens=true
 * </pre>
 * and read the diff before committing it. A new case is a new directory with {@code manifests.yaml} and
 * {@code config.properties}; the same command writes its {@code expected.nft}.
 */
class NftablesGoldenTest {
    static final String UPDATE_PROPERTY = "railyard.updateGoldens";

    static List<NftablesGoldenCase> cases() {
        return NftablesGoldenCase.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void rendersExactlyTheGolden(NftablesGoldenCase golden) throws Exception {
        String rendered = golden.render().script();
        if (Boolean.getBoolean(UPDATE_PROPERTY)) {
            Files.writeString(golden.expectedFile(), rendered, StandardCharsets.UTF_8);
        }
        assertThat(golden.expectedOrNull()).as("%s (regenerate with -D%s=true)", golden.expectedFile(), UPDATE_PROPERTY)
                .isEqualTo(rendered);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void theGoldenReadsBackAsTheSameScript(NftablesGoldenCase golden) throws Exception {
        String expected = golden.expected();
        Transaction parsed = ScriptParser.parse(expected, golden.family(), NftablesLayout.TABLE);

        assertThat(parsed.script()).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void theGoldenAppliesOnceOrTwiceToTheSameConsistentRuleset(NftablesGoldenCase golden) throws Exception {
        Transaction script = ScriptParser.parse(golden.expected(), golden.family(), NftablesLayout.TABLE);
        Ruleset ruleset = new Ruleset();

        ruleset.apply(script);
        String once = ruleset.dump();
        assertThat(RulesetConsistency.problems(ruleset, golden.family(), NftablesLayout.TABLE)).isEmpty();
        ruleset.apply(script);

        assertThat(ruleset.dump()).isEqualTo(once);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void renderingIsDeterministic(NftablesGoldenCase golden) throws Exception {
        assertThat(golden.render().script()).isEqualTo(golden.render().script());
    }
}
