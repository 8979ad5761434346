package dev.railyard.netlink;

import dev.railyard.netlink.Expr.CmpOp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A rule's expressions, comment and the anonymous sets it binds, plus an nft-like text used to name the rule in
 * errors. Built with {@link #builder()}, whose methods compile the statements of kube-proxy's nftables rules the
 * way nft 1.0 does (same expressions, same registers), so {@code nft list} prints them as written; raw
 * {@link Expr}s can be added with {@link Builder#expr} for anything else.
 *
 * <pre>{@code
 * Rule.builder().match(Field.IP_DADDR, Values.ipv4("172.30.0.41"))
 *     .matchPrefix(Field.IP_SADDR, CmpOp.NEQ, Prefix.parse("10.0.0.0/8"))
 *     .jump("mark-for-masquerade").build();
 * }</pre>
 */
public final class Rule {

    private final List<Expr> expressions;
    private final List<AnonymousSet> anonymousSets;
    private final String comment;
    private final String text;

    private Rule(List<Expr> expressions, String comment, String text) {
        this.expressions = List.copyOf(expressions);
        this.comment = comment;
        this.text = text;
        List<AnonymousSet> sets = List.of();
        for (Expr expr : this.expressions) {
            if (expr instanceof Expr.Lookup lookup && lookup.set().anonymous() != null) {
                Set<AnonymousSet> unique = new LinkedHashSet<>(sets);
                unique.add(lookup.set().anonymous());
                sets = List.copyOf(unique);
            }
        }
        this.anonymousSets = sets;
    }

    public static Builder builder() {
        return new Builder(null);
    }

    /**
     * A builder whose rule is named by {@code description} in errors (e.g. the nft text it was compiled from) and
     * that writes no text of its own, which saves formatting every value of every statement.
     */
    public static Builder builder(String description) {
        return new Builder(java.util.Objects.requireNonNull(description, "description"));
    }

    public List<Expr> expressions() {
        return expressions;
    }

    public String comment() {
        return comment;
    }

    /** The anonymous sets this rule binds, in the order they must be created. */
    public List<AnonymousSet> anonymousSets() {
        return anonymousSets;
    }

    /** nft-like text of the statements, for messages. */
    public String text() {
        return text;
    }

    @Override
    public String toString() {
        return text + (comment == null ? "" : " comment \"" + comment + "\"");
    }

    public static final class Builder {
        private static final int MASK_ALL = 0xffffffff;

        private final List<Expr> expressions = new ArrayList<>();
        private final StringBuilder text = new StringBuilder();
        private String comment;
        private String description;

        private Builder(String description) {
            this.description = description;
            this.describeStatements = description == null;
        }

        /** Whether {@link #say} builds the text; not when a description was given up front. */
        private final boolean describeStatements;

        /** {@code FIELD VALUE} (equality). */
        public Builder match(Field field, byte[] value) {
            return match(field, CmpOp.EQ, value);
        }

        /** {@code FIELD [!=] VALUE}; value in the field's byte layout (see {@link Values}). */
        public Builder match(Field field, CmpOp op, byte[] value) {
            if (value.length != field.length()) {
                throw new IllegalArgumentException(field + " is " + field.length() + " bytes, value is " + value.length);
            }
            expressions.add(field.load(reg(0)));
            expressions.add(new Expr.Cmp(reg(0), op, value));
            return describeStatements ? say(field + op(op) + " " + field.format(value)) : this;
        }

        /**
         * {@code ip saddr [!=] 10.0.0.0/8}: as nft compiles it, a byte-aligned prefix loads only its leading bytes
         * and compares them; any other prefix loads the address, masks it and compares.
         */
        public Builder matchPrefix(Field field, CmpOp op, Prefix prefix) {
            byte[] address = prefix.address();
            if (address.length != field.length() || field.source() != Field.Source.PAYLOAD) {
                throw new IllegalArgumentException("prefix " + prefix + " does not fit " + field);
            }
            if (prefix.length() == 0) {
                throw new IllegalArgumentException("a /0 prefix matches everything; leave the match out");
            }
            if (prefix.length() % 8 == 0) {
                int bytes = prefix.length() / 8;
                expressions.add(new Expr.Payload(field.base(), field.offset(), bytes, reg(0)));
                expressions.add(new Expr.Cmp(reg(0), op, Arrays.copyOf(address, bytes)));
            } else {
                expressions.add(field.load(reg(0)));
                expressions.add(new Expr.Bitwise(reg(0), reg(0), prefix.mask(), new byte[address.length]));
                expressions.add(new Expr.Cmp(reg(0), op, address));
            }
            return describeStatements ? say(field + op(op) + " " + prefix) : this;
        }

        /** {@code FIELD and MASK OP VALUE}, e.g. {@code mark and 0x4000 == 0}. */
        public Builder matchMasked(Field field, byte[] mask, CmpOp op, byte[] value) {
            if (mask.length != field.length() || value.length != field.length()) {
                throw new IllegalArgumentException(field + " is " + field.length() + " bytes; mask and value must match");
            }
            expressions.add(field.load(reg(0)));
            expressions.add(new Expr.Bitwise(reg(0), reg(0), mask, new byte[mask.length]));
            expressions.add(new Expr.Cmp(reg(0), op, value));
            return describeStatements ? say(field + " and " + SetElement.hex(mask) + op(op) + " " + SetElement.hex(value)) : this;
        }

        /** {@code mark and MASK == 0} / {@code != 0} on the packet mark. */
        public Builder markAnd(int mask, CmpOp op, int value) {
            return matchMasked(Field.META_MARK, Values.u32Host(mask), op, Values.u32Host(value));
        }

        /** {@code ct state new} (or any of the {@code Expr.CT_STATE_*} bits). */
        public Builder ctState(int stateBits) {
            expressions.add(new Expr.Ct(Expr.CT_STATE, reg(0)));
            expressions.add(new Expr.Bitwise(reg(0), reg(0), Values.u32Host(stateBits), Values.u32Host(0)));
            expressions.add(new Expr.Cmp(reg(0), CmpOp.NEQ, Values.u32Host(0)));
            return describeStatements ? say("ct state 0x" + Integer.toHexString(stateBits)) : this;
        }

        /** {@code ct status dnat} (or any of the {@code Expr.CT_STATUS_*} bits): any of the bits set. */
        public Builder ctStatus(int statusBits) {
            expressions.add(new Expr.Ct(Expr.CT_STATUS, reg(0)));
            expressions.add(new Expr.Bitwise(reg(0), reg(0), Values.u32Host(statusBits), Values.u32Host(0)));
            expressions.add(new Expr.Cmp(reg(0), CmpOp.NEQ, Values.u32Host(0)));
            return describeStatements ? say("ct status 0x" + Integer.toHexString(statusBits)) : this;
        }

        /** {@code fib saddr type local} ({@code daddr = false}) or {@code fib daddr type local}. */
        public Builder fibAddressType(boolean daddr, int routeType) {
            expressions.add(new Expr.Fib(daddr ? Expr.FIB_F_DADDR : Expr.FIB_F_SADDR, Expr.FIB_RESULT_ADDRTYPE, reg(0)));
            expressions.add(new Expr.Cmp(reg(0), CmpOp.EQ, Values.u32Host(routeType)));
            return describeStatements ? say("fib " + (daddr ? "daddr" : "saddr") + " type " + routeType) : this;
        }

        /** {@code FIELD . FIELD @set}: membership of a (concatenated) key in a named set. */
        public Builder inSet(String set, Field... key) {
            return lookup(SetRef.named(set), false, -1, key);
        }

        /** {@code FIELD . FIELD != @set}. */
        public Builder notInSet(String set, Field... key) {
            return lookup(SetRef.named(set), true, -1, key);
        }

        /** {@code FIELD [!=] { prefix, ... }}: an anonymous interval set bound to this rule. */
        public Builder inPrefixes(Field field, boolean negate, List<Prefix> prefixes) {
            return lookup(SetRef.anonymous(AnonymousSet.ofPrefixes(prefixes)), negate, -1, field);
        }

        /** {@code FIELD . FIELD vmap @map}: a verdict map lookup, the map's verdict becomes the rule's. */
        public Builder verdictMap(String map, Field... key) {
            return lookup(SetRef.named(map), false, Registers.VERDICT, key);
        }

        /** {@code numgen random mod N vmap { 0 : V0 , 1 : V1 ... }} with an anonymous verdict map. */
        public Builder numgenRandomVerdictMap(List<Verdict> verdicts) {
            if (verdicts.isEmpty()) {
                throw new IllegalArgumentException("numgen vmap needs at least one verdict");
            }
            List<SetElement> elements = new ArrayList<>();
            for (int i = 0; i < verdicts.size(); i++) {
                elements.add(SetElement.of(Values.u32Host(i)).mapsTo(verdicts.get(i)));
            }
            AnonymousSet map = AnonymousSet.verdictMap(DataType.INTEGER, elements);
            expressions.add(new Expr.Numgen(reg(0), verdicts.size(), true, 0));
            expressions.add(new Expr.Lookup(SetRef.anonymous(map), reg(0), Registers.VERDICT, false));
            return describeStatements ? say("numgen random mod " + verdicts.size() + " vmap " + verdicts) : this;
        }

        /** {@code mark set mark or BITS}. */
        public Builder markSetOr(int bits) {
            return markSet(~bits, bits, "mark set mark or 0x" + Integer.toHexString(bits));
        }

        /** {@code mark set mark xor BITS}. */
        public Builder markSetXor(int bits) {
            return markSet(MASK_ALL, bits, "mark set mark xor 0x" + Integer.toHexString(bits));
        }

        /** {@code mark set mark and BITS}. */
        public Builder markSetAnd(int bits) {
            return markSet(bits, 0, "mark set mark and 0x" + Integer.toHexString(bits));
        }

        private Builder markSet(int mask, int xor, String what) {
            expressions.add(new Expr.Meta(Expr.META_MARK, reg(0)));
            expressions.add(new Expr.Bitwise(reg(0), reg(0), Values.u32Host(mask), Values.u32Host(xor)));
            expressions.add(new Expr.MetaSet(Expr.META_MARK, reg(0)));
            return say(what);
        }

        public Builder counter() {
            expressions.add(new Expr.Counter());
            return describeStatements ? say("counter") : this;
        }

        /** {@code update @set { FIELD . FIELD }}: refresh (or add) the key with the set's default timeout. */
        public Builder updateSet(String set, Field... key) {
            return updateSet(set, 0, key);
        }

        /**
         * {@code update @set { FIELD . FIELD timeout Ns }}: refresh (or add) the key, to expire {@code timeoutSeconds}
         * after this packet; 0 for the set's default timeout.
         */
        public Builder updateSet(String set, long timeoutSeconds, Field... key) {
            if (timeoutSeconds < 0) {
                throw new IllegalArgumentException("update @" + set + ": negative timeout " + timeoutSeconds);
            }
            int first = loadConcat(key);
            expressions.add(new Expr.Dynset(SetRef.named(set), Expr.DYNSET_OP_UPDATE, first, timeoutSeconds * 1000));
            return describeStatements ? say("update @" + set + " { " + names(key)
                    + (timeoutSeconds > 0 ? " timeout " + timeoutSeconds + "s" : "") + " }") : this;
        }

        /** {@code dnat to ADDRESS[:PORT]} ({@code port < 0}: address only) for the ip or ip6 family. */
        public Builder dnat(Family family, byte[] address, int port) {
            int expected = family == Family.IP6 ? 16 : 4;
            if (address.length != expected) {
                throw new IllegalArgumentException("dnat " + family.keyword() + " needs a " + expected + "-byte address");
            }
            expressions.add(Expr.Immediate.value(reg(0), address));
            if (port >= 0) {
                // nft puts the port in the next 128-bit register (NFT_REG_2).
                expressions.add(Expr.Immediate.value(Registers.forSlot(4), Values.inetService(port)));
                expressions.add(new Expr.Nat(true, family, reg(0), Registers.forSlot(4), NfConst.NF_NAT_RANGE_PROTO_SPECIFIED));
            } else {
                expressions.add(new Expr.Nat(true, family, reg(0), 0, 0));
            }
            String target = DataTypes.format(family == Family.IP6 ? DataType.IPV6_ADDR : DataType.IPV4_ADDR, address);
            return describeStatements ? say("dnat to " + (family == Family.IP6 && port >= 0 ? "[" + target + "]" : target) + (port >= 0 ? ":" + port : "")) : this;
        }

        /**
         * {@code dnat ip addr . port to numgen random mod N map @map}: the map is keyed by the numgen value
         * (declared {@code typeof numgen random mod 1 : ip daddr . th dport}) and holds address . port.
         */
        public Builder dnatNumgenMap(Family family, int modulus, String map) {
            return dnatNumgenMap(family, modulus, 0, map);
        }

        /**
         * {@code dnat ip addr . port to numgen random mod N offset O map @map}: keys O to O+N-1, so that one map
         * holds the endpoints of many services, each in its own range.
         *
         * @param offset unsigned 32-bit
         */
        public Builder dnatNumgenMap(Family family, int modulus, int offset, String map) {
            int addressLength = family == Family.IP6 ? 16 : 4;
            expressions.add(new Expr.Numgen(reg(0), modulus, true, offset));
            expressions.add(new Expr.Lookup(SetRef.named(map), reg(0), reg(0), false));
            expressions.add(new Expr.Nat(true, family, reg(0), Registers.forSlot(Registers.slots(addressLength)), 0));
            return describeStatements ? say("dnat " + family.keyword() + " addr . port to numgen random mod " + modulus
                    + (offset == 0 ? "" : " offset " + Integer.toUnsignedString(offset)) + " map @" + map) : this;
        }

        /** {@code masquerade [fully-random]}. */
        public Builder masquerade(boolean fullyRandom) {
            expressions.add(new Expr.Masquerade(fullyRandom ? NfConst.NF_NAT_RANGE_PROTO_RANDOM_FULLY : 0));
            return describeStatements ? say("masquerade" + (fullyRandom ? " fully-random" : "")) : this;
        }

        /** Plain {@code reject} as nft encodes it: ICMP port unreachable (ip), ICMPv6 port unreachable (ip6). */
        public Builder reject(Family family) {
            switch (family) {
                case IP -> expressions.add(new Expr.Reject(Expr.REJECT_ICMP_UNREACH, 3));
                case IP6 -> expressions.add(new Expr.Reject(Expr.REJECT_ICMP_UNREACH, 4));
                default -> expressions.add(new Expr.Reject(Expr.REJECT_ICMPX_UNREACH, 1));
            }
            return describeStatements ? say("reject") : this;
        }

        public Builder accept() {
            return verdict(Verdict.ACCEPT);
        }

        public Builder drop() {
            return verdict(Verdict.DROP);
        }

        public Builder returnFromChain() {
            return verdict(Verdict.RETURN);
        }

        public Builder jump(String chain) {
            return verdict(Verdict.jump(chain));
        }

        public Builder goTo(String chain) {
            return verdict(Verdict.goTo(chain));
        }

        public Builder verdict(Verdict verdict) {
            expressions.add(Expr.Immediate.verdict(verdict));
            return describeStatements ? say(verdict.toString()) : this;
        }

        /** Any expression, with the caller's registers. */
        public Builder expr(Expr expression) {
            expressions.add(expression);
            return describeStatements ? say("[" + expression.name() + "]") : this;
        }

        /** {@code comment "..."}, stored as nft stores it (rule user data), at most 127 bytes. */
        public Builder comment(String text) {
            this.comment = Names.checkComment(text, "rule");
            return this;
        }

        /** Replaces the generated text that names this rule in errors (e.g. with the nft statement it came from). */
        public Builder describedAs(String text) {
            this.description = text;
            return this;
        }

        public Rule build() {
            if (expressions.isEmpty()) {
                throw new IllegalArgumentException("a rule needs at least one statement");
            }
            return new Rule(expressions, comment, description != null ? description : text.toString());
        }

        private Builder lookup(SetRef set, boolean invert, int dreg, Field... key) {
            if (key.length == 0) {
                throw new IllegalArgumentException("a lookup needs at least one key field");
            }
            int first = loadConcat(key);
            expressions.add(new Expr.Lookup(set, first, dreg, invert));
            return describeStatements ? say(names(key) + (invert ? " != " : " ") + (dreg == Registers.VERDICT ? "vmap " : "") + set) : this;
        }

        /** Loads fields into consecutive 32-bit slots from slot 0, as nft does for a concatenation. */
        private int loadConcat(Field... key) {
            int slot = 0;
            for (Field field : key) {
                expressions.add(field.load(Registers.forSlot(slot)));
                slot += Registers.slots(field.length());
            }
            return reg(0);
        }

        private static int reg(int slot) {
            return Registers.forSlot(slot);
        }

        private static String op(CmpOp op) {
            return switch (op) {
                case EQ -> "";
                case NEQ -> " !=";
                case LT -> " <";
                case LTE -> " <=";
                case GT -> " >";
                case GTE -> " >=";
            };
        }

        private static String names(Field... key) {
            StringBuilder sb = new StringBuilder();
            for (Field field : key) {
                sb.append(sb.length() == 0 ? "" : " . ").append(field);
            }
            return sb.toString();
        }

        private Builder say(String statement) {
            if (!describeStatements) {
                return this;
            }
            text.append(text.length() == 0 ? "" : " ").append(statement);
            return this;
        }
    }
}
