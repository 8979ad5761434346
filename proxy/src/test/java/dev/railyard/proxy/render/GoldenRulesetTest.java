package dev.railyard.proxy.render;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The whole ruleset for one small cluster per feature, to the character. */
class GoldenRulesetTest {

    static List<GoldenCases.Case> cases() {
        return GoldenCases.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void rendersExactly(GoldenCases.Case golden) throws Exception {
        assertThat(golden.render()).isEqualTo(golden.expected);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void noRuleUsesAnUndeclaredChain(GoldenCases.Case golden) throws Exception {
        assertThat(RuleChecks.undefinedChains(golden.render())).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void renderingIsDeterministicAndReusesItsBuffers(GoldenCases.Case golden) throws Exception {
        IptablesRenderer renderer = new IptablesRenderer(golden.config());
        var state = dev.railyard.proxy.source.ManifestLoader.parse(golden.name, golden.manifests)
                .state(golden.family, GoldenCases.NODE);
        String first = renderer.render(state).toString();
        String second = renderer.render(state).toString();

        assertThat(second).isEqualTo(first).isEqualTo(golden.expected);
    }
}
