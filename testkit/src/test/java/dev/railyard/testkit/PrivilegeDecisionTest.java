package dev.railyard.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class PrivilegeDecisionTest {

    @Test
    void runsWhenNothingIsMissingWhateverTheProperty() {
        assertThat(PrivilegeDecision.decide(List.of(), false).verdict()).isEqualTo(PrivilegeDecision.Verdict.RUN);
        assertThat(PrivilegeDecision.decide(List.of(), true).verdict()).isEqualTo(PrivilegeDecision.Verdict.RUN);
    }

    @Test
    void skipsWithAReasonNamingWhatIsMissingWhenNotRequired() {
        PrivilegeDecision decision = PrivilegeDecision.decide(List.of("root (running as uid 1000)", "command 'conntrack'"), false);

        assertThat(decision.verdict()).isEqualTo(PrivilegeDecision.Verdict.SKIP);
        assertThat(decision.message())
                .startsWith("needs root (running as uid 1000), command 'conntrack'")
                .contains("run as root")
                .contains("-Drailyard.requirePrivileged=true");
    }

    @Test
    void failsNamingWhatIsMissingWhenRequired() {
        PrivilegeDecision decision = PrivilegeDecision.decide(List.of("ip netns (cannot create a network namespace)"), true);

        assertThat(decision.verdict()).isEqualTo(PrivilegeDecision.Verdict.FAIL);
        assertThat(decision.message()).contains("ip netns (cannot create a network namespace)").contains("railyard.requirePrivileged=true");
    }

    @Test
    void onlyTrueMeansRequired() {
        assertThat(PrivilegeDecision.isRequired("true")).isTrue();
        assertThat(PrivilegeDecision.isRequired(" TRUE ")).isTrue();
        assertThat(PrivilegeDecision.isRequired("false")).isFalse();
        assertThat(PrivilegeDecision.isRequired("")).isFalse();
        assertThat(PrivilegeDecision.isRequired("yes")).isFalse();
        assertThat(PrivilegeDecision.isRequired(null)).isFalse();
    }
}
