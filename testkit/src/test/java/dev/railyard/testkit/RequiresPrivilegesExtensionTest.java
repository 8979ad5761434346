package dev.railyard.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;

/**
 * Runs fixture classes through the real Jupiter engine with the flag on and off. The fixtures ask for a
 * command that cannot exist, so the prerequisite is missing on every machine, root or not.
 */
class RequiresPrivilegesExtensionTest {

    static final String MISSING_COMMAND = "railyard-no-such-command-7f3a";

    @Test
    void missingPrerequisiteSkipsTheClassWhenNotRequired() {
        EngineExecutionResults results = run(NeedsMissingCommand.class, "false");

        results.containerEvents().skipped().assertThatEvents().hasSize(1);
        String reason = results.containerEvents().skipped().stream().findFirst()
                .flatMap(Event::getPayload).map(Object::toString).orElse("");
        assertThat(reason).contains(MISSING_COMMAND).contains("needs");
        results.testEvents().started().assertThatEvents().isEmpty();
        assertThat(NeedsMissingCommand.beforeAllRan).isFalse();
    }

    @Test
    void missingPrerequisiteFailsTheClassWhenRequired() {
        EngineExecutionResults results = run(NeedsMissingCommand.class, "true");

        results.containerEvents().failed().assertThatEvents().hasSize(1);
        Throwable failure = results.containerEvents().failed().stream().findFirst()
                .flatMap(e -> e.getPayload(org.junit.platform.engine.TestExecutionResult.class))
                .flatMap(org.junit.platform.engine.TestExecutionResult::getThrowable).orElseThrow();
        assertThat(failure).isInstanceOf(org.opentest4j.AssertionFailedError.class).hasMessageContaining(MISSING_COMMAND);
        results.testEvents().succeeded().assertThatEvents().isEmpty();
        assertThat(NeedsMissingCommand.beforeAllRan).isFalse();
    }

    @Test
    void methodLevelAnnotationFailsOnlyThatMethodWhenRequired() {
        EngineExecutionResults results = run(OneMethodNeedsMissingCommand.class, "true");

        results.testEvents().succeeded().assertThatEvents().hasSize(1);
        results.testEvents().failed().assertThatEvents().hasSize(1);
    }

    @Test
    void methodLevelAnnotationSkipsOnlyThatMethodWhenNotRequired() {
        EngineExecutionResults results = run(OneMethodNeedsMissingCommand.class, "false");

        results.testEvents().succeeded().assertThatEvents().hasSize(1);
        results.testEvents().skipped().assertThatEvents().hasSize(1);
    }

    @Test
    void presentPrerequisitesRun() {
        EngineExecutionResults results = run(NeedsOnlyAShell.class, "true");

        results.testEvents().succeeded().assertThatEvents().hasSize(1);
    }

    private static EngineExecutionResults run(Class<?> fixture, String required) {
        NeedsMissingCommand.beforeAllRan = false;
        return EngineTestKit.engine("junit-jupiter")
                .configurationParameter(PrivilegeDecision.REQUIRE_PROPERTY, required)
                .selectors(selectClass(fixture))
                .execute();
    }

    @RequiresPrivileges(root = false, netns = false, commands = MISSING_COMMAND)
    static class NeedsMissingCommand {
        static volatile boolean beforeAllRan;

        @org.junit.jupiter.api.BeforeAll
        static void setUp() {
            beforeAllRan = true;
        }

        @Test
        void needsIt() {
        }
    }

    static class OneMethodNeedsMissingCommand {
        @Test
        @RequiresPrivileges(root = false, netns = false, commands = MISSING_COMMAND)
        void needsIt() {
        }

        @Test
        void doesNot() {
        }
    }

    @RequiresPrivileges(root = false, netns = false, commands = "sh")
    static class NeedsOnlyAShell {
        @Test
        void runs() {
        }
    }
}
