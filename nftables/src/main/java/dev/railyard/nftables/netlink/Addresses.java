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
}
