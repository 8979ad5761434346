package dev.railyard.overlay.config;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * An IPv6 address as two unsigned 64-bit halves. Printed as Go's {@code net.IP.String()} prints it (RFC 5952:
 * lower case, leading zeros dropped, the longest run of two or more zero groups as {@code ::}, the first on a
 * tie), because that text is part of flannel's etcd keys and node annotations.
 */
public record Ip6Address(long high, long low) implements Comparable<Ip6Address> {

    public static final Ip6Address ZERO = new Ip6Address(0, 0);

    /** Parses any textual IPv6 form (compressed or not); the message says what is wrong, not where. */
    public static Ip6Address parse(String text) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("missing IPv6 address");
        }
        String s = text.trim();
        if (s.indexOf(':') < 0 || s.indexOf('%') >= 0) {
            throw new IllegalArgumentException("'" + text + "' is not an IPv6 address");
        }
        int[] groups = new int[8];
        int doubleColon = s.indexOf("::");
        if (doubleColon >= 0 && s.indexOf("::", doubleColon + 1) >= 0) {
            throw new IllegalArgumentException("'" + text + "' is not an IPv6 address");
        }
        String head = doubleColon >= 0 ? s.substring(0, doubleColon) : s;
        String tail = doubleColon >= 0 ? s.substring(doubleColon + 2) : "";
        int[] h = groups(head, text);
        int[] t = groups(tail, text);
        if (doubleColon < 0 && h.length != 8 || doubleColon >= 0 && h.length + t.length > 7) {
            throw new IllegalArgumentException("'" + text + "' is not an IPv6 address");
        }
        System.arraycopy(h, 0, groups, 0, h.length);
        System.arraycopy(t, 0, groups, 8 - t.length, t.length);
        long hi = 0;
        long lo = 0;
        for (int i = 0; i < 4; i++) {
            hi = (hi << 16) | groups[i];
            lo = (lo << 16) | groups[i + 4];
        }
        return new Ip6Address(hi, lo);
    }

    private static int[] groups(String part, String text) {
        if (part.isEmpty()) {
            return new int[0];
        }
        String[] fields = part.split(":", -1);
        int extra = fields[fields.length - 1].indexOf('.') >= 0 ? 1 : 0; // trailing dotted IPv4, e.g. ::ffff:1.2.3.4
        int[] out = new int[fields.length + extra];
        for (int i = 0; i < fields.length; i++) {
            String f = fields[i];
            if (i == fields.length - 1 && extra == 1) {
                int v4;
                try {
                    v4 = Ip4Net.parseAddress(f);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("'" + text + "' is not an IPv6 address");
                }
                out[i] = v4 >>> 16;
                out[i + 1] = v4 & 0xffff;
                break;
            }
            if (f.isEmpty() || f.length() > 4) {
                throw new IllegalArgumentException("'" + text + "' is not an IPv6 address");
            }
            try {
                out[i] = Integer.parseInt(f, 16);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + text + "' is not an IPv6 address");
            }
        }
        return out;
    }

    public static boolean looksLikeIpv6(String text) {
        return text != null && text.indexOf(':') >= 0;
    }

    public int group(int i) {
        long half = i < 4 ? high : low;
        return (int) (half >>> (16 * (3 - (i & 3)))) & 0xffff;
    }

    public boolean isZero() {
        return high == 0 && low == 0;
    }

    /** This address plus {@code n} (unsigned, wrapping at 2^128). */
    public Ip6Address plus(long n) {
        long newLow = low + n;
        long carry = Long.compareUnsigned(newLow, low) < 0 ? 1 : 0;
        return new Ip6Address(high + carry, newLow);
    }

    public Ip6Address mask(int prefixLength) {
        return new Ip6Address(high & Ip6Net.highMask(prefixLength), low & Ip6Net.lowMask(prefixLength));
    }

    public InetAddress toInetAddress() {
        byte[] b = new byte[16];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (high >>> (56 - 8 * i));
            b[8 + i] = (byte) (low >>> (56 - 8 * i));
        }
        try {
            return Inet6Address.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Override
    public int compareTo(Ip6Address o) {
        int c = Long.compareUnsigned(high, o.high);
        return c != 0 ? c : Long.compareUnsigned(low, o.low);
    }

    @Override
    public String toString() {
        int bestStart = -1;
        int bestLength = 1; // a single zero group is never compressed
        for (int i = 0; i < 8; ) {
            if (group(i) != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && group(j) == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = j;
        }
        StringBuilder sb = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLength - 1;
                continue;
            }
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
                sb.append(':');
            }
            sb.append(Integer.toHexString(group(i)));
        }
        return sb.toString();
    }
}
