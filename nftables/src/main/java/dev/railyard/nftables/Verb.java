package dev.railyard.nftables;

/** What a transaction does to an object, as nft's commands name it. */
public enum Verb {
    /** Create the object, or leave it as it is if it exists (rules: append). */
    ADD("add"),
    /** Create the object; fail if it exists. */
    CREATE("create"),
    /** Rules only: prepend. */
    INSERT("insert"),
    /** Remove every rule of a chain, or every element of a set or map; the object itself stays. */
    FLUSH("flush"),
    /** Remove the object; fail if it does not exist (or, for chains and sets, is still referenced). */
    DELETE("delete");

    private final String keyword;

    Verb(String keyword) {
        this.keyword = keyword;
    }

    public String keyword() {
        return keyword;
    }

    @Override
    public String toString() {
        return keyword;
    }
}
