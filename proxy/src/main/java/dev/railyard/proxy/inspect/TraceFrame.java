package dev.railyard.proxy.inspect;

/**
 * A chain being run on one branch of a trace, as {@link TraceWalk} needs to see it: whether its rules are used up,
 * the policy that applies when it ends (base chains only), and how a step in it is put into words. A random choice
 * copies it, so that each branch goes on from the same rule.
 */
public interface TraceFrame<F extends TraceFrame<F>> {

    /**
     * A base chain's policy, as the ruleset spells it.
     *
     * @param rule     how the policy is shown as a step's rule (":KUBE-SERVICES ACCEPT", "policy accept")
     * @param chain    the base chain whose policy it is
     * @param verdict  the policy's verdict as written ("DROP", "accept")
     * @param drop     whether it drops the packet
     * @param hasRules whether the chain has rules (an empty chain's accepting policy is not worth a step)
     * @param table    the table, as steps name it
     */
    record Policy(String rule, String chain, String verdict, boolean drop, boolean hasRules, String table) {
    }

    /** Whether every rule to consider has been run. */
    boolean done();

    /** The policy that applies when this frame's chain ends, or null when it returns to its caller instead. */
    Policy policy();

    /** A step met in this frame's chain. */
    Step step(String rule, Step.Result result, String why, double reach);

    F copy();
}
