package dev.railyard.proxy.inspect.nftables;

import dev.railyard.proxy.model.IpAddresses;
import inet.ipaddr.IPAddress;

import java.math.BigInteger;
import java.util.Locale;

/**
 * One value a rule or a set element holds for one field: an address (single, prefix or range), a number (single
 * or range: protocols, ports, marks, numgen results) or a symbol (ct states, fib types, interface names).
 */
sealed interface Value {

    /** Whether it is one exact value (then {@link #key()} identifies it), not a prefix or range. */
    boolean exact();

    /** The text that identifies an exact value, as the packet's own field value is written for lookups. */
    String key();

    /** Addresses from {@code low} to {@code high} of one IP version. */
    record Addr(int version, BigInteger low, BigInteger high, String text) implements Value {
        @Override
        public boolean exact() {
            return low.equals(high);
        }

        @Override
        public String key() {
            return text;
        }

        boolean contains(int packetVersion, BigInteger address) {
            return version == packetVersion && low.compareTo(address) <= 0 && high.compareTo(address) >= 0;
        }
    }

    /** Numbers from {@code low} to {@code high}. */
    record Num(long low, long high) implements Value {
        @Override
        public boolean exact() {
            return low == high;
        }

        @Override
        public String key() {
            return Long.toString(low);
        }

        boolean contains(long value) {
            return low <= value && value <= high;
        }
    }

    /** A name; a trailing {@code *} (interface names) matches any name that starts with what precedes it. */
    record Sym(String text) implements Value {
        @Override
        public boolean exact() {
            return !text.endsWith("*");
        }

        @Override
        public String key() {
            return text;
        }

        boolean matches(String value) {
            return text.endsWith("*") ? value.startsWith(text.substring(0, text.length() - 1)) : text.equals(value);
        }
    }

    /** The canonical lookup text of a packet's address. */
    static String addressKey(IPAddress address) {
        return IpAddresses.canonical(address);
    }

    /**
     * Reads {@code token} as a value of a field of {@code kind}.
     *
     * @throws IllegalArgumentException saying why it is not one
     */
    static Value parse(Selector.Kind kind, String token) {
        String text = unquote(token);
        if (kind.isAddress()) {
            return address(text);
        }
        switch (kind) {
            case L4PROTO -> {
                int number = Selector.protocolNumber(text);
                if (number >= 0) {
                    return new Num(number, number);
                }
                return number(text, 255);
            }
            case SPORT, DPORT -> {
                return number(text, 65535);
            }
            case MARK -> {
                return number(text, 0xffffffffL);
            }
            case NUMGEN -> {
                return number(text, 0xffffffffL);
            }
            case NFPROTO -> {
                String name = text.toLowerCase(Locale.ROOT);
                if (!name.equals("ipv4") && !name.equals("ipv6")) {
                    throw new IllegalArgumentException("\"" + token + "\" is not ipv4 or ipv6");
                }
                return new Sym(name);
            }
            default -> {
                if (text.isEmpty()) {
                    throw new IllegalArgumentException("empty value");
                }
                return new Sym(kind == Selector.Kind.IIFNAME || kind == Selector.Kind.OIFNAME ? text
                        : text.toLowerCase(Locale.ROOT));
            }
        }
    }

    private static Value address(String text) {
        Value fast = plainIpv4(text);
        if (fast != null) {
            return fast;
        }
        try {
            int dash = text.indexOf('-');
            if (dash > 0) {
                IPAddress low = IpAddresses.parse(text.substring(0, dash));
                IPAddress high = IpAddresses.parse(text.substring(dash + 1));
                if (low.getIPVersion() != high.getIPVersion() || low.getValue().compareTo(high.getValue()) > 0) {
                    throw new IllegalArgumentException("\"" + text + "\" is not an address range");
                }
                return new Addr(version(low), low.getValue(), high.getValue(), text);
            }
            if (text.indexOf('/') >= 0) {
                IPAddress cidr = IpAddresses.parseCidr(text);
                if (cidr.getNetworkPrefixLength() == cidr.getBitCount()) {
                    IPAddress single = cidr.getLower().withoutPrefixLength();
                    return new Addr(version(single), single.getValue(), single.getValue(),
                            IpAddresses.canonical(single));
                }
                return new Addr(version(cidr), cidr.getLower().getValue(), cidr.getUpper().getValue(),
                        IpAddresses.canonicalCidr(cidr));
            }
            IPAddress single = IpAddresses.parse(text);
            return new Addr(version(single), single.getValue(), single.getValue(), IpAddresses.canonical(single));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("\"" + text + "\" is not an address, prefix or address range");
        }
    }

    /**
     * A dotted quad or dotted-quad prefix written as nft writes them (no leading zeros), read without the general
     * parser (rulesets hold hundreds of thousands of them); null for anything else.
     */
    private static Value plainIpv4(String text) {
        int slash = text.indexOf('/');
        long address = dottedQuad(slash < 0 ? text : text.substring(0, slash));
        if (address < 0) {
            return null;
        }
        if (slash < 0) {
            BigInteger value = BigInteger.valueOf(address);
            return new Addr(4, value, value, text);
        }
        int length;
        try {
            length = Integer.parseInt(text.substring(slash + 1));
        } catch (NumberFormatException e) {
            return null;
        }
        if (length < 0 || length > 32 || text.length() - slash - 1 != Integer.toString(length).length()) {
            return null;
        }
        long mask = length == 0 ? 0 : (0xffffffffL << (32 - length)) & 0xffffffffL;
        long network = address & mask;
        long last = network | (~mask & 0xffffffffL);
        String networkText = quad(network);
        return new Addr(4, BigInteger.valueOf(network), BigInteger.valueOf(last),
                length == 32 ? networkText : networkText + "/" + length);
    }

    /** The value of "a.b.c.d" (each 0-255, no leading zeros), or -1. */
    private static long dottedQuad(String text) {
        long value = 0;
        int parts = 0;
        int part = -1;
        int digits = 0;
        for (int i = 0; i <= text.length(); i++) {
            char c = i < text.length() ? text.charAt(i) : '.';
            if (c == '.') {
                if (digits == 0 || part > 255 || parts == 4) {
                    return -1;
                }
                value = value << 8 | part;
                parts++;
                part = -1;
                digits = 0;
            } else if (c >= '0' && c <= '9') {
                if (digits > 0 && part == 0) {
                    return -1; // a leading zero
                }
                part = (part < 0 ? 0 : part) * 10 + (c - '0');
                digits++;
                if (digits > 3) {
                    return -1;
                }
            } else {
                return -1;
            }
        }
        return parts == 4 ? value : -1;
    }

    private static String quad(long value) {
        return (value >> 24 & 255) + "." + (value >> 16 & 255) + "." + (value >> 8 & 255) + "." + (value & 255);
    }

    static int version(IPAddress address) {
        return address.isIPv4() ? 4 : 6;
    }

    private static Num number(String text, long max) {
        int dash = text.indexOf('-', 1);
        if (dash > 0) {
            long low = parseNumber(text.substring(0, dash), max);
            long high = parseNumber(text.substring(dash + 1), max);
            if (low > high) {
                throw new IllegalArgumentException("\"" + text + "\" is an empty range");
            }
            return new Num(low, high);
        }
        long value = parseNumber(text, max);
        return new Num(value, value);
    }

    private static long parseNumber(String text, long max) {
        long value;
        try {
            value = text.startsWith("0x") || text.startsWith("0X") ? Long.parseLong(text.substring(2), 16)
                    : Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("\"" + text + "\" is not a number");
        }
        if (value < 0 || value > max) {
            throw new IllegalArgumentException(text + " is out of range 0-" + max);
        }
        return value;
    }

    static String unquote(String token) {
        if (token.length() >= 2 && token.startsWith("\"") && token.endsWith("\"")) {
            return token.substring(1, token.length() - 1);
        }
        return token;
    }
}
