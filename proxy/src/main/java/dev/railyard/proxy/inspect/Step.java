package dev.railyard.proxy.inspect;

import java.util.Locale;
import java.util.Objects;

/**
 * One thing a traced packet met: a rule (matched, not matched, or not evaluable), a built-in chain's policy, the
 * routing decision between hooks, or the end of one branch of the trace.
 *
 * @param table   the table ({@code nat}, {@code filter}...; for nftables the table's name); empty for routing and end
 * @param chain   the chain the rule is in; {@code routing} for a routing step, {@code end} for an end
 * @param rule    the rule as the ruleset spells it; for a policy step {@code policy ACCEPT}
 * @param result  what the rule did with the packet
 * @param why     the reason, in words: the condition that failed, the target taken, the part that cannot be evaluated
 * @param depth   how deep in jumps from the hook's base chain (0 for the base chain's own rules)
 * @param reach   the share of packets of this trace that meet this step (below 1 after a random branch)
 */
public record Step(String table, String chain, String rule, Result result, String why, int depth, double reach) {

    /** What a step did with the packet. */
    public enum Result {
        /** Every condition held; the target was applied. */
        MATCH,
        /** A condition failed. */
        NO_MATCH,
        /** A condition or target is not modelled; the trace treats the rule as not matching and goes on. */
        CANNOT_EVALUATE,
        /** The packet fell off the end of a base chain and its policy applied. */
        POLICY,
        /** The routing decision between hooks: local delivery, forwarding or loopback. */
        ROUTE,
        /** Where one branch of the trace ends: the rule says the outcome, why says what decided it. */
        END;

        /** match, no-match, cannot-evaluate, policy, route. */
        public String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    public Step {
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(chain, "chain");
        Objects.requireNonNull(rule, "rule");
        Objects.requireNonNull(result, "result");
        why = why == null ? "" : why;
    }
}
