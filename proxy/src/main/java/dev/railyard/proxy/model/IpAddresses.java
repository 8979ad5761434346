package dev.railyard.proxy.model;

import inet.ipaddr.AddressStringException;
import inet.ipaddr.IPAddress;
import inet.ipaddr.IPAddressString;
import inet.ipaddr.IPAddressStringParameters;

/**
 * Parsing of addresses and CIDRs from the cluster into the canonical text kube-proxy prints (Go's net.IP and
 * net.IPNet String(): lower-case, RFC 5952 compressed IPv6, network address for CIDRs).
 */
public final class IpAddresses {
    private static final IPAddressStringParameters ADDRESS = strict(false);
    private static final IPAddressStringParameters CIDR = strict(true);

    private IpAddresses() {
    }

    /** Plain dotted-quad and RFC 4291 text only: no wildcards, masks, zones or inet_aton forms. */
    private static IPAddressStringParameters strict(boolean prefixAllowed) {
        return new IPAddressStringParameters.Builder()
                .allowEmpty(false)
                .allowAll(false)
                .allowMask(false)
                .allowPrefix(prefixAllowed)
                .allowSingleSegment(false)
                .allowWildcardedSeparator(false)
                .setEmptyAsLoopback(false)
                .getIPv4AddressParametersBuilder().allowWildcardedSeparator(false).allow_inet_aton(false)
                .getParentBuilder()
                .getIPv6AddressParametersBuilder().allowWildcardedSeparator(false).allowZone(false)
                .getParentBuilder()
                .toParams();
    }

    /** A parsed single address, or an {@link IllegalArgumentException} that says why not. */
    public static IPAddress parse(String text) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("address is empty");
        }
        try {
            IPAddress address = new IPAddressString(text, ADDRESS).toAddress();
            if (address.isIPv6() && address.toIPv6().isIPv4Mapped()) {
                throw new IllegalArgumentException("\"" + text + "\" is an IPv4-mapped IPv6 address");
            }
            return address;
        } catch (AddressStringException e) {
            throw new IllegalArgumentException("\"" + text + "\" is not a valid IP address");
        }
    }

    public static IpFamily familyOf(IPAddress address) {
        return address.isIPv4() ? IpFamily.V4 : IpFamily.V6;
    }

    /** The text Go would print for this address. */
    public static String canonical(IPAddress address) {
        return address.isIPv4() ? address.toNormalizedString() : address.toCanonicalString();
    }

    /** A CIDR such as "10.0.0.0/8"; host bits are allowed and cleared, as Go's net.ParseCIDR does. */
    public static IPAddress parseCidr(String text) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("CIDR is empty");
        }
        if (text.indexOf('/') < 0) {
            throw new IllegalArgumentException("\"" + text + "\" is not a CIDR (address/prefix-length)");
        }
        try {
            IPAddress cidr = new IPAddressString(text, CIDR).toAddress();
            if (!cidr.isPrefixed()) {
                throw new IllegalArgumentException("\"" + text + "\" is not a CIDR (address/prefix-length)");
            }
            return cidr.toPrefixBlock();
        } catch (AddressStringException e) {
            throw new IllegalArgumentException("\"" + text + "\" is not a valid CIDR");
        }
    }

    /** "10.0.0.0/8", "2001:db8::/32". */
    public static String canonicalCidr(IPAddress cidr) {
        IPAddress network = cidr.getLower().withoutPrefixLength();
        return canonical(network) + "/" + cidr.getNetworkPrefixLength();
    }
}
