package dev.railyard.nftables;

import java.util.List;

/** What sets and maps write alike: knftables' "{ type T ; flags a,b ; timeout Ns ; size N ; comment "c" ; }". */
final class ContainerProperties {
    private ContainerProperties() {
    }

    static List<String> requireFlags(List<String> flags) {
        for (String flag : flags) {
            NftNames.requireIdentifier(flag, "flag");
        }
        return List.copyOf(flags);
    }

    /** @param typeKeyword "type" or "typeof" */
    static void write(Verb verb, String kind, Family family, String table, String name, String typeKeyword,
                      String type, List<String> flags, long timeoutSeconds, int size, String comment,
                      StringBuilder out) {
        if (verb == Verb.INSERT) {
            throw new IllegalArgumentException("nft cannot insert a " + kind);
        }
        out.append(verb.keyword()).append(' ').append(kind).append(' ').append(family.keyword()).append(' ')
                .append(table).append(' ').append(name);
        if (verb != Verb.ADD && verb != Verb.CREATE) {
            return;
        }
        out.append(" { ").append(typeKeyword).append(' ').append(type).append(" ;");
        if (!flags.isEmpty()) {
            out.append(" flags ").append(String.join(",", flags)).append(" ;");
        }
        if (timeoutSeconds > 0) {
            out.append(" timeout ").append(timeoutSeconds).append("s ;");
        }
        if (size > 0) {
            out.append(" size ").append(size).append(" ;");
        }
        if (comment != null) {
            out.append(" comment \"").append(comment).append("\" ;");
        }
        out.append(" }");
    }
}
