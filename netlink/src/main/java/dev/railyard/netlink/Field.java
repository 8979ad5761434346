package dev.railyard.netlink;

/**
 * A packet field a rule can load into registers: payload at a fixed offset from a header, or a meta key. Knows
 * its nft data type (for set keys) and how nft describes it in a {@code typeof} set declaration.
 */
public record Field(String nftName, DataType type, boolean meta, int base, int offset, int length,
                    Integer typeofDescriptor, int typeofField) {

    // Payload descriptor and field ids as nft numbers them in typeof user data (proto_desc_id, *_hdr_fields).
    private static final int DESC_UDP = 6;
    private static final int DESC_TCP = 8;
    private static final int DESC_SCTP = 10;
    private static final int DESC_TH = 11;
    private static final int DESC_IP = 12;
    private static final int DESC_IP6 = 13;

    public static final Field IP_SADDR = payload("ip saddr", DataType.IPV4_ADDR, Expr.PAYLOAD_NETWORK, 12, 4, DESC_IP, 11);
    public static final Field IP_DADDR = payload("ip daddr", DataType.IPV4_ADDR, Expr.PAYLOAD_NETWORK, 16, 4, DESC_IP, 12);
    public static final Field IP6_SADDR = payload("ip6 saddr", DataType.IPV6_ADDR, Expr.PAYLOAD_NETWORK, 8, 16, DESC_IP6, 8);
    public static final Field IP6_DADDR = payload("ip6 daddr", DataType.IPV6_ADDR, Expr.PAYLOAD_NETWORK, 24, 16, DESC_IP6, 9);
    /** Source port of whatever transport header follows (tcp, udp, sctp: all at offset 0). */
    public static final Field TH_SPORT = payload("th sport", DataType.INET_SERVICE, Expr.PAYLOAD_TRANSPORT, 0, 2, DESC_TH, 1);
    /** Destination port of whatever transport header follows (tcp, udp, sctp: all at offset 2). */
    public static final Field TH_DPORT = payload("th dport", DataType.INET_SERVICE, Expr.PAYLOAD_TRANSPORT, 2, 2, DESC_TH, 2);
    public static final Field TCP_DPORT = payload("tcp dport", DataType.INET_SERVICE, Expr.PAYLOAD_TRANSPORT, 2, 2, DESC_TCP, 2);
    public static final Field UDP_DPORT = payload("udp dport", DataType.INET_SERVICE, Expr.PAYLOAD_TRANSPORT, 2, 2, DESC_UDP, 2);
    public static final Field SCTP_DPORT = payload("sctp dport", DataType.INET_SERVICE, Expr.PAYLOAD_TRANSPORT, 2, 2, DESC_SCTP, 2);
    public static final Field META_L4PROTO = new Field("meta l4proto", DataType.INET_PROTO, true, 0, Expr.META_L4PROTO, 1, null, -1);
    public static final Field META_MARK = new Field("meta mark", DataType.MARK, true, 0, Expr.META_MARK, 4, null, -1);

    private static Field payload(String name, DataType type, int base, int offset, int length, int desc, int field) {
        return new Field(name, type, false, base, offset, length, desc, field);
    }

    /** The expression loading this field into {@code dreg}. */
    public Expr load(int dreg) {
        return meta ? new Expr.Meta(offset, dreg) : new Expr.Payload(base, offset, length, dreg);
    }

    /** A value of this field as nft would write it (addresses, ports, protocol numbers), else hex. */
    public String format(byte[] value) {
        return DataTypes.format(type, value);
    }

    /** The source address field of a family. */
    public static Field saddr(Family family) {
        return family == Family.IP6 ? IP6_SADDR : IP_SADDR;
    }

    public static Field daddr(Family family) {
        return family == Family.IP6 ? IP6_DADDR : IP_DADDR;
    }

    @Override
    public String toString() {
        return nftName;
    }
}
