package dev.railyard.netlink;

import java.util.List;

/**
 * The expression a set was declared with ({@code typeof numgen random mod 1 : ip daddr . tcp dport}), which nft
 * stores in the set's user data to print it back and to type-check rules against it. Only nft reads it; the
 * kernel uses the key and data types and lengths.
 */
public sealed interface TypeOf {

    /** nft's expression type ids (enum expr_types) for the typeof records. */
    int EXPR_PAYLOAD = 7;
    int EXPR_CONCAT = 13;
    int EXPR_NUMGEN = 23;

    /** The key or data type this expression gives the set. */
    DataType dataType();

    void encode(Udata out);

    static TypeOf numgenRandom(int modulus) {
        return new Numgen(modulus);
    }

    static TypeOf field(Field field) {
        if (field.typeofDescriptor() == null || field.typeofField() < 0) {
            throw new IllegalArgumentException("typeof is not supported for " + field);
        }
        return new PayloadField(field);
    }

    static TypeOf concat(TypeOf... members) {
        return new Concat(List.of(members));
    }

    record Numgen(int modulus) implements TypeOf {
        public DataType dataType() {
            return DataType.INTEGER;
        }

        public void encode(Udata out) {
            out.u32(0, EXPR_NUMGEN);
            out.nested(1, new Udata().u32(0, NfConst.NFT_NG_RANDOM).u32(1, modulus).u32(2, 0));
        }
    }

    record PayloadField(Field field) implements TypeOf {
        public DataType dataType() {
            return field.type();
        }

        public void encode(Udata out) {
            out.u32(0, EXPR_PAYLOAD);
            out.nested(1, new Udata().u32(0, field.typeofDescriptor()).u32(1, field.typeofField()));
        }
    }

    record Concat(List<TypeOf> members) implements TypeOf {
        public Concat {
            members = List.copyOf(members);
            if (members.size() < 2) {
                throw new IllegalArgumentException("a typeof concatenation needs at least two members");
            }
        }

        public DataType dataType() {
            return DataType.concat(members.stream().map(TypeOf::dataType).toArray(DataType[]::new));
        }

        public void encode(Udata out) {
            out.u32(0, EXPR_CONCAT);
            Udata list = new Udata();
            for (int i = 0; i < members.size(); i++) {
                Udata member = new Udata();
                members.get(i).encode(member);
                list.nested(i, member);
            }
            out.nested(1, list);
        }
    }
}
