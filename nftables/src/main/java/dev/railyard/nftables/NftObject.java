package dev.railyard.nftables;

/**
 * Something a transaction can add, flush or delete inside one table. Objects are immutable values that checked
 * their names when built ({@link NftNames}); they know how nft spells each operation on them.
 */
public sealed interface NftObject permits Table, Chain, Rule, NftSet, NftMap, Element {
    /**
     * Appends the nft command for {@code verb} on this object in table {@code family table}, without a newline,
     * exactly as knftables writes it (so that kube-proxy's expectations compare as text).
     *
     * @throws IllegalArgumentException if nft has no such command for this kind of object
     */
    void writeOperation(Verb verb, Family family, String table, StringBuilder out);

    /** "chain", "rule", ... as nft names the kind. */
    String kind();
}
