package dev.railyard.netlink;

import static dev.railyard.netlink.NfConst.*;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * nf_tables over one netlink socket: {@link #commit} sends a {@link NfTablesBatch} as one transaction and reads
 * every ack; the {@code list*} methods dump kernel state; {@link #generation()} reads the ruleset generation
 * (it changes on every commit by anyone, so a cached view is stale when it moved).
 *
 * <pre>{@code
 * try (NfTables nft = NfTables.open("my-netns")) {        // or NfTables.open() for the host namespace
 *     NfTablesBatch batch = new NfTablesBatch()
 *         .addTable(Family.IP, "kube-proxy", "rules for kube-proxy")
 *         .addChain(Family.IP, "kube-proxy", "services", null);
 *     CommitResult result = nft.commit(batch);
 *     if (!result.committed()) log(result.describe());
 * }
 * }</pre>
 *
 * <p>Not thread-safe (one socket, one sequence space): confine an instance to one thread or lock around it.
 */
public final class NfTables implements AutoCloseable {

    /**
     * Room reserved in SO_RCVBUF per expected ack. Each ack is its own skb; with NETLINK_CAP_ACK an ack is 36
     * bytes of payload, but the kernel charges the skb's truesize against the buffer: on kernel 6.18, 30,000
     * acks overflowed a buffer sized at 768 bytes per ack and fitted at 1024; a refused operation's ack also
     * carries the extended-ack text. Acks that do not fit are dropped (recv then fails with ENOBUFS and the
     * outcome of the batch is unknown), so leave headroom.
     */
    static final int RECEIVE_BYTES_PER_ACK = 1536;

    private int receiveBytesPerAck = RECEIVE_BYTES_PER_ACK;
    private boolean ackEveryMessage = true;
    /** Phases of the last commit, for the benchmark: patching sequence numbers, the sendto (the kernel's work), reading acks. */
    long lastEncodeNanos;
    long lastSendNanos;
    long lastAckNanos;

    private final NetlinkSocket socket;
    private final MessageWriter writer = new MessageWriter(64 * 1024);
    private int sequence = (int) (System.nanoTime() & 0x3fffffff);

    private NfTables(NetlinkSocket socket) {
        this.socket = socket;
    }

    /** nf_tables in the process's own network namespace. */
    public static NfTables open() {
        return new NfTables(NetlinkSocket.open(NetlinkSocket.NETLINK_NETFILTER));
    }

    /** nf_tables of the named network namespace ({@code /run/netns/NAME}). */
    public static NfTables open(String networkNamespace) {
        return new NfTables(NetlinkSocket.open(NetlinkSocket.NETLINK_NETFILTER, networkNamespace));
    }

    public NetlinkSocket socket() {
        return socket;
    }

    /**
     * Sends the batch as one transaction and waits for the ack of every operation. Returns committed, or the
     * errors (each with the operation's index and description) of a batch the kernel refused, in which case
     * nothing was applied. An empty batch is not sent. Throws {@link NetlinkException} only when the socket
     * fails (e.g. acks lost because the receive buffer overflowed), when the outcome is unknown.
     */
    public CommitResult commit(NfTablesBatch batch) {
        return send(batch, true);
    }

    /**
     * A dry run, as {@code nft -c}: the kernel processes every operation of the batch, reports every refusal,
     * validates the result (jump loops) and then aborts the transaction, so nothing is ever applied. {@code
     * committed()} of the result means the batch would have been accepted. Only a refusal at commit time
     * itself (none is known for the objects of this module) can escape a dry run.
     */
    public CommitResult check(NfTablesBatch batch) {
        return send(batch, false);
    }

    private CommitResult send(NfTablesBatch batch, boolean commit) {
        int count = batch.messageCount();
        if (count == 0) {
            return new CommitResult(true, 0, 0, List.of());
        }
        int first = nextSequences(count + 2);
        try {
            return commit(batch, count, first, commit);
        } finally {
            batch.release();
        }
    }

    /** How long the phases of the last commit (or check) took. */
    public CommitTimings lastCommitTimings() {
        return new CommitTimings(lastEncodeNanos, lastSendNanos, lastAckNanos);
    }

    /**
     * Phases of one commit: patching sequence numbers and flags into the encoded batch, the sendto call (inside
     * which the kernel processes and applies the whole batch), and reading the acks.
     */
    public record CommitTimings(long prepareNanos, long sendNanos, long ackNanos) {
    }

    private CommitResult commit(NfTablesBatch batch, int count, int first, boolean commit) {
        long start = System.nanoTime();
        ByteBuffer datagram = batch.prepare(first, ackEveryMessage, commit);
        socket.ensureReceiveBuffer((long) (count + 2) * receiveBytesPerAck + 65536);
        long encoded = System.nanoTime();
        socket.send(datagram);
        long sent = System.nanoTime();
        lastEncodeNanos = encoded - start;
        lastSendNanos = sent - encoded;

        boolean[] acked = new boolean[count];
        // Without per-message acks only refusals answer, and all of them are queued once sendto has returned.
        int pending = ackEveryMessage ? count : 0;
        boolean drain = !ackEveryMessage;
        boolean batchRefused = false;
        List<OperationError> errors = new ArrayList<>();
        // The kernel processes the batch inside our sendto: every ack is queued by the time it returns. Waiting
        // is only a safety net; after a batch-level error the remaining acks are drained without waiting.
        while (pending > 0 || drain) {
            ByteBuffer reply = socket.receive(pending > 0 && !batchRefused);
            if (reply == null) {
                break;
            }
            for (int pos = 0; pos + MessageWriter.NLMSG_HDRLEN <= reply.limit(); ) {
                int length = reply.getInt(pos);
                int type = reply.getShort(pos + 4) & 0xffff;
                int flags = reply.getShort(pos + 6) & 0xffff;
                int seq = reply.getInt(pos + 8);
                if (length < MessageWriter.NLMSG_HDRLEN || pos + length > reply.limit()) {
                    break;
                }
                if (type == NLMSG_ERROR) {
                    int errno = -reply.getInt(pos + 16);
                    int index = seq - first - 1;
                    if (index >= 0 && index < count) {
                        if (!acked[index] && ackEveryMessage) {
                            acked[index] = true;
                            pending--;
                        }
                        if (errno != 0) {
                            errors.add(error(batch.callOf(index), batch.describeMessage(index), errno, reply, pos,
                                    length, flags, datagram, batch.messageStart(index)));
                        }
                    } else if ((seq == first || seq == first + count + 1) && errno != 0) {
                        batchRefused = true;
                        errors.add(error(-1, seq == first ? "batch begin" : "batch end / commit", errno, reply, pos,
                                length, flags, null, 0));
                    }
                }
                pos += (length + 3) & ~3;
            }
        }
        lastAckNanos = System.nanoTime() - sent;
        if (pending > 0 && errors.isEmpty()) {
            throw new NetlinkException(pending + " of " + count + " messages were never acknowledged; the batch outcome"
                    + " is unknown (compare generation())", 0);
        }
        return new CommitResult(errors.isEmpty(), batch.size(), datagram.limit(), errors);
    }

    /**
     * With {@code true} (the default) every message carries NLM_F_ACK and {@link #commit} reads one ack per
     * message. With {@code false} only refused messages (and a refused commit) answer, so a large batch costs
     * no ack skbs and no receive calls; errors are mapped the same way. Both rely on the kernel processing the
     * batch inside the sendto call, which it does: the replies are queued before sendto returns.
     */
    public void ackEveryMessage(boolean ackEach) {
        this.ackEveryMessage = ackEach;
    }

    /** For measurements: SO_RCVBUF room reserved per expected ack. */
    void receiveBytesPerAck(int bytes) {
        this.receiveBytesPerAck = bytes;
    }

    /** The ruleset generation id (NFT_MSG_GETGEN). */
    public int generation() {
        int[] generation = {-1};
        request(NFT_MSG_GETGEN, Family.INET, false, w -> { }, attrs -> {
            Attributes.Attr id = Attributes.find(attrs, NFTA_GEN_ID);
            if (id != null) {
                generation[0] = id.u32BigEndian();
            }
        });
        return generation[0];
    }

    /** Names of the tables of a family. */
    public List<String> listTables(Family family) {
        List<String> names = new ArrayList<>();
        request(NFT_MSG_GETTABLE, family, true, w -> { }, attrs -> {
            Attributes.Attr name = Attributes.find(attrs, NFTA_TABLE_NAME);
            if (name != null) {
                names.add(name.string());
            }
        });
        return names;
    }

    /** Names of the chains of one table, in the kernel's order. */
    public List<String> listChains(Family family, String table) {
        List<String> names = new ArrayList<>();
        request(NFT_MSG_GETCHAIN, family, true, w -> w.attrString(NFTA_CHAIN_TABLE, table), attrs -> {
            Attributes.Attr owner = Attributes.find(attrs, NFTA_CHAIN_TABLE);
            Attributes.Attr name = Attributes.find(attrs, NFTA_CHAIN_NAME);
            if (owner != null && name != null && owner.string().equals(table)) {
                names.add(name.string());
            }
        });
        return names;
    }

    /** Names of the named sets and maps of one table (anonymous sets excluded). */
    public List<String> listSets(Family family, String table) {
        List<String> names = new ArrayList<>();
        request(NFT_MSG_GETSET, family, true, w -> w.attrString(NFTA_SET_TABLE, table), attrs -> {
            Attributes.Attr owner = Attributes.find(attrs, NFTA_SET_TABLE);
            Attributes.Attr name = Attributes.find(attrs, NFTA_SET_NAME);
            Attributes.Attr flags = Attributes.find(attrs, NFTA_SET_FLAGS);
            boolean anonymous = flags != null && (flags.u32BigEndian() & NFT_SET_ANONYMOUS) != 0;
            if (owner != null && name != null && owner.string().equals(table) && !anonymous) {
                names.add(name.string());
            }
        });
        return names;
    }

    /**
     * The named sets and maps of one table as the kernel holds them: name, key and data types (read back from
     * the kernel's type ids and lengths, see {@link DataType#fromKernel}; {@code typeof} expressions are not read
     * back, the types they gave are), flags, default timeout and comment. Enough to encode elements for them.
     * Anonymous sets are left out. Throws {@link NetlinkException} with ENOENT when there is no such table.
     */
    public List<SetSpec> describeSets(Family family, String table) {
        List<SetSpec> sets = new ArrayList<>();
        request(NFT_MSG_GETSET, family, true, w -> w.attrString(NFTA_SET_TABLE, table), attrs -> {
            Attributes.Attr owner = Attributes.find(attrs, NFTA_SET_TABLE);
            Attributes.Attr name = Attributes.find(attrs, NFTA_SET_NAME);
            Attributes.Attr flagsAttr = Attributes.find(attrs, NFTA_SET_FLAGS);
            int flags = flagsAttr == null ? 0 : flagsAttr.u32BigEndian();
            if (owner == null || name == null || !owner.string().equals(table) || (flags & NFT_SET_ANONYMOUS) != 0) {
                return;
            }
            DataType key = DataType.fromKernel(u32(attrs, NFTA_SET_KEY_TYPE), u32(attrs, NFTA_SET_KEY_LEN));
            DataType data = null;
            if ((flags & NFT_SET_MAP) != 0) {
                int dataType = u32(attrs, NFTA_SET_DATA_TYPE);
                data = dataType == NFT_DATA_VERDICT ? DataType.VERDICT
                        : DataType.fromKernel(dataType, u32(attrs, NFTA_SET_DATA_LEN));
            }
            java.util.EnumSet<SetSpec.Flag> kept = java.util.EnumSet.noneOf(SetSpec.Flag.class);
            for (SetSpec.Flag flag : SetSpec.Flag.values()) {
                if ((flags & flag.bit) != 0) {
                    kept.add(flag);
                }
            }
            Attributes.Attr timeoutAttr = Attributes.find(attrs, NFTA_SET_TIMEOUT);
            java.time.Duration timeout = null;
            if (timeoutAttr != null) {
                long millis = timeoutAttr.payload().duplicate().order(java.nio.ByteOrder.BIG_ENDIAN).getLong(0);
                timeout = millis > 0 ? java.time.Duration.ofMillis(millis) : null;
            }
            Attributes.Attr udata = Attributes.find(attrs, NFTA_SET_USERDATA);
            String comment = udata == null ? null : udataComment(udata.bytes(), UDATA_SET_COMMENT);
            sets.add(new SetSpec(name.string(), key, data, kept, timeout, comment, null, null, 0));
        });
        return sets;
    }

    private static int u32(List<Attributes.Attr> attrs, int type) {
        Attributes.Attr attr = Attributes.find(attrs, type);
        return attr == null ? 0 : attr.u32BigEndian();
    }

    /** The elements of a set or map as the kernel holds them (keys, data or verdicts, comments, interval ends). */
    public List<SetElement> listElements(Family family, String table, String set) {
        List<SetElement> elements = new ArrayList<>();
        request(NFT_MSG_GETSETELEM, family, true, w -> {
            w.attrString(NFTA_SET_ELEM_LIST_TABLE, table);
            w.attrString(NFTA_SET_ELEM_LIST_SET, set);
        }, attrs -> {
            Attributes.Attr list = Attributes.find(attrs, NFTA_SET_ELEM_LIST_ELEMENTS);
            if (list == null) {
                return;
            }
            for (Attributes.Attr elem : list.nested()) {
                elements.add(parseElement(elem.nested()));
            }
        });
        return elements;
    }

    @Override
    public void close() {
        socket.close();
    }

    private static SetElement parseElement(List<Attributes.Attr> attrs) {
        Attributes.Attr keyAttr = Attributes.find(attrs, NFTA_SET_ELEM_KEY);
        byte[] key = keyAttr == null ? new byte[1] : valueOf(keyAttr);
        Attributes.Attr flags = Attributes.find(attrs, NFTA_SET_ELEM_FLAGS);
        boolean end = flags != null && (flags.u32BigEndian() & NFT_SET_ELEM_INTERVAL_END) != 0;
        byte[] data = null;
        Verdict verdict = null;
        Attributes.Attr dataAttr = Attributes.find(attrs, NFTA_SET_ELEM_DATA);
        if (dataAttr != null) {
            List<Attributes.Attr> inner = dataAttr.nested();
            Attributes.Attr value = Attributes.find(inner, NFTA_DATA_VALUE);
            Attributes.Attr verdictAttr = Attributes.find(inner, NFTA_DATA_VERDICT);
            if (value != null) {
                data = value.bytes();
            } else if (verdictAttr != null) {
                List<Attributes.Attr> v = verdictAttr.nested();
                int code = Attributes.find(v, NFTA_VERDICT_CODE).u32BigEndian();
                Attributes.Attr chain = Attributes.find(v, NFTA_VERDICT_CHAIN);
                verdict = new Verdict(code, chain == null ? null : chain.string());
            }
        }
        String comment = null;
        Attributes.Attr udata = Attributes.find(attrs, NFTA_SET_ELEM_USERDATA);
        if (udata != null) {
            comment = udataComment(udata.bytes(), UDATA_SET_ELEM_COMMENT);
        }
        return new SetElement(key, data, verdict, comment, end);
    }

    private static byte[] valueOf(Attributes.Attr nestedData) {
        Attributes.Attr value = Attributes.find(nestedData.nested(), NFTA_DATA_VALUE);
        return value == null ? new byte[1] : value.bytes();
    }

    private static String udataComment(byte[] udata, int type) {
        for (int pos = 0; pos + 2 <= udata.length; ) {
            int t = udata[pos] & 0xff;
            int len = udata[pos + 1] & 0xff;
            if (pos + 2 + len > udata.length) {
                break;
            }
            if (t == type && len > 0) {
                int end = pos + 2 + len;
                while (end > pos + 2 && udata[end - 1] == 0) {
                    end--;
                }
                return new String(udata, pos + 2, end - pos - 2, java.nio.charset.StandardCharsets.UTF_8);
            }
            pos += 2 + len;
        }
        return null;
    }

    /** Sends one GET request (a dump when {@code dump}) and hands every reply's attributes to {@code onReply}. */
    private void request(int msg, Family family, boolean dump, Consumer<MessageWriter> attributes,
                         Consumer<List<Attributes.Attr>> onReply) {
        int seq = nextSequences(1);
        writer.clear();
        int m = writer.beginMessage(nftMessageType(msg), NLM_F_REQUEST | (dump ? NLM_F_DUMP : NLM_F_ACK), seq);
        writer.nfgenmsg(family.code(), NFNETLINK_V0, 0);
        attributes.accept(writer);
        writer.endMessage(m);
        socket.send(writer.written());
        while (true) {
            ByteBuffer reply = socket.receive(true);
            for (int pos = 0; pos + MessageWriter.NLMSG_HDRLEN <= reply.limit(); ) {
                int length = reply.getInt(pos);
                int type = reply.getShort(pos + 4) & 0xffff;
                int replySeq = reply.getInt(pos + 8);
                if (length < MessageWriter.NLMSG_HDRLEN || pos + length > reply.limit()) {
                    break;
                }
                if (replySeq == seq) {
                    if (type == NLMSG_DONE) {
                        return;
                    }
                    if (type == NLMSG_ERROR) {
                        int errno = -reply.getInt(pos + 16);
                        if (errno != 0) {
                            throw new NetlinkException("nf_tables request " + msg + " refused", errno);
                        }
                        return; // the ack that ends a non-dump request
                    }
                    int attrStart = pos + MessageWriter.NLMSG_HDRLEN + 4;
                    onReply.accept(Attributes.parse(reply, attrStart, pos + length, 0));
                }
                pos += (length + 3) & ~3;
            }
        }
    }

    private OperationError error(int index, String description, int errno, ByteBuffer reply, int pos, int length,
                                 int flags, ByteBuffer sent, int sentStart) {
        String message = null;
        String location = null;
        if ((flags & NLM_F_ACK_TLVS) != 0) {
            // After the error code comes the request's header (only the header: NETLINK_CAP_ACK), then TLVs.
            int embedded = pos + MessageWriter.NLMSG_HDRLEN + 4;
            int embeddedLength = reply.getInt(embedded);
            int tlvStart = embedded + ((flags & NLM_F_CAPPED) != 0 ? MessageWriter.NLMSG_HDRLEN : ((embeddedLength + 3) & ~3));
            for (Attributes.Attr attr : Attributes.parse(reply, tlvStart, pos + length, 0)) {
                if (attr.type() == NLMSGERR_ATTR_MSG) {
                    message = attr.string();
                } else if (attr.type() == NLMSGERR_ATTR_OFFS && sent != null) {
                    location = ErrorLocation.describe(sent, sentStart, attr.u32Host());
                }
            }
        }
        return new OperationError(index, description, errno, message, location);
    }

    private int nextSequences(int count) {
        int first = sequence;
        sequence += count;
        if (sequence < 0 || sequence > 0x7fff0000) {
            sequence = 1;
            first = sequence;
            sequence += count;
        }
        return first;
    }
}
