package dev.railyard.overlay.backend;

import io.netty.buffer.ByteBuf;

/** What the udp backend does to the IPv4 packets it carries, on buffers in place. */
final class Ipv4Packets {
    static final int HEADER = 20;
    private static final int PROTOCOL_ICMP = 1;

    private Ipv4Packets() {
    }

    /** Whether the {@code length} bytes at {@code index} hold at least an IPv4 header. */
    static boolean isIpv4(ByteBuf b, int index, int length) {
        return length >= HEADER && (b.getUnsignedByte(index) >>> 4) == 4;
    }

    static int destination(ByteBuf b, int index) {
        return b.getInt(index + 16);
    }

    static int source(ByteBuf b, int index) {
        return b.getInt(index + 12);
    }

    /**
     * Decrements the TTL and patches the header checksum incrementally (RFC 1624), as a router does and as
     * flannel's proxy does; false when the TTL runs out and the packet must be dropped.
     */
    static boolean decrementTtl(ByteBuf b, int index) {
        int ttl = b.getUnsignedByte(index + 8);
        if (ttl <= 1) {
            return false;
        }
        b.setByte(index + 8, ttl - 1);
        // the TTL is the high byte of the 16-bit word at offset 8: that word drops by 0x0100
        int sum = (~b.getUnsignedShort(index + 10) & 0xffff) + 0xfeff; // ~HC + ~m + m' with m - m' = 0x0100
        sum = (sum & 0xffff) + (sum >>> 16);
        sum = (sum & 0xffff) + (sum >>> 16);
        b.setShort(index + 10, ~sum & 0xffff);
        return true;
    }

    /**
     * Writes into {@code out} an ICMP "network unreachable" from {@code from} to the sender of the packet at
     * {@code index} (its header and first 8 bytes of payload quoted), as flannel answers a packet for a subnet no
     * peer holds. Returns false, writing nothing, for ICMP packets and non-first fragments (RFC 792).
     */
    static boolean netUnreachable(ByteBuf packet, int index, int length, int from, ByteBuf out) {
        int headerLength = (packet.getUnsignedByte(index) & 0x0f) * 4;
        if (headerLength < HEADER || headerLength > 60 || length < headerLength
                || packet.getUnsignedByte(index + 9) == PROTOCOL_ICMP
                || (packet.getUnsignedShort(index + 6) & 0x1fff) != 0) {
            return false;
        }
        int quoted = Math.min(length, headerLength + 8);
        int total = HEADER + 8 + quoted;
        out.clear();
        out.writeByte(0x45).writeByte(0).writeShort(total).writeShort(0).writeShort(0)
                .writeByte(8).writeByte(PROTOCOL_ICMP).writeShort(0).writeInt(from).writeInt(source(packet, index));
        out.setShort(10, checksum(out, 0, HEADER));
        out.writeByte(3).writeByte(0).writeShort(0).writeInt(0); // type 3 (unreachable), code 0 (net)
        out.writeBytes(packet, index, quoted);
        out.setShort(HEADER + 2, checksum(out, HEADER, 8 + quoted));
        return true;
    }

    static int checksum(ByteBuf b, int index, int length) {
        long sum = 0;
        int i = 0;
        for (; i + 1 < length; i += 2) {
            sum += b.getUnsignedShort(index + i);
        }
        if (i < length) {
            sum += b.getUnsignedByte(index + i) << 8;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) (~sum & 0xffff);
    }
}
