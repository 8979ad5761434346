package dev.railyard.overlay.config;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * An IPv4 network as an unsigned 32-bit address and a prefix length. Kept as a primitive pair
 * rather than an {@code IPAddress} object because allocation walks and hashes tens of thousands of
 * them per acquisition.
 */
public record Ip4Net(int address, int prefixLength) implements Comparable<Ip4Net> {

    public Ip4Net {
        if (prefixLength < 0 || prefixLength > 32) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " is outside 0..32");
        }
        if ((address & ~mask(prefixLength)) != 0) {
            throw new IllegalArgumentException(
                    formatAddress(address) + "/" + prefixLength + " has host bits set; did you mean "
                            + formatAddress(address & mask(prefixLength)) + "/" + prefixLength + "?");
        }
    }

    /** Parses {@code a.b.c.d/len}; the message of the exception says what is wrong, not where. */
    public static Ip4Net parse(String cidr) {
        if (cidr == null) {
            throw new IllegalArgumentException("missing CIDR");
        }
        int slash = cidr.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("'" + cidr + "' is not a CIDR (expected a.b.c.d/len)");
        }
        int len;
        try {
            len = Integer.parseInt(cidr.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + cidr + "' has a prefix length that is not a number");
        }
        return new Ip4Net(parseAddress(cidr.substring(0, slash)), len);
    }

    public static int parseAddress(String dotted) {
        String[] parts = dotted.split("\\.", -1);
        if (parts.length != 4) {
            throw new IllegalArgumentException("'" + dotted + "' is not an IPv4 address");
        }
        int value = 0;
        for (String part : parts) {
            int octet;
            try {
                if (part.isEmpty() || part.length() > 3) {
                    throw new NumberFormatException();
                }
                octet = Integer.parseInt(part);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + dotted + "' is not an IPv4 address");
            }
            if (octet > 255) {
                throw new IllegalArgumentException("'" + dotted + "' is not an IPv4 address");
            }
            value = (value << 8) | octet;
        }
        return value;
    }

    public static String formatAddress(int address) {
        return ((address >>> 24) & 0xff) + "." + ((address >>> 16) & 0xff) + "."
                + ((address >>> 8) & 0xff) + "." + (address & 0xff);
    }

    public static InetAddress toInetAddress(int address) {
        byte[] b = {(byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address};
        try {
            return Inet4Address.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    public static int mask(int prefixLength) {
        return prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
    }

    /** Number of addresses, as a long because a /0 holds 2^32. */
    public long size() {
        return 1L << (32 - prefixLength);
    }

    public boolean contains(int ip) {
        return (ip & mask(prefixLength)) == address;
    }

    public boolean contains(Ip4Net other) {
        return other.prefixLength >= prefixLength && contains(other.address);
    }

    /** The address {@code offset} places into the network, e.g. offset 1 is the usual gateway. */
    public int addressAt(long offset) {
        return (int) (Integer.toUnsignedLong(address) + offset);
    }

    /** The first address after this network, as an unsigned long (may be 2^32). */
    public long endExclusive() {
        return Integer.toUnsignedLong(address) + size();
    }

    public String addressString() {
        return formatAddress(address);
    }

    @Override
    public int compareTo(Ip4Net o) {
        int c = Integer.compareUnsigned(address, o.address);
        return c != 0 ? c : Integer.compare(prefixLength, o.prefixLength);
    }

    @Override
    public String toString() {
        return formatAddress(address) + "/" + prefixLength;
    }
}
