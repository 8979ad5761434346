package dev.railyard.testkit;

import java.lang.reflect.AnnotatedElement;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.commons.support.AnnotationSupport;
import org.opentest4j.AssertionFailedError;

/**
 * The JUnit side of {@link RequiresPrivileges}. Skipping is done by the execution condition, so a skipped
 * class never runs its {@code @BeforeAll}. Failing is done in before-all/before-each callbacks instead of by
 * throwing from the condition, so the report shows a plain assertion failure with our message rather than a
 * "failed to evaluate condition" wrapper; those callbacks run before the test's own set-up methods.
 */
public final class PrivilegeCheckExtension implements ExecutionCondition, BeforeAllCallback, BeforeEachCallback {

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        Optional<PrivilegeDecision> decision = decide(context);
        if (decision.isEmpty()) {
            return ConditionEvaluationResult.enabled("no @RequiresPrivileges");
        }
        return switch (decision.get().verdict()) {
            case RUN -> ConditionEvaluationResult.enabled(decision.get().message());
            case SKIP -> ConditionEvaluationResult.disabled(decision.get().message());
            case FAIL -> ConditionEvaluationResult.enabled("will fail in set-up: " + decision.get().message());
        };
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        failIfRequired(context);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        failIfRequired(context);
    }

    private static void failIfRequired(ExtensionContext context) {
        decide(context).filter(d -> d.verdict() == PrivilegeDecision.Verdict.FAIL)
                .ifPresent(d -> {
                    throw new AssertionFailedError(d.message());
                });
    }

    private static Optional<PrivilegeDecision> decide(ExtensionContext context) {
        Optional<RequiresPrivileges> annotation = findAnnotation(context);
        if (annotation.isEmpty()) {
            return Optional.empty();
        }
        RequiresPrivileges needs = annotation.get();
        List<String> missing = Prerequisites.missing(needs.root(), needs.netns(), needs.commands());
        boolean required = PrivilegeDecision.isRequired(context.getConfigurationParameter(PrivilegeDecision.REQUIRE_PROPERTY)
                .orElse(System.getProperty(PrivilegeDecision.REQUIRE_PROPERTY)));
        return Optional.of(PrivilegeDecision.decide(missing, required));
    }

    /** The method's annotation wins over the class's; enclosing classes count for @Nested tests. */
    private static Optional<RequiresPrivileges> findAnnotation(ExtensionContext context) {
        Optional<AnnotatedElement> element = context.getElement();
        Optional<RequiresPrivileges> own = element.flatMap(e -> AnnotationSupport.findAnnotation(e, RequiresPrivileges.class));
        if (own.isPresent()) {
            return own;
        }
        for (Optional<ExtensionContext> c = context.getParent(); c.isPresent(); c = c.get().getParent()) {
            Optional<RequiresPrivileges> inherited = c.get().getElement()
                    .flatMap(e -> AnnotationSupport.findAnnotation(e, RequiresPrivileges.class));
            if (inherited.isPresent()) {
                return inherited;
            }
        }
        return Optional.empty();
    }
}
