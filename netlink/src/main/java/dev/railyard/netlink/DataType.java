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

    /**
     * The type the kernel reports for a set key or map data (NFTA_SET_KEY_TYPE / _LEN): one of the constants
     * above when id and length match one, a concatenation when the id holds several 6-bit type ids and the
     * lengths add up, else a type of that id and length that only {@link #name()} describes ({@code integer}
     * of another length, a type this module does not name).
     */
    public static DataType fromKernel(int id, int length) {
        for (DataType known : KNOWN) {
            if (known.id == id && known.length == length) {
                return known;
            }
        }
        if (id >>> TYPE_BITS != 0) {
            java.util.ArrayList<DataType> fields = new java.util.ArrayList<>();
            int rest = id;
            while (rest != 0) {
                fields.add(0, single(rest & ((1 << TYPE_BITS) - 1)));
                rest >>>= TYPE_BITS;
            }
            int total = 0;
            for (DataType field : fields) {
                total += field == null ? Integer.MAX_VALUE / 8 : Registers.slotBytes(field.length);
            }
            if (total == length && fields.size() * TYPE_BITS <= 32) {
                return concat(fields.toArray(DataType[]::new));
            }
        }
        String name = id == INTEGER.id ? "integer" : "type " + id;
        return new DataType(name, id, length, id == INTEGER.id ? NfConst.BYTEORDER_HOST : NfConst.BYTEORDER_INVALID,
                List.of());
    }

    private static final List<DataType> KNOWN = List.of(INTEGER, IPV4_ADDR, IPV6_ADDR, ETHER_ADDR, INET_PROTO,
            INET_SERVICE, MARK);

    /** A known fixed-length type by id (integer taken as 4 bytes), or null. */
    private static DataType single(int id) {
        for (DataType known : KNOWN) {
            if (known.id == id) {
                return known;
            }
        }
        return null;
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
