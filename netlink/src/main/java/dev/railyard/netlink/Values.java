package dev.railyard.netlink;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * Element keys and match values in the byte layout nf_tables compares against: addresses and ports in network
 * order, protocol numbers as one byte, marks and integers in host order (what the meta and numgen expressions
 * load).
 */
public final class Values {

    public static final int TCP = 6;
    public static final int UDP = 17;
    public static final int SCTP = 132;

    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
    private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]+");

    private Values() {
    }

    /** Parses an IPv4 or IPv6 literal, never a host name (no DNS). */
    public static InetAddress parseAddress(String literal) {
        if (literal == null) {
            throw new IllegalArgumentException("address is null");
        }
        boolean v4 = IPV4.matcher(literal).matches();
        boolean v6 = !v4 && literal.contains(":") && IPV6_CHARS.matcher(literal).matches();
        if (!v4 && !v6) {
            throw new IllegalArgumentException("not an IP address literal: " + literal);
        }
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address literal: " + literal, e);
        }
    }

    public static byte[] ipv4(String literal) {
        InetAddress address = parseAddress(literal);
        if (!(address instanceof Inet4Address)) {
            throw new IllegalArgumentException("not an IPv4 address: " + literal);
        }
        return address.getAddress();
    }

    public static byte[] ipv6(String literal) {
        InetAddress address = parseAddress(literal);
        if (!(address instanceof Inet6Address)) {
            throw new IllegalArgumentException("not an IPv6 address: " + literal);
        }
        return address.getAddress();
    }

    public static byte[] address(InetAddress address) {
        return address.getAddress();
    }

    /** {@code inet_proto}: one byte. */
    public static byte[] inetProto(int protocol) {
        if (protocol < 0 || protocol > 255) {
            throw new IllegalArgumentException("protocol number out of range 0..255: " + protocol);
        }
        return new byte[] {(byte) protocol};
    }

    /** {@code inet_service}: a port, two bytes in network order. */
    public static byte[] inetService(int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range 0..65535: " + port);
        }
        return new byte[] {(byte) (port >>> 8), (byte) port};
    }

    /** A 32-bit value in host (little-endian) order, as {@code meta mark}, {@code ct state} and numgen produce. */
    public static byte[] u32Host(int value) {
        return new byte[] {(byte) value, (byte) (value >>> 8), (byte) (value >>> 16), (byte) (value >>> 24)};
    }

    /**
     * Joins the fields of a concatenated key or datum, each padded with zeros to whole 4-byte register slots.
     * A single field is returned unpadded.
     */
    public static byte[] concat(byte[]... fields) {
        if (fields.length == 1) {
            return fields[0].clone();
        }
        int length = 0;
        for (byte[] field : fields) {
            length += Registers.slotBytes(field.length);
        }
        byte[] joined = new byte[length];
        int offset = 0;
        for (byte[] field : fields) {
            System.arraycopy(field, 0, joined, offset, field.length);
            offset += Registers.slotBytes(field.length);
        }
        return joined;
    }
}
