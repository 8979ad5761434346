package dev.railyard.netlink;

import static dev.railyard.netlink.NfConst.*;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * One nf_tables transaction: operations added in order, sent by {@link NfTables#commit} between BATCH_BEGIN and
 * BATCH_END in a single datagram, applied by the kernel all together or not at all. Every netlink message has its
 * own sequence number and NLM_F_ACK, and every message belongs to one operation (one method call: its index is
 * what {@link OperationError#index()} reports), so each refusal is mapped back to the call that caused it. Most
 * calls are one message; a long element list is several (64 KiB attribute limit), a rule with inline sets brings
 * their creation along.
 *
 * <p>Sets created in the batch get a batch-local id (NFTA_SET_ID) that later lookups and element additions in the
 * same batch carry along with the name, as nft does. Anonymous sets of a rule are created as operations of
 * their own just before it. Not thread-safe; reusable only by building a new one.
 */
public final class NfTablesBatch {

    /** Writes one operation's message (its sequence number is patched in at commit). */
    private interface Encoder {
        void encode(MessageWriter w, int sequence);
    }

    /**
     * One netlink message; {@code call} is the index of the public method call that produced it. Descriptions are
     * built only when an error needs them: a cold sync adds hundreds of thousands of operations.
     */
    private record Operation(int call, Supplier<String> description) {
    }

    /**
     * NFTA_SET_ELEM_LIST_ELEMENTS is one attribute, whose length field is 16 bits: a long element list goes out
     * as several messages (as libnftnl does), each with elements adding up to at most this many bytes.
     */
    static final int ELEMENT_BYTES_PER_MESSAGE = 60_000;

    private final List<Operation> operations = new ArrayList<>();
    private final List<Supplier<String>> calls = new ArrayList<>();
    /**
     * Messages are encoded as they are added, right after a BATCH_BEGIN, so that a batch holds its bytes rather
     * than an object graph, and committing it only patches sequence numbers and appends BATCH_END.
     */
    private final MessageWriter writer = new MessageWriter(8192);
    private int[] starts = new int[64];
    private final int beginStart;
    private final Map<String, Integer> setIds = new HashMap<>();
    private int nextSetId = 1;

    public NfTablesBatch() {
        beginStart = writer.beginMessage(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, 0);
        writer.nfgenmsg(0, NFNETLINK_V0, NFNL_SUBSYS_NFTABLES);
        writer.endMessage(beginStart);
    }

    /** Operations added: one per method call, the index errors report. */
    public int size() {
        return calls.size();
    }

    public boolean isEmpty() {
        return calls.isEmpty();
    }

    /** The description of operation {@code index} (the index-th call), as errors report it. */
    public String describe(int index) {
        return calls.get(index).get();
    }

    /** Netlink messages the batch sends (without BEGIN/END): more than {@link #size()} when an operation needs
     *  several (long element lists, anonymous sets of a rule). */
    public int messageCount() {
        return operations.size();
    }

    /** The operation (call index) that produced message {@code message}. */
    int callOf(int message) {
        return operations.get(message).call();
    }

    /** What message {@code message} does, for errors. */
    String describeMessage(int message) {
        return operations.get(message).description().get();
    }

    // ---- tables

    /** {@code add table FAMILY NAME [{ comment "..." ; }]} (no error if it exists). */
    public NfTablesBatch addTable(Family family, String table, String comment) {
        return newTable(family, table, comment, false);
    }

    /** {@code create table FAMILY NAME [{ comment "..." ; }]}: refused (EEXIST) if it exists. */
    public NfTablesBatch createTable(Family family, String table, String comment) {
        return newTable(family, table, comment, true);
    }

    private NfTablesBatch newTable(Family family, String table, String comment, boolean exclusive) {
        check(family, table);
        Names.checkComment(comment, "table " + table);
        return add(() -> verb(exclusive) + " table " + family.keyword() + " " + table, (w, seq) -> {
            int m = begin(w, NFT_MSG_NEWTABLE, NLM_F_CREATE | excl(exclusive), seq, family);
            w.attrString(NFTA_TABLE_NAME, table);
            w.attrU32BigEndian(NFTA_TABLE_FLAGS, 0);
            if (comment != null) {
                w.attrBytes(NFTA_TABLE_USERDATA, Udata.comment(UDATA_TABLE_COMMENT, comment));
            }
            w.endMessage(m);
        });
    }

    /** {@code delete table FAMILY NAME}, with everything in it. */
    public NfTablesBatch deleteTable(Family family, String table) {
        check(family, table);
        return add(() -> "delete table " + family.keyword() + " " + table, (w, seq) -> {
            int m = begin(w, NFT_MSG_DELTABLE, 0, seq, family);
            w.attrString(NFTA_TABLE_NAME, table);
            w.endMessage(m);
        });
    }

    /**
     * {@code flush table FAMILY NAME}: DELRULE naming only the table removes every rule of every chain in it;
     * chains, sets and elements stay.
     */
    public NfTablesBatch flushTable(Family family, String table) {
        check(family, table);
        return add(() -> "flush table " + family.keyword() + " " + table, (w, seq) -> {
            int m = begin(w, NFT_MSG_DELRULE, 0, seq, family);
            w.attrString(NFTA_RULE_TABLE, table);
            w.endMessage(m);
        });
    }

    // ---- chains

    /** {@code add chain FAMILY TABLE NAME [{ comment "..." ; }]}: a regular chain. */
    public NfTablesBatch addChain(Family family, String table, String chain, String comment) {
        return newChain(family, table, chain, null, null, 0, comment, false);
    }

    /** {@code create chain FAMILY TABLE NAME [{ comment "..." ; }]}: refused (EEXIST) if it exists. */
    public NfTablesBatch createChain(Family family, String table, String chain, String comment) {
        return newChain(family, table, chain, null, null, 0, comment, true);
    }

    /** {@code add chain FAMILY TABLE NAME { type TYPE hook HOOK priority N ; [comment "..." ;] }}. */
    public NfTablesBatch addBaseChain(Family family, String table, String chain, ChainType type, Hook hook,
                                      int priority, String comment) {
        Objects.requireNonNull(type, "chain " + chain + ": type");
        Objects.requireNonNull(hook, "chain " + chain + ": hook");
        return newChain(family, table, chain, type, hook, priority, comment, false);
    }

    /** {@code create chain ... { type TYPE hook HOOK priority N ; }}: refused (EEXIST) if it exists. */
    public NfTablesBatch createBaseChain(Family family, String table, String chain, ChainType type, Hook hook,
                                         int priority, String comment) {
        Objects.requireNonNull(type, "chain " + chain + ": type");
        Objects.requireNonNull(hook, "chain " + chain + ": hook");
        return newChain(family, table, chain, type, hook, priority, comment, true);
    }

    private NfTablesBatch newChain(Family family, String table, String chain, ChainType type, Hook hook,
                                   int priority, String comment, boolean exclusive) {
        check(family, table);
        Names.check("chain", chain, "chain " + chain);
        Names.checkComment(comment, "chain " + chain);
        return add(() -> verb(exclusive) + " chain " + family.keyword() + " " + table + " " + chain, (w, seq) -> {
            int m = begin(w, NFT_MSG_NEWCHAIN, NLM_F_CREATE | excl(exclusive), seq, family);
            w.attrString(NFTA_CHAIN_TABLE, table);
            w.attrString(NFTA_CHAIN_NAME, chain);
            if (type != null) {
                w.attrString(NFTA_CHAIN_TYPE, type.kernelName());
                int h = w.beginNested(NFTA_CHAIN_HOOK);
                w.attrU32BigEndian(NFTA_HOOK_HOOKNUM, hook.number());
                w.attrU32BigEndian(NFTA_HOOK_PRIORITY, priority);
                w.endNested(h);
            }
            if (comment != null) {
                w.attrBytes(NFTA_CHAIN_USERDATA, Udata.comment(UDATA_CHAIN_COMMENT, comment));
            }
            w.endMessage(m);
        });
    }

    /** {@code delete chain}: the chain must be empty and unreferenced. */
    public NfTablesBatch deleteChain(Family family, String table, String chain) {
        check(family, table);
        Names.check("chain", chain, "delete chain");
        return add(() -> "delete chain " + family.keyword() + " " + table + " " + chain, (w, seq) -> {
            int m = begin(w, NFT_MSG_DELCHAIN, 0, seq, family);
            w.attrString(NFTA_CHAIN_TABLE, table);
            w.attrString(NFTA_CHAIN_NAME, chain);
            w.endMessage(m);
        });
    }

    /** {@code flush chain}: DELRULE naming only the table and chain removes every rule in it. */
    public NfTablesBatch flushChain(Family family, String table, String chain) {
        check(family, table);
        Names.check("chain", chain, "flush chain");
        return add(() -> "flush chain " + family.keyword() + " " + table + " " + chain, (w, seq) -> {
            int m = begin(w, NFT_MSG_DELRULE, 0, seq, family);
            w.attrString(NFTA_RULE_TABLE, table);
            w.attrString(NFTA_RULE_CHAIN, chain);
            w.endMessage(m);
        });
    }

    // ---- rules

    /** {@code add rule FAMILY TABLE CHAIN ...}: appended at the end of the chain. */
    public NfTablesBatch addRule(Family family, String table, String chain, Rule rule) {
        return newRule(family, table, chain, rule, true);
    }

    /** {@code insert rule FAMILY TABLE CHAIN ...}: put first in the chain. */
    public NfTablesBatch insertRule(Family family, String table, String chain, Rule rule) {
        return newRule(family, table, chain, rule, false);
    }

    private NfTablesBatch newRule(Family family, String table, String chain, Rule rule, boolean append) {
        int messages = operations.size();
        int callCount = calls.size();
        int position = writer.position();
        int setId = nextSetId;
        try {
            return addRuleMessages(family, table, chain, rule, append);
        } catch (RuntimeException e) {
            // A rule is one operation: drop its anonymous sets too, leaving the batch as it was.
            while (operations.size() > messages) {
                operations.remove(operations.size() - 1);
            }
            while (calls.size() > callCount) {
                calls.remove(calls.size() - 1);
            }
            writer.truncate(position);
            nextSetId = setId;
            throw e;
        }
    }

    private NfTablesBatch addRuleMessages(Family family, String table, String chain, Rule rule, boolean append) {
        check(family, table);
        Names.check("chain", chain, append ? "add rule" : "insert rule");
        // Capture the rule's text, not the rule: a large batch would otherwise hold every rule's expressions.
        String text = rule.text();
        String comment = rule.comment();
        Supplier<String> description = () -> (append ? "add rule " : "insert rule ") + family.keyword() + " " + table
                + " " + chain + " " + text + (comment == null ? "" : " comment \"" + comment + "\"");
        int call = newCall(description);
        Map<AnonymousSet, Integer> anonymousIds = rule.anonymousSets().isEmpty() ? Map.of() : new IdentityHashMap<>();
        for (AnonymousSet set : rule.anonymousSets()) {
            int id = nextSetId++;
            anonymousIds.put(set, id);
            addAnonymousSet(call, family, table, set, id, () -> description.get() + " (its anonymous set " + set + ")");
        }
        Expr.SetResolver resolver = new Expr.SetResolver() {
            @Override
            public String name(SetRef set) {
                return set.name() != null ? set.name() : set.anonymous().nameTemplate();
            }

            @Override
            public int id(SetRef set) {
                if (set.anonymous() != null) {
                    return anonymousIds.get(set.anonymous());
                }
                return setIds.isEmpty() ? 0 : setIds.getOrDefault(setKey(family, table, set.name()), 0);
            }
        };
        return message(call, description, (w, seq) -> {
            int m = begin(w, NFT_MSG_NEWRULE, NLM_F_CREATE | (append ? NLM_F_APPEND : 0), seq, family);
            w.attrString(NFTA_RULE_TABLE, table);
            w.attrString(NFTA_RULE_CHAIN, chain);
            int list = w.beginNested(NFTA_RULE_EXPRESSIONS);
            for (Expr expr : rule.expressions()) {
                int elem = w.beginNested(NFTA_LIST_ELEM);
                w.attrString(NFTA_EXPR_NAME, expr.name());
                int data = w.beginNested(NFTA_EXPR_DATA);
                expr.encode(w, resolver);
                w.endNested(data);
                w.endNested(elem);
            }
            w.endNested(list);
            if (rule.comment() != null) {
                w.attrBytes(NFTA_RULE_USERDATA, Udata.comment(UDATA_RULE_COMMENT, rule.comment()));
            }
            w.endMessage(m);
        });
    }

    // ---- sets and maps

    /** {@code add set|map FAMILY TABLE NAME { ... }} (no error if an identical one exists). */
    public NfTablesBatch addSet(Family family, String table, SetSpec set) {
        return newSet(family, table, set, false);
    }

    /** {@code create set|map FAMILY TABLE NAME { ... }}: refused (EEXIST) if it exists. */
    public NfTablesBatch createSet(Family family, String table, SetSpec set) {
        return newSet(family, table, set, true);
    }

    private NfTablesBatch newSet(Family family, String table, SetSpec set, boolean exclusive) {
        check(family, table);
        int id = nextSetId++;
        setIds.put(setKey(family, table, set.name()), id);
        return add(() -> verb(exclusive) + (set.isMap() ? " map " : " set ") + family.keyword() + " " + table + " " + set.name(), (w, seq) -> {
            int m = begin(w, NFT_MSG_NEWSET, NLM_F_CREATE | excl(exclusive), seq, family);
            w.attrString(NFTA_SET_TABLE, table);
            w.attrString(NFTA_SET_NAME, set.name());
            w.attrU32BigEndian(NFTA_SET_FLAGS, set.kernelFlags());
            writeTypes(w, set.keyType(), set.dataType());
            boolean concatIntervals = set.keyType().isConcat() && set.flags().contains(SetSpec.Flag.INTERVAL);
            if (concatIntervals || set.size() > 0) {
                int desc = w.beginNested(NFTA_SET_DESC);
                if (set.size() > 0) {
                    w.attrU32BigEndian(NFTA_SET_DESC_SIZE, set.size());
                }
                if (concatIntervals) {
                    // Interval sets with concatenated keys (the pipapo backend) need every field's length.
                    int concat = w.beginNested(NFTA_SET_DESC_CONCAT);
                    for (DataType field : set.keyType().fields()) {
                        int elem = w.beginNested(NFTA_LIST_ELEM);
                        w.attrU32BigEndian(NFTA_SET_FIELD_LEN, field.length());
                        w.endNested(elem);
                    }
                    w.endNested(concat);
                }
                w.endNested(desc);
            }
            w.attrU32BigEndian(NFTA_SET_ID, id);
            if (set.timeout() != null) {
                w.attrU64BigEndian(NFTA_SET_TIMEOUT, set.timeout().toMillis());
            }
            Udata udata = setUdata(set.keyType(), set.dataType(), set.keyTypeof(), set.dataTypeof(), false, false);
            if (set.comment() != null) {
                udata.string(UDATA_SET_COMMENT, set.comment());
            }
            w.attrBytes(NFTA_SET_USERDATA, udata.bytes());
            w.endMessage(m);
        });
    }

    public NfTablesBatch deleteSet(Family family, String table, String set) {
        check(family, table);
        Names.check("set", set, "delete set");
        return add(() -> "delete set " + family.keyword() + " " + table + " " + set, (w, seq) -> {
            int m = begin(w, NFT_MSG_DELSET, 0, seq, family);
            w.attrString(NFTA_SET_TABLE, table);
            w.attrString(NFTA_SET_NAME, set);
            w.endMessage(m);
        });
    }

    /** {@code flush set|map}: DELSETELEM without elements removes them all. */
    public NfTablesBatch flushSet(Family family, String table, String set) {
        check(family, table);
        Names.check("set", set, "flush set");
        return add(() -> "flush set " + family.keyword() + " " + table + " " + set, (w, seq) -> {
            int m = begin(w, NFT_MSG_DELSETELEM, 0, seq, family);
            w.attrString(NFTA_SET_ELEM_LIST_TABLE, table);
            w.attrString(NFTA_SET_ELEM_LIST_SET, set);
            w.endMessage(m);
        });
    }

    /** {@code add element FAMILY TABLE SET { ... }}: one operation for all given elements. */
    public NfTablesBatch addElements(Family family, String table, String set, List<SetElement> elements) {
        return elements(family, table, set, elements, true, false);
    }

    /** {@code create element FAMILY TABLE SET { ... }}: refused (EEXIST) if a key exists. */
    public NfTablesBatch createElements(Family family, String table, String set, List<SetElement> elements) {
        return elements(family, table, set, elements, true, true);
    }

    /** {@code delete element FAMILY TABLE SET { ... }}: the keys must exist (ENOENT otherwise). */
    public NfTablesBatch deleteElements(Family family, String table, String set, List<SetElement> elements) {
        return elements(family, table, set, elements, false, false);
    }

    private NfTablesBatch elements(Family family, String table, String set, List<SetElement> elements, boolean add,
                                   boolean exclusive) {
        check(family, table);
        Names.check("set", set, (add ? "add" : "delete") + " element");
        if (elements.isEmpty()) {
            throw new IllegalArgumentException((add ? "add" : "delete") + " element " + set + ": no elements"
                    + (add ? "" : " (use flushSet to remove all)"));
        }
        List<SetElement> copy = List.copyOf(elements);
        SetElement firstElement = copy.get(0);
        int total = copy.size();
        Supplier<String> what = () -> (add ? verb(exclusive) + " element " : "delete element ") + family.keyword() + " " + table + " "
                + set + " " + (total == 1 ? "{ " + firstElement + " }" : "{ " + total + " elements, first " + firstElement + " }");
        int call = newCall(what);
        Integer id = setIds.get(setKey(family, table, set));
        elementMessages(call, what, family, table, set, id == null ? 0 : id, copy, add, exclusive);
        return this;
    }

    /** NEWSETELEM/DELSETELEM messages for {@code elements}, as many as the 64 KiB attribute limit needs. */
    private void elementMessages(int call, Supplier<String> what, Family family, String table, String set, int setId,
                                 List<SetElement> elements, boolean add, boolean exclusive) {
        int from = 0;
        while (from < elements.size()) {
            int to = from;
            int bytes = 0;
            while (to < elements.size()
                    && (to == from || bytes + elements.get(to).encodedSizeBound() <= ELEMENT_BYTES_PER_MESSAGE)) {
                bytes += elements.get(to).encodedSizeBound();
                to++;
            }
            List<SetElement> chunk = elements.subList(from, to);
            int first = from;
            int last = to - 1;
            Supplier<String> part = from == 0 && to == elements.size() ? what
                    : () -> what.get() + " (elements " + first + ".." + last + ")";
            message(call, part, (w, seq) -> {
                int m = begin(w, add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
                        add ? NLM_F_CREATE | excl(exclusive) : 0, seq, family);
                w.attrString(NFTA_SET_ELEM_LIST_TABLE, table);
                w.attrString(NFTA_SET_ELEM_LIST_SET, set);
                if (setId != 0) {
                    w.attrU32BigEndian(NFTA_SET_ELEM_LIST_SET_ID, setId);
                }
                int list = w.beginNested(NFTA_SET_ELEM_LIST_ELEMENTS);
                for (SetElement element : chunk) {
                    element.encode(w);
                }
                w.endNested(list);
                w.endMessage(m);
            });
            from = to;
        }
    }

    private void addAnonymousSet(int call, Family family, String table, AnonymousSet set, int id,
                                 Supplier<String> description) {
        int flags = NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | (set.isMap() ? NFT_SET_MAP : 0)
                | (set.interval() ? NFT_SET_INTERVAL : 0);
        message(call, description, (w, seq) -> {
            int m = begin(w, NFT_MSG_NEWSET, NLM_F_CREATE, seq, family);
            w.attrString(NFTA_SET_TABLE, table);
            w.attrString(NFTA_SET_NAME, set.nameTemplate());
            w.attrU32BigEndian(NFTA_SET_FLAGS, flags);
            writeTypes(w, set.keyType(), set.dataType());
            w.attrU32BigEndian(NFTA_SET_ID, id);
            int desc = w.beginNested(NFTA_SET_DESC);
            w.attrU32BigEndian(NFTA_SET_DESC_SIZE, set.elements().size());
            w.endNested(desc);
            w.attrBytes(NFTA_SET_USERDATA, setUdata(set.keyType(), set.dataType(), null, null, true, set.interval()).bytes());
            w.endMessage(m);
        });
        elementMessages(call, () -> description.get() + " elements", family, table, set.nameTemplate(), id,
                set.elements(), true, false);
    }

    private static void writeTypes(MessageWriter w, DataType key, DataType data) {
        w.attrU32BigEndian(NFTA_SET_KEY_TYPE, key.id());
        w.attrU32BigEndian(NFTA_SET_KEY_LEN, key.length());
        if (data != null) {
            w.attrU32BigEndian(NFTA_SET_DATA_TYPE, data.id());
            w.attrU32BigEndian(NFTA_SET_DATA_LEN, data.length());
        }
    }

    /**
     * The user data nft 1.0 writes for a set: key (and data) byte order, merge flag of anonymous interval
     * sets, the typeof expressions (for a concatenation declared with {@code type}, an empty concat record),
     * and the data-interval flag of maps. nft needs it to print keys and data back correctly.
     */
    private static Udata setUdata(DataType key, DataType data, TypeOf keyTypeof, TypeOf dataTypeof,
                                  boolean anonymous, boolean interval) {
        Udata udata = new Udata().u32(UDATA_SET_KEYBYTEORDER, key.byteOrder());
        if (data != null) {
            udata.u32(UDATA_SET_DATABYTEORDER, data.byteOrder());
        }
        if (anonymous && interval) {
            udata.u32(UDATA_SET_MERGE_ELEMENTS, 1);
        }
        if (keyTypeof != null) {
            Udata expr = new Udata();
            keyTypeof.encode(expr);
            udata.nested(UDATA_SET_KEY_TYPEOF, expr);
        } else if (key.isConcat()) {
            udata.nested(UDATA_SET_KEY_TYPEOF, new Udata().u32(0, TypeOf.EXPR_CONCAT).nested(1, new Udata()));
        }
        if (dataTypeof != null) {
            Udata expr = new Udata();
            dataTypeof.encode(expr);
            udata.nested(UDATA_SET_DATA_TYPEOF, expr);
        } else if (data != null && data.isConcat()) {
            udata.nested(UDATA_SET_DATA_TYPEOF, new Udata().u32(0, TypeOf.EXPR_CONCAT).nested(1, new Udata()));
        } else if (anonymous && data == DataType.VERDICT) {
            udata.nested(UDATA_SET_DATA_TYPEOF, new Udata().u32(0, 1).nested(1, new Udata()));
        }
        if (data != null) {
            udata.u32(UDATA_SET_DATA_INTERVAL, 0);
        }
        return udata;
    }

    // ---- encoding

    /**
     * The datagram to send: BATCH_BEGIN, every message (sequence numbers {@code firstSequence + 1 + message}, and
     * NLM_F_ACK only with {@code ackEach}) and BATCH_END, as a view of the batch's own memory. Valid until
     * {@link #release()}, which must follow before the batch is changed or prepared again.
     */
    ByteBuffer prepare(int firstSequence, boolean ackEach) {
        return prepare(firstSequence, ackEach, true);
    }

    /**
     * As {@link #prepare(int, boolean)}; without {@code end} the datagram stops after the last operation, which
     * makes the kernel process every message, report every refusal, validate the result (loops) and then abort:
     * a dry run, as {@code nft -c} does.
     */
    ByteBuffer prepare(int firstSequence, boolean ackEach, boolean end) {
        writer.setSequence(beginStart, firstSequence);
        for (int i = 0; i < operations.size(); i++) {
            writer.setSequence(starts[i], firstSequence + 1 + i);
            writer.setFlag(starts[i], NLM_F_ACK, ackEach);
        }
        endStart = writer.position();
        if (end) {
            int endMessage = writer.beginMessage(NFNL_MSG_BATCH_END, NLM_F_REQUEST, firstSequence + 1 + operations.size());
            writer.nfgenmsg(0, NFNETLINK_V0, NFNL_SUBSYS_NFTABLES);
            writer.endMessage(endMessage);
        }
        return writer.written();
    }

    /** Removes the BATCH_END that {@link #prepare} appended. */
    void release() {
        if (endStart >= 0) {
            writer.truncate(endStart);
            endStart = -1;
        }
    }

    /** Offset of message {@code message} in the prepared datagram. */
    int messageStart(int message) {
        return starts[message];
    }

    private int endStart = -1;

    private static int begin(MessageWriter w, int msg, int flags, int sequence, Family family) {
        int m = w.beginMessage(nftMessageType(msg), NLM_F_REQUEST | NLM_F_ACK | flags, sequence);
        w.nfgenmsg(family.code(), NFNETLINK_V0, 0);
        return m;
    }

    /** An operation of one message. */
    private NfTablesBatch add(Supplier<String> description, Encoder encoder) {
        return message(newCall(description), description, encoder);
    }

    private int newCall(Supplier<String> description) {
        calls.add(description);
        return calls.size() - 1;
    }

    private NfTablesBatch message(int call, Supplier<String> description, Encoder encoder) {
        release();
        int start = writer.position();
        try {
            encoder.encode(writer, 0);
        } catch (RuntimeException e) {
            writer.truncate(start);
            throw e;
        }
        if (operations.size() == starts.length) {
            starts = java.util.Arrays.copyOf(starts, starts.length * 2);
        }
        starts[operations.size()] = start;
        operations.add(new Operation(call, description));
        return this;
    }

    private static String verb(boolean exclusive) {
        return exclusive ? "create" : "add";
    }

    private static int excl(boolean exclusive) {
        return exclusive ? NLM_F_EXCL : 0;
    }

    private static void check(Family family, String table) {
        Objects.requireNonNull(family, "family");
        Names.check("table", table, "table " + table);
    }

    private static String setKey(Family family, String table, String set) {
        return family.code() + "\0" + table + "\0" + set;
    }
}
