package dev.railyard.netlink;

/**
 * A value a rule can load into registers as (part of) a key: payload at a fixed offset from a header, a meta key,
 * or a {@code numgen random} number. Knows its nft data type (for set keys) and how nft describes it in a
 * {@code typeof} set declaration.
 *
 * @param base   payload base; for numgen, the modulus
 * @param offset payload offset or meta key; for numgen, the offset added to the number (unsigned 32-bit)
 */
public record Field(String nftName, DataType type, Source source, int base, int offset, int length,
                    Integer typeofDescriptor, int typeofField) {

    /** Where the value comes from. */
    public enum Source {
        PAYLOAD, META, NUMGEN
    }

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
    public static final Field META_L4PROTO = new Field("meta l4proto", DataType.INET_PROTO, Source.META, 0, Expr.META_L4PROTO, 1, null, -1);
    public static final Field META_MARK = new Field("meta mark", DataType.MARK, Source.META, 0, Expr.META_MARK, 4, null, -1);

    private static Field payload(String name, DataType type, int base, int offset, int length, int desc, int field) {
        return new Field(name, type, Source.PAYLOAD, base, offset, length, desc, field);
    }

    /**
     * {@code numgen random mod MODULUS offset OFFSET}. With modulus 1 it is always OFFSET: the way to put a
     * constant into a concatenated key, which nft refuses as a literal ({@code ip saddr . numgen random mod 1
     * offset 7 @set}) but accepts, and lists back, in this form.
     *
     * @param offset unsigned 32-bit
     */
    public static Field numgenRandom(int modulus, int offset) {
        if (modulus <= 0) {
            throw new IllegalArgumentException("numgen modulus must be positive, got " + modulus);
        }
        String name = "numgen random mod " + modulus + (offset == 0 ? "" : " offset " + Integer.toUnsignedString(offset));
        return new Field(name, DataType.INTEGER, Source.NUMGEN, modulus, offset, 4, null, -1);
    }

    /** The expression loading this field into {@code dreg}. */
    public Expr load(int dreg) {
        return switch (source) {
            case META -> new Expr.Meta(offset, dreg);
            case PAYLOAD -> new Expr.Payload(base, offset, length, dreg);
            case NUMGEN -> new Expr.Numgen(dreg, base, true, offset);
        };
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
