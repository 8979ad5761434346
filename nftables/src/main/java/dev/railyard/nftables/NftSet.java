package dev.railyard.nftables;

import java.util.List;

/**
 * A named set. {@code type} is nft's type expression ({@code ipv4_addr}, {@code ipv4_addr . inet_service}) or,
 * with {@code typeOf}, the expressions whose types the key takes ({@code ip saddr . numgen random mod 1}).
 *
 * @param flags          e.g. "dynamic", "timeout", "interval"; written comma-separated in this order
 * @param timeoutSeconds the default element timeout; 0 for none
 * @param size           the most elements the set may hold; 0 to leave it to nft (65535 for a dynamic set)
 * @param comment        null for none
 */
public record NftSet(String name, String type, boolean typeOf, List<String> flags, long timeoutSeconds, int size,
                     String comment) implements NftObject {
    public NftSet {
        NftNames.requireIdentifier(name, "set name");
        NftNames.requireStatementText(type, "set type");
        flags = ContainerProperties.requireFlags(flags);
        if (timeoutSeconds < 0) {
            throw new IllegalArgumentException("set " + name + ": negative timeout " + timeoutSeconds);
        }
        if (size < 0) {
            throw new IllegalArgumentException("set " + name + ": negative size " + size);
        }
        NftNames.requireComment(comment);
    }

    public NftSet(String name, String type, List<String> flags, long timeoutSeconds, String comment) {
        this(name, type, false, flags, timeoutSeconds, 0, comment);
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
        ContainerProperties.write(verb, "set", family, table, name, typeOf ? "typeof" : "type", type, flags,
                timeoutSeconds, size, comment, out);
    }

    @Override
    public String kind() {
        return "set";
    }
}
