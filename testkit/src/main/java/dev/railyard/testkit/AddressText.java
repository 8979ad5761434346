package dev.railyard.testkit;

import java.math.BigInteger;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * Canonical text for IP addresses. Java prints IPv6 as {@code fd00:0:0:0:0:0:0:2}; the kernel, iproute2 and
 * iptables print {@code fd00::2} (RFC 5952), and tests compare against what they configured, so everything
 * the kit reports goes through here.
 */
public final class AddressText {

    private AddressText() {
    }

    /** Parses an IP literal without ever doing a DNS lookup. */
    public static InetAddress parse(String literal) {
        String bare = literal.startsWith("[") && literal.endsWith("]") ? literal.substring(1, literal.length() - 1) : literal;
        if (!bare.matches("[0-9a-fA-F:.%a-zA-Z0-9_-]+") || !(bare.contains(":") || bare.matches("[0-9.]+"))) {
            throw new IllegalArgumentException("not an IP address literal: " + literal);
        }
        try {
            return InetAddress.getByName(bare);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address literal: " + literal, e);
        }
    }

    /** {@code 10.0.0.1} or the RFC 5952 form {@code fd00::1}; IPv4-mapped IPv6 addresses are shown as IPv4. */
    public static String format(InetAddress address) {
        if (address instanceof Inet4Address) {
            return address.getHostAddress();
        }
        byte[] bytes = address.getAddress();
        if (isIpv4Mapped(bytes)) {
            return (bytes[12] & 0xff) + "." + (bytes[13] & 0xff) + "." + (bytes[14] & 0xff) + "." + (bytes[15] & 0xff);
        }
        String text = compress(bytes);
        if (address instanceof Inet6Address v6 && v6.getScopedInterface() != null) {
            text += "%" + v6.getScopedInterface().getName();
        } else if (address instanceof Inet6Address v6 && v6.getScopeId() != 0) {
            text += "%" + v6.getScopeId();
        }
        return text;
    }

    /** {@code 10.0.0.1:80} or {@code [fd00::1]:80}. */
    public static String format(InetSocketAddress socketAddress) {
        return hostPort(format(socketAddress.getAddress()), socketAddress.getPort());
    }

    public static String hostPort(String ip, int port) {
        return ip.contains(":") ? "[" + ip + "]:" + port : ip + ":" + port;
    }

    /** Adds {@code offset} to an address, e.g. {@code offset("192.168.1.0", 5)} is {@code 192.168.1.5}. */
    public static String offset(String base, long offset) {
        byte[] bytes = parse(base).getAddress();
        BigInteger value = new BigInteger(1, bytes).add(BigInteger.valueOf(offset));
        byte[] raw = value.toByteArray();
        byte[] sized = new byte[bytes.length];
        int copy = Math.min(raw.length, sized.length);
        System.arraycopy(raw, raw.length - copy, sized, sized.length - copy, copy);
        try {
            return format(InetAddress.getByAddress(sized));
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean isIpv4Mapped(byte[] bytes) {
        for (int i = 0; i < 10; i++) {
            if (bytes[i] != 0) {
                return false;
            }
        }
        return (bytes[10] & 0xff) == 0xff && (bytes[11] & 0xff) == 0xff;
    }

    private static String compress(byte[] bytes) {
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((bytes[2 * i] & 0xff) << 8) | (bytes[2 * i + 1] & 0xff);
        }
        // RFC 5952: the longest run of two or more zero groups becomes "::" (the first one on a tie).
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8; ) {
            if (groups[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = j;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLength - 1;
                continue;
            }
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
                sb.append(':');
            }
            sb.append(Integer.toHexString(groups[i]));
        }
        return sb.toString();
    }

    static String[] split(String cidr) {
        String[] parts = cidr.split("/", 2);
        return parts.length == 2 ? parts : Arrays.copyOf(parts, 2);
    }
}
