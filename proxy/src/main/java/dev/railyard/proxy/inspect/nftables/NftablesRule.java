package dev.railyard.proxy.inspect.nftables;

import java.util.List;

/**
 * One nftables rule: its text as the input spelled it (which is what a trace prints), where it came from, its
 * comment, and its statements in order.
 */
public final class NftablesRule {
    private final String text;
    private final String origin;
    private final String comment;
    private final List<Statement> statements;
    private final Statement.Unsupported unsupported;

    NftablesRule(String text, String origin, String comment, List<Statement> statements) {
        this.text = text;
        this.origin = origin;
        this.comment = comment;
        this.statements = List.copyOf(statements);
        Statement.Unsupported first = null;
        for (Statement statement : statements) {
            if (statement instanceof Statement.Unsupported part) {
                first = part;
                break;
            }
        }
        this.unsupported = first;
    }

    /** The rule as written, e.g. {@code ip daddr . meta l4proto . th dport vmap @service-ips}. */
    public String text() {
        return text;
    }

    /** Where the rule came from, e.g. "line 12". */
    public String origin() {
        return origin;
    }

    /** The {@code comment "..."} text, or null. */
    public String comment() {
        return comment;
    }

    List<Statement> statements() {
        return statements;
    }

    /** The first statement the evaluator does not model, or null. */
    Statement.Unsupported unsupported() {
        return unsupported;
    }

    @Override
    public String toString() {
        return text;
    }
}
