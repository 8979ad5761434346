package dev.railyard.nftables;

/**
 * The table a transaction works on. Its family and name belong to the transaction, which works on one table,
 * as a knftables Interface does; only its comment is its own.
 *
 * @param comment null for none
 */
public record Table(String comment) implements NftObject {
    public Table {
        NftNames.requireComment(comment);
    }

    @Override
    public void writeOperation(Verb verb, Family family, String table, StringBuilder out) {
        if (verb == Verb.INSERT) {
            throw new IllegalArgumentException("nft cannot insert a table");
        }
        out.append(verb.keyword()).append(" table ").append(family.keyword()).append(' ').append(table);
        if ((verb == Verb.ADD || verb == Verb.CREATE) && comment != null) {
            out.append(" { comment \"").append(comment).append("\" ; }");
        }
    }

    @Override
    public String kind() {
        return "table";
    }
}
