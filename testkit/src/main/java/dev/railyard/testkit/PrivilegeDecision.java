package dev.railyard.testkit;

import java.util.List;

/**
 * What to do with a privileged test given what is missing and whether CI demands privileges. A pure
 * function of its inputs, so the skip-versus-fail policy can be tested without root.
 */
public record PrivilegeDecision(Verdict verdict, String message) {

    /** Set to {@code true} (CI does) to turn a missing prerequisite from a skip into a failure. */
    public static final String REQUIRE_PROPERTY = "railyard.requirePrivileged";

    public enum Verdict { RUN, SKIP, FAIL }

    /**
     * @param missing human-readable descriptions of missing prerequisites, e.g. {@code "root (running as uid 1000)"}
     * @param required whether {@value #REQUIRE_PROPERTY} is true
     */
    public static PrivilegeDecision decide(List<String> missing, boolean required) {
        if (missing.isEmpty()) {
            return new PrivilegeDecision(Verdict.RUN, "all prerequisites present");
        }
        String what = String.join(", ", missing);
        if (required) {
            return new PrivilegeDecision(Verdict.FAIL, "missing prerequisite(s): " + what + ". " + REQUIRE_PROPERTY
                    + "=true, so this is a failure rather than a skip: this machine must run the test as root with"
                    + " iproute2 and the named commands installed.");
        }
        return new PrivilegeDecision(Verdict.SKIP, "needs " + what + ": run as root with iproute2 and the named"
                + " commands installed (or set -D" + REQUIRE_PROPERTY + "=true, as CI does, to make this a failure"
                + " instead of a skip)");
    }

    /** Reads the flag the way the extension does: a value of "true" (any case) means required. */
    public static boolean isRequired(String propertyValue) {
        return propertyValue != null && Boolean.parseBoolean(propertyValue.strip());
    }
}
