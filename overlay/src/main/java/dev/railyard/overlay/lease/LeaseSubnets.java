package dev.railyard.overlay.lease;

import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.config.Ip6Net;

/**
 * The pod subnets one host holds: IPv4, IPv6 or both. This pair is a lease's identity, as in flannel
 * ({@code sameSubnet}): in a single-family network the other half is null everywhere.
 */
public record LeaseSubnets(Ip4Net ipv4, Ip6Net ipv6) implements Comparable<LeaseSubnets> {

    public LeaseSubnets {
        if (ipv4 == null && ipv6 == null) {
            throw new IllegalArgumentException("a lease needs an IPv4 or an IPv6 subnet");
        }
    }

    public static LeaseSubnets of(Ip4Net ipv4) {
        return new LeaseSubnets(ipv4, null);
    }

    /**
     * flannel's key name: {@code 10.1.2.0-24}, {@code 10.1.2.0-24&fc00::-64}, and for IPv6 alone
     * {@code 0.0.0.0-0&fc00::-64} (flannel's MakeSubnetKey with an empty IPv4 part).
     */
    public String keyName() {
        String v4 = ipv4 == null ? "0.0.0.0-0" : ipv4.addressString() + "-" + ipv4.prefixLength();
        return ipv6 == null ? v4 : v4 + "&" + ipv6.addressString() + "-" + ipv6.prefixLength();
    }

    /** Parses {@link #keyName()}; null for anything else. */
    public static LeaseSubnets parseKeyName(String name) {
        int amp = name.indexOf('&');
        String v4 = amp < 0 ? name : name.substring(0, amp);
        try {
            int dash = v4.lastIndexOf('-');
            if (dash < 0) {
                return null;
            }
            Ip4Net four = new Ip4Net(Ip4Net.parseAddress(v4.substring(0, dash)), Integer.parseInt(v4.substring(dash + 1)));
            Ip6Net six = null;
            if (amp >= 0) {
                String v6 = name.substring(amp + 1);
                int d6 = v6.lastIndexOf('-');
                if (d6 < 0) {
                    return null;
                }
                six = new Ip6Net(dev.railyard.overlay.config.Ip6Address.parse(v6.substring(0, d6)),
                        Integer.parseInt(v6.substring(d6 + 1)));
            }
            if (four.prefixLength() == 0 && four.address() == 0) {
                return six == null ? null : new LeaseSubnets(null, six);
            }
            return new LeaseSubnets(four, six);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    @Override
    public int compareTo(LeaseSubnets o) {
        int c = compare(ipv4, o.ipv4);
        return c != 0 ? c : compare(ipv6, o.ipv6);
    }

    private static <T extends Comparable<T>> int compare(T a, T b) {
        return a == null ? (b == null ? 0 : -1) : b == null ? 1 : a.compareTo(b);
    }

    @Override
    public String toString() {
        return ipv4 == null ? String.valueOf(ipv6) : ipv6 == null ? ipv4.toString() : ipv4 + "," + ipv6;
    }
}
