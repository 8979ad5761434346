package dev.railyard.nftables;

import java.util.List;

/**
 * One element of a set ({@code value} empty) or a map. Keys and values are nft tokens, one per field of a
 * concatenated type ({@code ["10.0.0.1", "tcp", "80"]}), the value of a verdict map being one token such as
 * {@code goto service-X}. Elements are deleted by key: an element to delete needs no value, and a map element
 * without one can only be deleted.
 *
 * @param container the set or map
 * @param comment   null for none
 */
public record Element(String container, boolean inMap, List<String> key, List<String> value, String comment)
        implements NftObject {
    public Element {
        NftNames.requireIdentifier(container, inMap ? "map name" : "set name");
        key = requireTokens(key, "element key of " + container);
        value = List.copyOf(value);
        if (!inMap && !value.isEmpty()) {
            throw new IllegalArgumentException("an element of set " + container + " cannot have a value");
        }
        for (String token : value) {
            requireToken(token, "element value of " + container);
        }
        NftNames.requireComment(comment);
    }

    public static Element ofSet(String set, List<String> key) {
        return new Element(set, false, key, List.of(), null);
    }

    public static Element ofMap(String map, List<String> key, String value, String comment) {
        return new Element(map, true, key, List.of(value), comment);
    }

    /** The element of {@code container} (a set or a map) with this key, to be deleted. */
    public static Element keyOf(String container, List<String> key) {
        return new Element(container, false, key, List.of(), null);
    }

    /** The key as nft writes it: fields joined by " . ". */
    public String keyText() {
        return String.join(" . ", key);
    }

    /** The value as nft writes it; empty for a set element. */
    public String valueText() {
        return String.join(" . ", value);
    }

    /** The chain a verdict value jumps or goes to, or null. */
    public String verdictChain() {
        return value.size() == 1 ? Verdicts.chainOf(value.get(0)) : null;
    }

    @Override
    public void writeOperation(Verb verb, Family family, String table, StringBuilder out) {
        if (verb != Verb.ADD && verb != Verb.CREATE && verb != Verb.DELETE) {
            throw new IllegalArgumentException("nft cannot " + verb + " an element");
        }
        if (verb != Verb.DELETE && inMap && value.isEmpty()) {
            throw new IllegalArgumentException("an element added to map " + container + " needs a value");
        }
        out.append(verb.keyword()).append(" element ").append(family.keyword()).append(' ').append(table)
                .append(' ').append(container).append(" { ").append(keyText());
        if (verb != Verb.DELETE) {
            if (comment != null) {
                out.append(" comment \"").append(comment).append('"');
            }
            if (inMap) {
                out.append(" : ").append(valueText());
            }
        }
        out.append(" }");
    }

    @Override
    public String kind() {
        return "element";
    }

    private static List<String> requireTokens(List<String> tokens, String what) {
        if (tokens.isEmpty()) {
            throw new IllegalArgumentException(what + " is empty");
        }
        for (String token : tokens) {
            requireToken(token, what);
        }
        return List.copyOf(tokens);
    }

    private static void requireToken(String token, String what) {
        NftNames.requireStatementText(token, what);
        if (token.indexOf('{') >= 0 || token.indexOf('}') >= 0 || token.indexOf(',') >= 0
                || token.contains(" . ") || token.contains(" : ")) {
            throw new IllegalArgumentException(what + " \"" + token + "\" would not stay one field");
        }
    }
}
