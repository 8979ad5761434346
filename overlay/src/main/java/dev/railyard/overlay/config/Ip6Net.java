package dev.railyard.overlay.config;

/** An IPv6 network: an address with its host bits clear and a prefix length. */
public record Ip6Net(Ip6Address address, int prefixLength) implements Comparable<Ip6Net> {

    public Ip6Net {
        if (address == null) {
            throw new IllegalArgumentException("missing address");
        }
        if (prefixLength < 0 || prefixLength > 128) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " is outside 0..128");
        }
        if (!address.mask(prefixLength).equals(address)) {
            throw new IllegalArgumentException(address + "/" + prefixLength + " has host bits set; did you mean "
                    + address.mask(prefixLength) + "/" + prefixLength + "?");
        }
    }

    /** Parses {@code addr/len}. */
    public static Ip6Net parse(String cidr) {
        if (cidr == null) {
            throw new IllegalArgumentException("missing CIDR");
        }
        int slash = cidr.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("'" + cidr + "' is not a CIDR (expected an IPv6 address/len)");
        }
        int len;
        try {
            len = Integer.parseInt(cidr.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + cidr + "' has a prefix length that is not a number");
        }
        return new Ip6Net(Ip6Address.parse(cidr.substring(0, slash)), len);
    }

    static long highMask(int prefixLength) {
        return prefixLength <= 0 ? 0 : prefixLength >= 64 ? -1L : -1L << (64 - prefixLength);
    }

    static long lowMask(int prefixLength) {
        return prefixLength <= 64 ? 0 : prefixLength >= 128 ? -1L : -1L << (128 - prefixLength);
    }

    public boolean contains(Ip6Address ip) {
        return ip.mask(prefixLength).equals(address);
    }

    public boolean contains(Ip6Net other) {
        return other.prefixLength >= prefixLength && contains(other.address);
    }

    /** The address {@code offset} places into the network. */
    public Ip6Address addressAt(long offset) {
        return address.plus(offset);
    }

    public String addressString() {
        return address.toString();
    }

    @Override
    public int compareTo(Ip6Net o) {
        int c = address.compareTo(o.address);
        return c != 0 ? c : Integer.compare(prefixLength, o.prefixLength);
    }

    @Override
    public String toString() {
        return address + "/" + prefixLength;
    }
}
