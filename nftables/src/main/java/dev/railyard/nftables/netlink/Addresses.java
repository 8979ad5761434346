package dev.railyard.nftables.netlink;

import dev.railyard.netlink.Values;

/**
 * Address literals to bytes. IPv4 is parsed by hand: a full sync compiles some hundred thousand of them, and the
 * general parser (a pattern match and {@code InetAddress}) costs several times more.
 */
final class Addresses {
    private Addresses() {
    }

    /** Dotted-quad IPv4 ({@code 10.0.0.1}, no leading zeros beyond a lone 0), or null. */
    static byte[] ipv4(String text) {
        int length = text.length();
        if (length < 7 || length > 15) {
            return null;
        }
        byte[] address = new byte[4];
        int part = 0;
        int value = 0;
        int digits = 0;
        for (int i = 0; i <= length; i++) {
            char c = i < length ? text.charAt(i) : '.';
            if (c == '.') {
                if (digits == 0 || part > 3) {
                    return null;
                }
                address[part++] = (byte) value;
                value = 0;
                digits = 0;
            } else if (c >= '0' && c <= '9') {
                if (digits > 0 && value == 0) {
                    return null; // leading zero: nft would read it as octal
                }
                value = value * 10 + (c - '0');
                digits++;
                if (value > 255) {
                    return null;
                }
            } else {
                return null;
            }
        }
        return part == 4 ? address : null;
    }

    /** An IPv6 literal (no zone, no brackets), or null. */
    static byte[] ipv6(String text) {
        if (text.indexOf(':') < 0) {
            return null;
        }
        try {
            return Values.ipv6(text);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** Canonical text of 4 or 16 address bytes: dotted-quad, or RFC 5952 (lower case, longest zero run as ::). */
    static String text(byte[] address) {
        if (address.length == 4) {
            return (address[0] & 0xff) + "." + (address[1] & 0xff) + "." + (address[2] & 0xff) + "."
                    + (address[3] & 0xff);
        }
        if (address.length != 16) {
            throw new IllegalArgumentException("an address has 4 or 16 bytes, not " + address.length);
        }
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((address[2 * i] & 0xff) << 8) | (address[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLength = 1; // a single zero group is not shortened
        for (int i = 0; i < 8; ) {
            if (groups[i] != 0) {
                i++;
                continue;
            }
            int start = i;
            while (i < 8 && groups[i] == 0) {
                i++;
            }
            if (i - start > bestLength) {
                bestStart = start;
                bestLength = i - start;
            }
        }
        StringBuilder out = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                out.append("::");
                i += bestLength - 1;
                continue;
            }
            if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
                out.append(':');
            }
            out.append(Integer.toHexString(groups[i]));
        }
        return out.toString();
    }
}
