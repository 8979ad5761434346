package dev.railyard.testkit;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.ptr.IntByReference;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.SecureRandom;
import java.util.zip.CRC32C;

/**
 * SCTP INIT chunks sent and seen through raw IP sockets, so that a test can send SCTP through a proxy's NAT rules
 * and see where it arrives on kernels built without SCTP sockets ({@code CONFIG_IP_SCTP} unset) but with the SCTP
 * connection tracking and NAT the rules need ({@code CONFIG_NF_CT_PROTO_SCTP}). An INIT is what opens an
 * association, so it is what DNAT and masquerading act on. Linux on x86-64 or arm64 (the socket constants).
 */
final class RawSctp implements AutoCloseable {
    private static final int AF_INET = 2;
    private static final int AF_INET6 = 10;
    private static final int SOCK_RAW = 3;
    private static final int IPPROTO_SCTP = 132;
    private static final int SOL_SOCKET = 1;
    private static final int SO_RCVTIMEO = 20;
    private static final int EAGAIN = 11;
    private static final int EINTR = 4;
    private static final byte CHUNK_INIT = 1;
    private static final int INIT_LENGTH = 12 + 20;
    private static final SecureRandom RANDOM = new SecureRandom();

    /** The C library calls used; errors raise {@link LastErrorException} with errno. */
    interface LibC extends Library {
        LibC INSTANCE = Native.load("c", LibC.class);

        int socket(int domain, int type, int protocol) throws LastErrorException;

        NativeLong sendto(int fd, byte[] buffer, NativeLong length, int flags, byte[] address, int addressLength)
                throws LastErrorException;

        NativeLong recvfrom(int fd, byte[] buffer, NativeLong length, int flags, byte[] address,
                            IntByReference addressLength) throws LastErrorException;

        int setsockopt(int fd, int level, int name, byte[] value, int length) throws LastErrorException;

        int close(int fd) throws LastErrorException;
    }

    /** An INIT as it arrived: who sent it (after any NAT) and to which port. */
    record Seen(String sourceIp, int sourcePort, int destinationPort) {
        @Override
        public String toString() {
            return sourceIp + " " + sourcePort + " " + destinationPort;
        }
    }

    private final boolean ipv6;
    private final int fd;

    private RawSctp(boolean ipv6) {
        this.ipv6 = ipv6;
        this.fd = LibC.INSTANCE.socket(ipv6 ? AF_INET6 : AF_INET, SOCK_RAW, IPPROTO_SCTP);
    }

    static RawSctp open(boolean ipv6) {
        return new RawSctp(ipv6);
    }

    /** Sends an INIT to {@code target}:{@code port} from a random source port, which it returns. */
    static int sendInit(InetAddress target, int port) {
        int sourcePort = 20_000 + RANDOM.nextInt(40_000);
        boolean ipv6 = !(target instanceof Inet4Address);
        try (RawSctp socket = open(ipv6)) {
            byte[] packet = init(sourcePort, port);
            byte[] address = socketAddress(target, ipv6);
            LibC.INSTANCE.sendto(socket.fd, packet, new NativeLong(packet.length), 0, address, address.length);
        }
        return sourcePort;
    }

    /** Waits up to {@code timeoutMs} for the next INIT; null when none came. */
    Seen receiveInit(int timeoutMs) {
        ByteBuffer timeval = ByteBuffer.allocate(16).order(ByteOrder.nativeOrder());
        timeval.putLong(timeoutMs / 1000).putLong((timeoutMs % 1000) * 1000L);
        LibC.INSTANCE.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeval.array(), 16);
        byte[] buffer = new byte[2048];
        byte[] address = new byte[28];
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        while (System.nanoTime() < deadline) {
            IntByReference addressLength = new IntByReference(address.length);
            int length;
            try {
                length = LibC.INSTANCE.recvfrom(fd, buffer, new NativeLong(buffer.length), 0, address,
                        addressLength).intValue();
            } catch (LastErrorException e) {
                if (e.getErrorCode() == EAGAIN || e.getErrorCode() == EINTR) {
                    continue;
                }
                throw e;
            }
            Seen seen = parseInit(buffer, length, address);
            if (seen != null) {
                return seen;
            }
            // Another SCTP chunk (an ABORT from a kernel that has SCTP): not one of ours.
        }
        return null;
    }

    private Seen parseInit(byte[] buffer, int length, byte[] address) {
        int offset = 0;
        byte[] ip;
        if (ipv6) {
            // An IPv6 raw socket gets the payload only; the source is in the socket address.
            ip = new byte[16];
            System.arraycopy(address, 8, ip, 0, 16);
        } else {
            // An IPv4 raw socket gets the whole datagram, header first.
            ip = new byte[4];
            System.arraycopy(buffer, 12, ip, 0, 4);
            offset = (buffer[0] & 0x0f) * 4;
        }
        if (length - offset < INIT_LENGTH || buffer[offset + 12] != CHUNK_INIT) {
            return null;
        }
        ByteBuffer packet = ByteBuffer.wrap(buffer);
        return new Seen(AddressText.format(inet(ip)), packet.getShort(offset) & 0xffff,
                packet.getShort(offset + 2) & 0xffff);
    }

    @Override
    public void close() {
        LibC.INSTANCE.close(fd);
    }

    /** Common header (verification tag 0, as an INIT must have) and one INIT chunk, CRC32c-checksummed. */
    static byte[] init(int sourcePort, int destinationPort) {
        ByteBuffer packet = ByteBuffer.allocate(INIT_LENGTH);
        packet.putShort((short) sourcePort).putShort((short) destinationPort).putInt(0).putInt(0);
        packet.put(CHUNK_INIT).put((byte) 0).putShort((short) 20);
        packet.putInt(1 + RANDOM.nextInt(Integer.MAX_VALUE - 1)); // initiate tag, never 0
        packet.putInt(65_535); // advertised receiver window
        packet.putShort((short) 1).putShort((short) 1); // outbound and inbound streams
        packet.putInt(RANDOM.nextInt()); // initial TSN
        CRC32C crc = new CRC32C();
        crc.update(packet.array());
        // SCTP carries the CRC32c in the byte order the algorithm produces it: little-endian.
        packet.order(ByteOrder.LITTLE_ENDIAN).putInt(8, (int) crc.getValue());
        return packet.array();
    }

    private static byte[] socketAddress(InetAddress target, boolean ipv6) {
        ByteBuffer address = ByteBuffer.allocate(ipv6 ? 28 : 16);
        address.order(ByteOrder.nativeOrder()).putShort((short) (ipv6 ? AF_INET6 : AF_INET));
        // The port field of a raw socket's address must be 0 (or the protocol); the SCTP header holds ours.
        address.order(ByteOrder.BIG_ENDIAN).putShort((short) 0);
        if (ipv6) {
            address.putInt(0);
        }
        address.put(target.getAddress());
        return address.array();
    }

    private static InetAddress inet(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
