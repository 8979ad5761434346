package dev.railyard.netlink;

/** nf_tables address families (NFPROTO_*), with the keyword nft uses. */
public enum Family {
    INET(1, "inet"),
    IP(2, "ip"),
    ARP(3, "arp"),
    NETDEV(5, "netdev"),
    BRIDGE(7, "bridge"),
    IP6(10, "ip6");

    private final int code;
    private final String keyword;

    Family(int code, String keyword) {
        this.code = code;
        this.keyword = keyword;
    }

    public int code() {
        return code;
    }

    public String keyword() {
        return keyword;
    }

    static Family fromCode(int code) {
        for (Family family : values()) {
            if (family.code == code) {
                return family;
            }
        }
        throw new IllegalArgumentException("unknown nf_tables family " + code);
    }
}
