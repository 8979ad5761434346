package dev.railyard.nftables;

import java.util.List;

/**
 * A named set. {@code type} is nft's type expression ({@code ipv4_addr}, {@code ipv4_addr . inet_service}).
 *
 * @param flags          e.g. "dynamic", "timeout", "interval"; written comma-separated in this order
 * @param timeoutSeconds the default element timeout; 0 for none
 * @param comment        null for none
 */
public record NftSet(String name, String type, List<String> flags, long timeoutSeconds, String comment)
        implements NftObject {
    public NftSet {
        NftNames.requireIdentifier(name, "set name");
        NftNames.requireStatementText(type, "set type");
        flags = ContainerProperties.requireFlags(flags);
        if (timeoutSeconds < 0) {
            throw new IllegalArgumentException("set " + name + ": negative timeout " + timeoutSeconds);
        }
        NftNames.requireComment(comment);
    }

    public static NftSet of(String name, String type, String comment) {
        return new NftSet(name, type, List.of(), 0, comment);
    }

    /** The set called {@code name}, for flush and delete, which name it only (its type is a placeholder). */
    public static NftSet named(String name) {
        return new NftSet(name, "-", List.of(), 0, null);
    }

    @Override
    public void writeOperation(Verb verb, Family family, String table, StringBuilder out) {
        ContainerProperties.write(verb, "set", family, table, name, "type", type, flags, timeoutSeconds, comment,
                out);
    }

    @Override
    public String kind() {
        return "set";
    }
}
