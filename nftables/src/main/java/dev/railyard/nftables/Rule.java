package dev.railyard.nftables;

/**
 * One rule of a chain, its body in nft syntax ({@code ip daddr 10.0.0.1 jump x}), as knftables keeps rules. The
 * body was built from checked parts; it is checked once more here so that it cannot hold a second command.
 *
 * @param comment null for none
 */
public record Rule(String chain, String body, String comment) implements NftObject {
    public Rule {
        NftNames.requireIdentifier(chain, "chain name");
        NftNames.requireStatementText(body, "rule");
        NftNames.requireComment(comment);
    }

    public static Rule of(String chain, String body) {
        return new Rule(chain, body, null);
    }

    @Override
    public void writeOperation(Verb verb, Family family, String table, StringBuilder out) {
        if (verb != Verb.ADD && verb != Verb.INSERT) {
            throw new IllegalArgumentException("only add and insert rules by content; " + verb
                    + " needs a handle");
        }
        out.append(verb.keyword()).append(" rule ").append(family.keyword()).append(' ').append(table)
                .append(' ').append(chain).append(' ').append(body);
        if (comment != null) {
            out.append(" comment \"").append(comment).append('"');
        }
    }

    @Override
    public String kind() {
        return "rule";
    }
}
