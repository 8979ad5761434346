package dev.railyard.nftables;

import java.util.List;

/**
 * A named map, {@code type} being nft's "key : value" type expression
 * ({@code ipv4_addr . inet_proto . inet_service : verdict}) or, with {@code typeOf}, the expressions whose types
 * the key and value take ({@code numgen random mod 1 : ip daddr . th dport}, for keys nft has no type name for).
 *
 * @param flags   e.g. "interval"
 * @param comment null for none
 */
public record NftMap(String name, String type, boolean typeOf, List<String> flags, String comment)
        implements NftObject {
    public NftMap {
        NftNames.requireIdentifier(name, "map name");
        NftNames.requireStatementText(type, "map type");
        if (!type.contains(" : ")) {
            throw new IllegalArgumentException("map " + name + ": type \"" + type + "\" has no \" : \" between "
                    + "key and value");
        }
        flags = ContainerProperties.requireFlags(flags);
        NftNames.requireComment(comment);
    }

    public static NftMap of(String name, String type, String comment) {
        return new NftMap(name, type, false, List.of(), comment);
    }

    /** A map typed by expressions: {@code typeof KEY-EXPRESSION : VALUE-EXPRESSION}. */
    public static NftMap typeOf(String name, String expressions, String comment) {
        return new NftMap(name, expressions, true, List.of(), comment);
    }

    /** The map called {@code name}, for flush and delete, which name it only (its type is a placeholder). */
    public static NftMap named(String name) {
        return new NftMap(name, "- : -", false, List.of(), null);
    }

    /** Whether the values are verdicts (a vmap), which may name chains. */
    public boolean isVerdictMap() {
        return type.endsWith(": verdict");
    }

    @Override
    public void writeOperation(Verb verb, Family family, String table, StringBuilder out) {
        ContainerProperties.write(verb, "map", family, table, name, typeOf ? "typeof" : "type", type, flags, 0, 0,
                comment, out);
    }

    @Override
    public String kind() {
        return "map";
    }
}
