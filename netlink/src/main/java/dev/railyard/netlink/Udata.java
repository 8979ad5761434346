package dev.railyard.netlink;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * libnftnl's user-data format, which nft reads back to print comments and set key types: a sequence of
 * {type u8, length u8, value} records, values unpadded, integers in host byte order.
 */
final class Udata {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream(64);

    Udata string(int type, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        out.write(type);
        out.write(bytes.length + 1);
        out.writeBytes(bytes);
        out.write(0);
        return this;
    }

    Udata u32(int type, int value) {
        out.write(type);
        out.write(4);
        out.write(value);
        out.write(value >>> 8);
        out.write(value >>> 16);
        out.write(value >>> 24);
        return this;
    }

    Udata nested(int type, Udata inner) {
        byte[] bytes = inner.bytes();
        if (bytes.length > 255) {
            throw new IllegalArgumentException("udata record too long: " + bytes.length);
        }
        out.write(type);
        out.write(bytes.length);
        out.writeBytes(bytes);
        return this;
    }

    boolean isEmpty() {
        return out.size() == 0;
    }

    byte[] bytes() {
        return out.toByteArray();
    }

    static byte[] comment(int type, String comment) {
        return new Udata().string(type, comment).bytes();
    }
}
