package dev.railyard.netlink;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Builds netlink messages into one growing direct buffer, one header or attribute at a time, the way libmnl
 * does: {@link #beginMessage}, attributes, nests opened with {@link #beginNested} and closed with
 * {@link #endNested}, then {@link #endMessage}. Headers and attribute headers are in host byte order
 * (little-endian here); nf_tables attribute payloads are big-endian unless a method says otherwise. Every
 * message and attribute is padded to 4 bytes.
 *
 * <p>Not thread-safe. {@link #clear()} makes it reusable without reallocating.
 */
public final class MessageWriter {

    public static final int NLMSG_HDRLEN = 16;
    public static final int NLA_HDRLEN = 4;
    public static final int NLA_F_NESTED = 0x8000;
    public static final int NLA_F_NET_BYTEORDER = 0x4000;
    private static final int NLA_MAX_LENGTH = 0xffff;

    private ByteBuffer buffer;

    public MessageWriter(int initialCapacity) {
        buffer = ByteBuffer.allocateDirect(Math.max(256, initialCapacity)).order(ByteOrder.nativeOrder());
    }

    /** Starts a message; returns its offset, to be passed to {@link #endMessage}. nlmsg_pid is 0 (the kernel). */
    public int beginMessage(int type, int flags, int sequence) {
        align();
        int start = buffer.position();
        ensure(NLMSG_HDRLEN);
        buffer.putInt(0).putShort((short) type).putShort((short) flags).putInt(sequence).putInt(0);
        return start;
    }

    /** The nfgenmsg header every nfnetlink message carries after nlmsghdr; res_id is big-endian. */
    public void nfgenmsg(int family, int version, int resourceId) {
        ensure(4);
        buffer.put((byte) family).put((byte) version);
        putShortBigEndian(resourceId);
    }

    /** Sets or clears bits of nlmsg_flags of the message at {@code start}. */
    public void setFlag(int start, int flags, boolean on) {
        short current = buffer.getShort(start + 6);
        buffer.putShort(start + 6, (short) (on ? current | flags : current & ~flags));
    }

    /** Rewrites nlmsg_seq of the message at {@code start}. */
    public void setSequence(int start, int sequence) {
        buffer.putInt(start + 8, sequence);
    }

    public void endMessage(int start) {
        align();
        buffer.putInt(start, buffer.position() - start);
    }

    public void attrU8(int type, int value) {
        attrHeader(type, 1);
        buffer.put((byte) value);
        align();
    }

    public void attrU16BigEndian(int type, int value) {
        attrHeader(type, 2);
        putShortBigEndian(value);
        align();
    }

    public void attrU32BigEndian(int type, int value) {
        attrHeader(type, 4);
        buffer.order(ByteOrder.BIG_ENDIAN).putInt(value).order(ByteOrder.nativeOrder());
    }

    public void attrU64BigEndian(int type, long value) {
        attrHeader(type, 8);
        buffer.order(ByteOrder.BIG_ENDIAN).putLong(value).order(ByteOrder.nativeOrder());
    }

    /** A NUL-terminated string, as the kernel's NLA_STRING / NLA_NUL_STRING policies expect. */
    public void attrString(int type, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        attrHeader(type, bytes.length + 1);
        buffer.put(bytes).put((byte) 0);
        align();
    }

    public void attrBytes(int type, byte[] value) {
        attrBytes(type, value, 0, value.length);
    }

    public void attrBytes(int type, byte[] value, int offset, int length) {
        attrHeader(type, length);
        buffer.put(value, offset, length);
        align();
    }

    /** Opens a nested attribute (NLA_F_NESTED set); returns its offset for {@link #endNested}. */
    public int beginNested(int type) {
        align();
        int start = buffer.position();
        ensure(NLA_HDRLEN);
        buffer.putShort((short) 0).putShort((short) (type | NLA_F_NESTED));
        return start;
    }

    public void endNested(int start) {
        align();
        int length = buffer.position() - start;
        if (length > NLA_MAX_LENGTH) {
            throw new IllegalArgumentException("nested attribute of " + length + " bytes exceeds the 65535-byte netlink limit");
        }
        buffer.putShort(start, (short) length);
    }

    /** Bytes written so far. */
    public int position() {
        return buffer.position();
    }

    /** Drops everything written at or after {@code position} (to abandon a half-written message). */
    public void truncate(int position) {
        buffer.position(position);
    }

    public void clear() {
        buffer.clear();
    }

    /** A view of the bytes written, positioned at 0, sharing this writer's memory (valid until the next write). */
    public ByteBuffer written() {
        ByteBuffer view = buffer.duplicate();
        view.flip();
        return view.order(ByteOrder.nativeOrder());
    }

    private void attrHeader(int type, int payloadLength) {
        if (payloadLength + NLA_HDRLEN > NLA_MAX_LENGTH) {
            throw new IllegalArgumentException("attribute " + type + " of " + payloadLength + " bytes exceeds the netlink limit");
        }
        align();
        ensure(NLA_HDRLEN + payloadLength + 3);
        buffer.putShort((short) (NLA_HDRLEN + payloadLength)).putShort((short) type);
    }

    private void putShortBigEndian(int value) {
        buffer.put((byte) (value >>> 8)).put((byte) value);
    }

    private void align() {
        int pad = (4 - (buffer.position() & 3)) & 3;
        if (pad > 0) {
            ensure(pad);
            for (int i = 0; i < pad; i++) {
                buffer.put((byte) 0);
            }
        }
    }

    private void ensure(int bytes) {
        if (buffer.remaining() >= bytes) {
            return;
        }
        long wanted = Math.max((long) buffer.capacity() * 2, (long) buffer.position() + bytes);
        if (wanted > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("netlink batch would exceed 2 GiB");
        }
        ByteBuffer bigger = ByteBuffer.allocateDirect((int) wanted).order(ByteOrder.nativeOrder());
        buffer.flip();
        bigger.put(buffer);
        buffer = bigger;
    }
}
