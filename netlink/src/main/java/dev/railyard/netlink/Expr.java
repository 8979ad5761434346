package dev.railyard.netlink;

import static dev.railyard.netlink.NfConst.*;

import java.util.Arrays;
import java.util.Objects;

/**
 * One nf_tables expression with explicit registers, encoded as libnftnl encodes it. {@link Rule.Builder} puts
 * these together the way nft compiles its statements; they can also be used directly for anything it lacks.
 */
public sealed interface Expr {

    /** The kernel's expression name (NFTA_EXPR_NAME). */
    String name();

    /** Writes the attributes inside NFTA_EXPR_DATA. */
    void encode(MessageWriter w, SetResolver sets);

    /** Resolves a set reference to the kernel name and, for sets added in the same batch, the batch's set id. */
    interface SetResolver {
        String name(SetRef set);

        /** The NFTA_SET_ID of a set created earlier in the same batch, or 0. */
        int id(SetRef set);
    }

    int PAYLOAD_LINK = 0;
    int PAYLOAD_NETWORK = 1;
    int PAYLOAD_TRANSPORT = 2;

    int META_MARK = 3;
    int META_NFPROTO = 15;
    int META_L4PROTO = 16;

    int CT_STATE = 0;
    int CT_STATUS = 2;
    /** ct status bits (IPS_*), host order: the connection was source- or destination-NATed. */
    int CT_STATUS_SNAT = 0x10;
    int CT_STATUS_DNAT = 0x20;
    /** ct state bits (NF_CT_STATE_*): ct load state yields these in host order. */
    int CT_STATE_INVALID = 1;
    int CT_STATE_ESTABLISHED = 2;
    int CT_STATE_RELATED = 4;
    int CT_STATE_NEW = 8;
    int CT_STATE_UNTRACKED = 64;

    int FIB_F_SADDR = 1;
    int FIB_F_DADDR = 2;
    int FIB_F_MARK = 4;
    int FIB_F_IIF = 8;
    int FIB_F_OIF = 16;
    int FIB_RESULT_OIF = 1;
    int FIB_RESULT_OIFNAME = 2;
    int FIB_RESULT_ADDRTYPE = 3;
    /** rtnetlink route types (RTN_*) that {@code fib ... type} compares against. */
    int RTN_UNICAST = 1;
    int RTN_LOCAL = 2;
    int RTN_BROADCAST = 3;
    int RTN_ANYCAST = 4;
    int RTN_MULTICAST = 5;

    int DYNSET_OP_ADD = 0;
    int DYNSET_OP_UPDATE = 1;

    int REJECT_ICMP_UNREACH = 0;
    int REJECT_TCP_RST = 1;
    int REJECT_ICMPX_UNREACH = 2;

    /** Comparison operators (enum nft_cmp_ops). */
    enum CmpOp {
        EQ(0), NEQ(1), LT(2), LTE(3), GT(4), GTE(5);

        final int code;

        CmpOp(int code) {
            this.code = code;
        }
    }

    record Payload(int base, int offset, int length, int dreg) implements Expr {
        public String name() {
            return "payload";
        }

        public void encode(MessageWriter w, SetResolver sets) {
            w.attrU32BigEndian(NFTA_PAYLOAD_DREG, dreg);
            w.attrU32BigEndian(NFTA_PAYLOAD_BASE, base);
            w.attrU32BigEndian(NFTA_PAYLOAD_OFFSET, offset);
            w.attrU32BigEndian(NFTA_PAYLOAD_LEN, length);
        }
    }

    record Meta(int key, int dreg) implements Expr {
        public String name() {
            return "meta";
        }

        public void encode(MessageWriter w, SetResolver sets) {
            w.attrU32BigEndian(NFTA_META_KEY, key);
            w.attrU32BigEndian(NFTA_META_DREG, dreg);
        }
    }

    record MetaSet(int key, int sreg) implements Expr {
        public String name() {
            return "meta";
        }

        public void encode(MessageWriter w, SetResolver sets) {
            w.attrU32BigEndian(NFTA_META_KEY, key);
            w.attrU32BigEndian(NFTA_META_SREG, sreg);
        }
    }

    record Cmp(int sreg, CmpOp op, byte[] data) implements Expr {
        public Cmp {
            data = data.clone();
        }

        public String name() {
            return "cmp";
        }

        public void encode(MessageWriter w, SetResolver sets) {
            w.attrU32BigEndian(NFTA_CMP_SREG, sreg);
            w.attrU32BigEndian(NFTA_CMP_OP, op.code);
            int nest = w.beginNested(NFTA_CMP_DATA);
            w.attrBytes(NFTA_DATA_VALUE, data);
            w.endNested(nest);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Cmp c && c.sreg == sreg && c.op == op && Arrays.equals(c.data, data);
        }

        @Override
        public int hashCode() {
            return Objects.hash(sreg, op, Arrays.hashCode(data));
        }
    }

    /** {@code dreg = (sreg & mask) ^ xor} over mask.length bytes. */
    record Bitwise(int sreg, int dreg, byte[] mask, byte[] xor) implements Expr {
        public Bitwise {
            if (mask.length != xor.length) {
                throw new IllegalArgumentException("bitwise mask and xor differ in length");
            }
            mask = mask.clone();
            xor = xor.clone();
        }

        public String name() {
            return "bitwise";
        }

        public void encode(MessageWriter w, SetResolver sets) {
            w.attrU32BigEndian(NFTA_BITWISE_SREG, sreg);
            w.attrU32BigEndian(NFTA_BITWISE_DREG, dreg);
            w.attrU32BigEndian(NFTA_BITWISE_LEN, mask.length);
            int m = w.beginNested(NFTA_BITWISE_MASK);
            w.attrBytes(NFTA_DATA_VALUE, mask);
            w.endNested(m);
            int x = w.beginNested(NFTA_BITWISE_XOR);
            w.attrBytes(NFTA_DATA_VALUE, xor);
            w.endNested(x);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Bitwise b && b.sreg == sreg && b.dreg == dreg && Arrays.equals(b.mask, mask)
                    && Arrays.equals(b.xor, xor);
        }

        @Override
        public int hashCode() {
            return Objects.hash(sreg, dreg, Arrays.hashCode(mask), Arrays.hashCode(xor));
        }
    }

    /** Set membership ({@code dreg < 0}) or map lookup into {@code dreg} (0 = the verdict register: a vmap). */
    record Lookup(SetRef set, int sreg, int dreg, boolean invert) implements Expr {
        public Lookup {
            Objects.requireNonNull(set, "set");
            if (invert && dreg >= 0) {
                throw new IllegalArgumentException("an inverted lookup cannot have a destination register");
            }
        }

        public String name() {
            return "lookup";
        }

        public void encode(MessageWriter w, SetResolver sets) {
            w.attrString(NFTA_LOOKUP_SET, sets.name(set));
            w.attrU32BigEndian(NFTA_LOOKUP_SREG, sreg);
            if (dreg >= 0) {
                w.attrU32BigEndian(NFTA_LOOKUP_DREG, dreg);
            }
            int id = sets.id(set);
            if (id != 0) {
                w.attrU32BigEndian(NFTA_LOOKUP_SET_ID, id);
            }
            if (invert) {
                w.attrU32BigEndian(NFTA_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
            }
        }
    }

    /** Loads a constant into a register, or (with a verdict) sets the rule's verdict. */
    record Immediate(int dreg, byte[] data, Verdict verdict) implements Expr {
        public Immediate {
            if ((data == null) == (verdict == null)) {
                throw new IllegalArgumentException("an immediate holds either data or a verdict");
            }
            data = data == null ? null : data.clone();
        }

        public static Immediate verdict(Verdict verdict) {
            return new Immediate(NFT_REG_VERDICT, null, verdict);
        }

        public static Immediate value(int dreg, byte[] data) {
            return new Immediate(dreg, data, null);
        }

        public String name() {
            return "immediate";
        }

        public void encode(MessageWriter w, SetResolver sets) {
            w.attrU32BigEndian(NFTA_IMMEDIATE_DREG, dreg);
            int nest = w.beginNested(NFTA_IMMEDIATE_DATA);
            if (verdict != null) {
                verdict.encode(w);
            } else {
                w.attrBytes(NFTA_DATA_VALUE, data);
            }
            w.endNested(nest);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Immediate i && i.dreg == dreg && Arrays.equals(i.data, data) && Objects.equals(i.verdict, verdict);
        }

        @Override
        public int hashCode() {
            return Objects.hash(dreg, Arrays.hashCode(data), verdict);
        }
    }

    /** {@code numgen random mod N [offset O]} (random) or {@code numgen inc ...} into {@code dreg}, host order. */
    record Numgen(int dreg, int modulus, boolean random, int offset) implements Expr {
        public Numgen {
            if (modulus <= 0) {
                throw new IllegalArgumentException("numgen modulus must be positive, got " + modulus);
            }
        }

        public String name() {
            return "numgen";
        }

        public void encode(MessageWriter w, SetResolver sets) {
            w.attrU32BigEndian(NFTA_NG_DREG, dreg);
            w.attrU32BigEndian(NFTA_NG_MODULUS, modulus);
            w.attrU32BigEndian(NFTA_NG_TYPE, random ? NFT_NG_RANDOM : 0);
            w.attrU32BigEndian(NFTA_NG_OFFSET, offset);
        }
    }

    /** snat/dnat taking the address and (optionally, {@code protoReg > 0}) the port from registers. */
    record Nat(boolean destination, Family family, int addrReg, int protoReg, int flags) implements Expr {
        public String name() {
            return "nat";
        }

        public void encode(MessageWriter w, SetResolver sets) {
            w.attrU32BigEndian(NFTA_NAT_TYPE, destination ? NFT_NAT_DNAT : NFT_NAT_SNAT);
            w.attrU32BigEndian(NFTA_NAT_FAMILY, family.code());
            if (addrReg > 0) {
                w.attrU32BigEndian(NFTA_NAT_REG_ADDR_MIN, addrReg);
            }
            if (protoReg > 0) {
                w.attrU32BigEndian(NFTA_NAT_REG_PROTO_MIN, protoReg);
            }
            if (flags != 0) {
                w.attrU32BigEndian(NFTA_NAT_FLAGS, flags);
            }
        }
    }

    record Masquerade(int flags) implements Expr {
        public String name() {
            return "masq";
        }

        public void encode(MessageWriter w, SetResolver sets) {
            if (flags != 0) {
                w.attrU32BigEndian(NFTA_MASQ_FLAGS, flags);
            }
        }
    }

    record Reject(int type, int code) implements Expr {
        public String name() {
            return "reject";
        }

        public void encode(MessageWriter w, SetResolver sets) {
            w.attrU32BigEndian(NFTA_REJECT_TYPE, type);
            w.attrU8(NFTA_REJECT_ICMP_CODE, code);
        }
    }

    record Counter() implements Expr {
        public String name() {
            return "counter";
        }

        public void encode(MessageWriter w, SetResolver sets) {
            // No attributes: the kernel starts the counter at zero.
        }
    }

    record Ct(int key, int dreg) implements Expr {
        public String name() {
            return "ct";
        }

        public void encode(MessageWriter w, SetResolver sets) {
            w.attrU32BigEndian(NFTA_CT_KEY, key);
            w.attrU32BigEndian(NFTA_CT_DREG, dreg);
        }
    }

    record Fib(int flags, int result, int dreg) implements Expr {
        public String name() {
            return "fib";
        }

        public void encode(MessageWriter w, SetResolver sets) {
            w.attrU32BigEndian(NFTA_FIB_FLAGS, flags);
            w.attrU32BigEndian(NFTA_FIB_RESULT, result);
            w.attrU32BigEndian(NFTA_FIB_DREG, dreg);
        }
    }

    /** Adds or updates the key in {@code sregKey} in a set from the packet path ({@code update @set { ... }}). */
    record Dynset(SetRef set, int op, int sregKey, long timeoutMillis) implements Expr {
        public String name() {
            return "dynset";
        }

        public void encode(MessageWriter w, SetResolver sets) {
            w.attrU32BigEndian(NFTA_DYNSET_SREG_KEY, sregKey);
            w.attrU32BigEndian(NFTA_DYNSET_OP, op);
            w.attrString(NFTA_DYNSET_SET_NAME, sets.name(set));
            int id = sets.id(set);
            if (id != 0) {
                w.attrU32BigEndian(NFTA_DYNSET_SET_ID, id);
            }
            if (timeoutMillis > 0) {
                w.attrU64BigEndian(NFTA_DYNSET_TIMEOUT, timeoutMillis);
            }
        }
    }
}
