package dev.railyard.nftables;

/** An nftables table family, spelled as nft spells it. */
public enum Family {
    IP("ip"),
    IP6("ip6"),
    INET("inet");

    private final String keyword;

    Family(String keyword) {
        this.keyword = keyword;
    }

    /** "ip", "ip6" or "inet". */
    public String keyword() {
        return keyword;
    }

    /** The family nft calls {@code keyword}; IllegalArgumentException for any other word. */
    public static Family of(String keyword) {
        for (Family family : values()) {
            if (family.keyword.equals(keyword)) {
                return family;
            }
        }
        throw new IllegalArgumentException("unknown nftables family \"" + keyword + "\"");
    }

    @Override
    public String toString() {
        return keyword;
    }
}
