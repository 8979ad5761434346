package dev.railyard.overlay.backend;

import io.netty.buffer.ByteBuf;

/** The packet helpers, for tests in other packages that build packets by hand. */
public final class Ipv4PacketsAccess {
    private Ipv4PacketsAccess() {
    }

    public static int checksum(ByteBuf b, int index, int length) {
        return Ipv4Packets.checksum(b, index, length);
    }
}
