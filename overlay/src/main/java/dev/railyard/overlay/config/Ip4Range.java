package dev.railyard.overlay.config;

/** The IPv4 part of a network config: {@code Network}, {@code SubnetLen}, {@code SubnetMin}, {@code SubnetMax}. */
public record Ip4Range(Ip4Net network, int subnetLen, int subnetMin, int subnetMax) implements SubnetRange<Ip4Net> {

    public Ip4Range {
        if (network == null) {
            throw new ConfigException("network config field Network: missing");
        }
        if (subnetLen > 30) {
            throw new ConfigException("network config field SubnetLen: " + subnetLen
                    + " leaves no room for a bridge and pods; it must be at most 30");
        }
        if (subnetLen < network.prefixLength()) {
            throw new ConfigException("network config field SubnetLen: /" + subnetLen
                    + " is larger than the Network " + network);
        }
        checkBound("SubnetMin", subnetMin, network, subnetLen);
        checkBound("SubnetMax", subnetMax, network, subnetLen);
        if (Integer.compareUnsigned(subnetMin, subnetMax) > 0) {
            throw new ConfigException("network config cannot hold one subnet: SubnetMin "
                    + Ip4Net.formatAddress(subnetMin) + " is above SubnetMax " + Ip4Net.formatAddress(subnetMax)
                    + " (Network " + network + ", SubnetLen " + subnetLen + ")");
        }
    }

    private static void checkBound(String field, int a, Ip4Net network, int subnetLen) {
        if (!network.contains(a)) {
            throw new ConfigException("network config field " + field + ": " + Ip4Net.formatAddress(a)
                    + " is not in the Network " + network);
        }
        if ((a & Ip4Net.mask(subnetLen)) != a) {
            throw new ConfigException("network config field " + field + ": " + Ip4Net.formatAddress(a)
                    + " is not on a /" + subnetLen + " boundary");
        }
    }

    @Override
    public long count() {
        return ((Integer.toUnsignedLong(subnetMax) - Integer.toUnsignedLong(subnetMin)) >>> (32 - subnetLen)) + 1;
    }

    @Override
    public Ip4Net at(long index) {
        if (index < 0 || index >= count()) {
            throw new IndexOutOfBoundsException(index);
        }
        return new Ip4Net((int) (Integer.toUnsignedLong(subnetMin) + (index << (32 - subnetLen))), subnetLen);
    }

    @Override
    public boolean isAllocatable(Ip4Net subnet) {
        if (subnet == null || subnet.prefixLength() != subnetLen || !network.contains(subnet)) {
            return false;
        }
        long a = Integer.toUnsignedLong(subnet.address());
        return a >= Integer.toUnsignedLong(subnetMin) && a <= Integer.toUnsignedLong(subnetMax);
    }

    @Override
    public long indexOf(Ip4Net subnet) {
        return (Integer.toUnsignedLong(subnet.address()) - Integer.toUnsignedLong(subnetMin)) >>> (32 - subnetLen);
    }
}
