package dev.railyard.proxy.model;

import inet.ipaddr.IPAddress;

import java.net.InetAddress;

/**
 * A CIDR block of one family, parsed once: its canonical text (what iptables rules print, Go's
 * {@code net.IPNet.String()}) and its network and mask as bits, so that {@link #contains(byte[])} is a few
 * integer operations without allocating. Immutable.
 *
 * <pre>{@code
 * Cidr office = Cidr.parse("203.0.113.0/24");
 * office.contains(InetAddress.getByName("203.0.113.9").getAddress());   // true
 * office.toString();                                                     // "203.0.113.0/24"
 * }</pre>
 */
public final class Cidr {
    private final IpFamily family;
    private final int prefixLength;
    /** IPv6: the address' upper and lower 64 bits; IPv4: 0 and the address in the low 32 bits. */
    private final long networkHigh;
    private final long networkLow;
    private final long maskHigh;
    private final long maskLow;
    private final String text;

    private Cidr(IPAddress block) {
        this.family = IpAddresses.familyOf(block);
        this.prefixLength = block.getNetworkPrefixLength();
        byte[] network = block.getLower().getBytes();
        int bits = network.length * 8;
        long high = network.length == 16 ? bits(network, 0) : 0;
        long low = network.length == 16 ? bits(network, 8) : bits(network, 0);
        // The mask as a 128-bit (or 32-bit) number with prefixLength leading ones.
        this.maskHigh = bits == 128 ? leadingOnes(Math.min(prefixLength, 64)) : 0;
        this.maskLow = bits == 128 ? leadingOnes(Math.max(prefixLength - 64, 0))
                : leadingOnes(prefixLength) >>> 32;
        this.networkHigh = high & maskHigh;
        this.networkLow = low & maskLow;
        this.text = IpAddresses.canonicalCidr(block);
    }

    /**
     * A CIDR such as {@code 10.0.0.0/8} or {@code 2001:db8::/32}; host bits are allowed and cleared, as Go's
     * net.ParseCIDR does.
     *
     * @throws IllegalArgumentException saying why the text is not a CIDR
     */
    public static Cidr parse(String text) {
        return new Cidr(IpAddresses.parseCidr(text));
    }

    /** A block already parsed by {@link IpAddresses#parseCidr}. */
    public static Cidr of(IPAddress block) {
        if (!block.isPrefixed()) {
            throw new IllegalArgumentException("\"" + block + "\" is not a CIDR (address/prefix-length)");
        }
        return new Cidr(block.toPrefixBlock());
    }

    /** The block holding exactly this address: /32 or /128. */
    public static Cidr host(IPAddress address) {
        return new Cidr(address.withoutPrefixLength().setPrefixLength(address.getBitCount(), false));
    }

    public IpFamily family() {
        return family;
    }

    public int prefixLength() {
        return prefixLength;
    }

    /**
     * Whether the address, in network byte order as {@link InetAddress#getAddress()} gives it, is in this block.
     * An address of the other family never is, except that an IPv4-mapped IPv6 address ({@code ::ffff:a.b.c.d},
     * how a dual-stack socket may report an IPv4 client) counts as the IPv4 address it carries.
     */
    public boolean contains(byte[] address) {
        if (family == IpFamily.V4) {
            int offset;
            if (address.length == 4) {
                offset = 0;
            } else if (address.length == 16 && isIpv4Mapped(address)) {
                offset = 12;
            } else {
                return false;
            }
            return (bits32(address, offset) & maskLow) == networkLow;
        }
        return address.length == 16 && (bits(address, 0) & maskHigh) == networkHigh
                && (bits(address, 8) & maskLow) == networkLow;
    }

    /** Convenience for cold paths; {@link InetAddress#getAddress()} copies the address into a new array. */
    public boolean contains(InetAddress address) {
        return contains(address.getAddress());
    }

    private static boolean isIpv4Mapped(byte[] address) {
        for (int i = 0; i < 10; i++) {
            if (address[i] != 0) {
                return false;
            }
        }
        return address[10] == (byte) 0xff && address[11] == (byte) 0xff;
    }

    private static long bits(byte[] bytes, int offset) {
        int end = Math.min(offset + 8, bytes.length);
        long value = 0;
        for (int i = offset; i < end; i++) {
            value = value << 8 | (bytes[i] & 0xff);
        }
        return value;
    }

    private static long bits32(byte[] bytes, int offset) {
        return (bytes[offset] & 0xffL) << 24 | (bytes[offset + 1] & 0xffL) << 16 | (bytes[offset + 2] & 0xffL) << 8
                | (bytes[offset + 3] & 0xffL);
    }

    private static long leadingOnes(int count) {
        return count == 0 ? 0 : -1L << (64 - count);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr that && family == that.family && prefixLength == that.prefixLength
                && networkHigh == that.networkHigh && networkLow == that.networkLow;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(networkHigh) * 31 + Long.hashCode(networkLow) * 17 + prefixLength;
    }

    /** The canonical text: {@code 10.0.0.0/8}, {@code 2001:db8::/32}. */
    @Override
    public String toString() {
        return text;
    }
}
