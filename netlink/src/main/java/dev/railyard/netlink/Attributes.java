package dev.railyard.netlink;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Reads netlink attributes (type, payload) from a buffer region; nesting is read by calling it again. */
final class Attributes {

    /** One attribute: its type without the NESTED/BYTEORDER flags, and its payload as a little-endian slice. */
    record Attr(int type, ByteBuffer payload, int offset) {
        int u32BigEndian() {
            return payload.duplicate().order(ByteOrder.BIG_ENDIAN).getInt(0);
        }

        int u32Host() {
            return payload.getInt(0);
        }

        int u8() {
            return payload.get(0) & 0xff;
        }

        String string() {
            int end = payload.limit();
            while (end > 0 && payload.get(end - 1) == 0) {
                end--;
            }
            byte[] bytes = new byte[end];
            payload.duplicate().get(bytes);
            return new String(bytes, StandardCharsets.UTF_8);
        }

        byte[] bytes() {
            byte[] bytes = new byte[payload.remaining()];
            payload.duplicate().get(bytes);
            return bytes;
        }

        List<Attr> nested() {
            return Attributes.parse(payload, 0, payload.limit(), offset + MessageWriter.NLA_HDRLEN);
        }
    }

    private Attributes() {
    }

    /** Parses attributes in [from, to) of {@code buffer}; {@code baseOffset} is added to report positions. */
    static List<Attr> parse(ByteBuffer buffer, int from, int to, int baseOffset) {
        List<Attr> attrs = new ArrayList<>();
        ByteBuffer b = buffer.duplicate().order(ByteOrder.nativeOrder());
        int pos = from;
        while (pos + MessageWriter.NLA_HDRLEN <= to) {
            int length = b.getShort(pos) & 0xffff;
            int type = b.getShort(pos + 2) & 0x3fff;
            if (length < MessageWriter.NLA_HDRLEN || pos + length > to) {
                break;
            }
            ByteBuffer payload = b.duplicate();
            payload.limit(pos + length).position(pos + MessageWriter.NLA_HDRLEN);
            attrs.add(new Attr(type, payload.slice().order(ByteOrder.nativeOrder()), baseOffset + pos - from));
            pos += (length + 3) & ~3;
        }
        return attrs;
    }

    static Attr find(List<Attr> attrs, int type) {
        for (Attr attr : attrs) {
            if (attr.type() == type) {
                return attr;
            }
        }
        return null;
    }
}
