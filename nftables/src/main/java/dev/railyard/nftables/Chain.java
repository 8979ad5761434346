package dev.railyard.nftables;

/**
 * A chain: a regular one (reached by jump, goto or a verdict map) or, with {@code base}, one netfilter calls.
 *
 * @param base    null for a regular chain
 * @param comment null for none
 */
public record Chain(String name, BaseChain base, String comment) implements NftObject {
    public Chain {
        NftNames.requireIdentifier(name, "chain name");
        NftNames.requireComment(comment);
    }

    /** A regular chain without a comment. */
    public static Chain named(String name) {
        return new Chain(name, null, null);
    }

    public boolean isBaseChain() {
        return base != null;
    }

    @Override
    public void writeOperation(Verb verb, Family family, String table, StringBuilder out) {
        if (verb == Verb.INSERT) {
            throw new IllegalArgumentException("nft cannot insert a chain");
        }
        out.append(verb.keyword()).append(" chain ").append(family.keyword()).append(' ').append(table)
                .append(' ').append(name);
        if ((verb == Verb.ADD || verb == Verb.CREATE) && (base != null || comment != null)) {
            out.append(" {");
            if (base != null) {
                out.append(" type ").append(base.type()).append(" hook ").append(base.hook())
                        .append(" priority ").append(base.priority()).append(" ;");
            }
            if (comment != null) {
                out.append(" comment \"").append(comment).append("\" ;");
            }
            out.append(" }");
        }
    }

    @Override
    public String kind() {
        return "chain";
    }
}
