package dev.railyard.proxy.inspect.iptables;

import java.util.List;
import java.util.Set;

/**
 * One parsed iptables rule: its conditions, its target, and its text as the input spelled it (which is what a
 * trace prints).
 */
public final class IptablesRule {
    private final String chain;
    private final String text;
    private final String origin;
    private final List<Condition> conditions;
    private final Target target;

    IptablesRule(String chain, String text, String origin, List<Condition> conditions, Target target) {
        this.chain = chain;
        this.text = text;
        this.origin = origin;
        this.conditions = List.copyOf(conditions);
        this.target = target;
    }

    public String chain() {
        return chain;
    }

    /** The rule as written in the input, e.g. {@code -A KUBE-SERVICES -d 10.96.0.1/32 -p tcp ... -j KUBE-SVC-...}. */
    public String text() {
        return text;
    }

    /** Where the rule came from: "line 12" of the input, or what added it. */
    public String origin() {
        return origin;
    }

    /** The {@code --comment} text, or null. */
    public String comment() {
        for (Condition condition : conditions) {
            if (condition instanceof Condition.Comment comment) {
                return comment.text();
            }
        }
        return null;
    }

    List<Condition> conditions() {
        return conditions;
    }

    Target target() {
        return target;
    }

    /** This rule with a {@code -j NAME} turned into a jump when NAME is one of {@code chains}, or unsupported. */
    IptablesRule resolve(Set<String> chains) {
        if (!(target instanceof Target.Named named)) {
            return this;
        }
        Target resolved;
        if (chains.contains(named.name())) {
            resolved = named.options().isEmpty() ? new Target.Jump(named.name())
                    : new Target.Unsupported(named.name(), "options after a jump to chain " + named.name() + ": "
                    + String.join(" ", named.options()));
        } else {
            resolved = new Target.Unsupported(named.name(), "target " + named.name()
                    + " is not a chain of this table and not a target the trace models");
        }
        return new IptablesRule(chain, text, origin, conditions, resolved);
    }

    @Override
    public String toString() {
        return text;
    }
}
