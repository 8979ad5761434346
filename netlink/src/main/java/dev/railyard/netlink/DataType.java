package dev.railyard.netlink;

import java.util.List;

/**
 * An nft data type as nft records it in a set: its type id (nft's {@code enum datatypes}), its length in bytes
 * and its byte order. Concatenations ({@link #concat}) combine ids six bits at a time and pad every field to 4
 * bytes, exactly as nft does, so that {@code nft list} prints {@code ipv4_addr . inet_proto . inet_service}.
 */
public record DataType(String name, int id, int length, int byteOrder, List<DataType> parts) {

    private static final int TYPE_BITS = 6;

    public static final DataType INTEGER = simple("integer", 4, 4, NfConst.BYTEORDER_HOST);
    public static final DataType IPV4_ADDR = simple("ipv4_addr", 7, 4, NfConst.BYTEORDER_BIG);
    public static final DataType IPV6_ADDR = simple("ipv6_addr", 8, 16, NfConst.BYTEORDER_BIG);
    public static final DataType ETHER_ADDR = simple("ether_addr", 9, 6, NfConst.BYTEORDER_BIG);
    public static final DataType INET_PROTO = simple("inet_proto", 12, 1, NfConst.BYTEORDER_BIG);
    public static final DataType INET_SERVICE = simple("inet_service", 13, 2, NfConst.BYTEORDER_BIG);
    public static final DataType MARK = simple("mark", 19, 4, NfConst.BYTEORDER_HOST);
    /** Map data only: the data of a verdict map. */
    public static final DataType VERDICT = new DataType("verdict", NfConst.NFT_DATA_VERDICT, 0, NfConst.BYTEORDER_INVALID, List.of());

    public DataType {
        parts = List.copyOf(parts);
    }

    private static DataType simple(String name, int id, int length, int byteOrder) {
        return new DataType(name, id, length, byteOrder, List.of());
    }

    /** {@code a . b . c}: ids shifted together, each field padded to a 4-byte register slot. */
    public static DataType concat(DataType... fields) {
        if (fields.length == 1) {
            return fields[0];
        }
        if (fields.length == 0) {
            throw new IllegalArgumentException("a concatenation needs at least one field");
        }
        int id = 0;
        int length = 0;
        StringBuilder name = new StringBuilder();
        for (DataType field : fields) {
            if (field.isConcat() || field == VERDICT) {
                throw new IllegalArgumentException("cannot concatenate " + field.name);
            }
            id = (id << TYPE_BITS) | field.id;
            length += Registers.slotBytes(field.length);
            name.append(name.length() == 0 ? "" : " . ").append(field.name);
        }
        if (fields.length * TYPE_BITS > 32 || length > 64) {
            throw new IllegalArgumentException("concatenation too long for nf_tables: " + name);
        }
        return new DataType(name.toString(), id, length, NfConst.BYTEORDER_INVALID, List.of(fields));
    }

    public boolean isConcat() {
        return !parts.isEmpty();
    }

    /** The fields of a concatenation, or this type alone. */
    public List<DataType> fields() {
        return isConcat() ? parts : List.of(this);
    }

    @Override
    public String toString() {
        return name;
    }
}
