package dev.railyard.overlay.config;

import java.math.BigInteger;

/**
 * The IPv6 part of a network config: {@code IPv6Network}, {@code IPv6SubnetLen}, {@code IPv6SubnetMin},
 * {@code IPv6SubnetMax}. Index arithmetic goes through BigInteger: a host needs it once per acquisition.
 */
public record Ip6Range(Ip6Net network, int subnetLen, Ip6Address subnetMin, Ip6Address subnetMax)
        implements SubnetRange<Ip6Net> {

    /** Indexes are longs; ranges with more subnets than this use only the first this many. */
    public static final long MAX_COUNT = 1L << 62;

    public Ip6Range {
        if (network == null) {
            throw new ConfigException("network config field IPv6Network: missing");
        }
        if (subnetLen > 126) {
            throw new ConfigException("network config field IPv6SubnetLen: " + subnetLen
                    + " leaves no room for a bridge and pods; it must be at most 126");
        }
        if (subnetLen < network.prefixLength()) {
            throw new ConfigException("network config field IPv6SubnetLen: /" + subnetLen
                    + " is larger than the IPv6Network " + network);
        }
        checkBound("IPv6SubnetMin", subnetMin, network, subnetLen);
        checkBound("IPv6SubnetMax", subnetMax, network, subnetLen);
        if (subnetMin.compareTo(subnetMax) > 0) {
            throw new ConfigException("network config cannot hold one IPv6 subnet: IPv6SubnetMin " + subnetMin
                    + " is above IPv6SubnetMax " + subnetMax + " (IPv6Network " + network + ", IPv6SubnetLen "
                    + subnetLen + ")");
        }
    }

    private static void checkBound(String field, Ip6Address a, Ip6Net network, int subnetLen) {
        if (!network.contains(a)) {
            throw new ConfigException("network config field " + field + ": " + a + " is not in the IPv6Network " + network);
        }
        if (!a.mask(subnetLen).equals(a)) {
            throw new ConfigException("network config field " + field + ": " + a + " is not on a /" + subnetLen + " boundary");
        }
    }

    static BigInteger big(Ip6Address a) {
        byte[] b = new byte[17];
        for (int i = 0; i < 8; i++) {
            b[1 + i] = (byte) (a.high() >>> (56 - 8 * i));
            b[9 + i] = (byte) (a.low() >>> (56 - 8 * i));
        }
        return new BigInteger(b);
    }

    static Ip6Address address(BigInteger v) {
        return new Ip6Address(v.shiftRight(64).longValue(), v.longValue());
    }

    @Override
    public long count() {
        BigInteger n = big(subnetMax).subtract(big(subnetMin)).shiftRight(128 - subnetLen).add(BigInteger.ONE);
        return n.bitLength() > 62 ? MAX_COUNT : n.longValueExact();
    }

    @Override
    public Ip6Net at(long index) {
        if (index < 0 || index >= count()) {
            throw new IndexOutOfBoundsException(index);
        }
        return new Ip6Net(address(big(subnetMin).add(BigInteger.valueOf(index).shiftLeft(128 - subnetLen))), subnetLen);
    }

    @Override
    public boolean isAllocatable(Ip6Net subnet) {
        return subnet != null && subnet.prefixLength() == subnetLen && network.contains(subnet)
                && subnet.address().compareTo(subnetMin) >= 0 && subnet.address().compareTo(subnetMax) <= 0
                && indexOf(subnet) < count();
    }

    @Override
    public long indexOf(Ip6Net subnet) {
        BigInteger i = big(subnet.address()).subtract(big(subnetMin)).shiftRight(128 - subnetLen);
        return i.bitLength() > 62 ? MAX_COUNT : i.longValueExact();
    }
}
