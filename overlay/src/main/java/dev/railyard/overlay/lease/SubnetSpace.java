package dev.railyard.overlay.lease;

import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.config.Ip6Net;
import dev.railyard.overlay.config.NetworkConfig;
import java.util.function.LongConsumer;

/**
 * The leases a network config can hand out, numbered from 0. In a dual-stack network the i-th lease pairs the
 * i-th IPv4 subnet with the i-th IPv6 subnet, so a lease key ({@code v4&v6}) is taken exactly when its IPv4
 * subnet is: etcd's create-if-absent on that one key then keeps both families unique between Railyard hosts.
 * The space is as large as the smaller family's range, which is the network's real capacity anyway.
 */
public final class SubnetSpace {
    private final NetworkConfig config;
    private final long count;

    public SubnetSpace(NetworkConfig config) {
        this.config = config;
        long c = Long.MAX_VALUE;
        if (config.ipv4() != null) {
            c = Math.min(c, config.ipv4().count());
        }
        if (config.ipv6() != null) {
            c = Math.min(c, config.ipv6().count());
        }
        this.count = c;
    }

    public NetworkConfig config() {
        return config;
    }

    public long count() {
        return count;
    }

    public LeaseSubnets at(long index) {
        if (index < 0 || index >= count) {
            throw new IndexOutOfBoundsException(index);
        }
        return new LeaseSubnets(config.ipv4() == null ? null : config.ipv4().at(index),
                config.ipv6() == null ? null : config.ipv6().at(index));
    }

    /** Whether a host may hold {@code subnets} under this config: the families match and each is in range. */
    public boolean isAllocatable(LeaseSubnets subnets) {
        if (subnets == null || (config.ipv4() == null) != (subnets.ipv4() == null)
                || (config.ipv6() == null) != (subnets.ipv6() == null)) {
            return false;
        }
        return (subnets.ipv4() == null || config.ipv4().isAllocatable(subnets.ipv4()) && config.ipv4().indexOf(subnets.ipv4()) < count)
                && (subnets.ipv6() == null || config.ipv6().isAllocatable(subnets.ipv6()) && config.ipv6().indexOf(subnets.ipv6()) < count);
    }

    /**
     * The indexes a lease holding {@code subnets} makes unavailable: that of its IPv4 subnet and that of its IPv6
     * subnet (different ones when flanneld paired them differently). Anything out of range is skipped.
     */
    public void indexesOf(LeaseSubnets subnets, LongConsumer sink) {
        Ip4Net four = subnets.ipv4();
        if (four != null && config.ipv4() != null && config.ipv4().isAllocatable(four)) {
            long i = config.ipv4().indexOf(four);
            if (i < count) {
                sink.accept(i);
            }
        }
        Ip6Net six = subnets.ipv6();
        if (six != null && config.ipv6() != null && config.ipv6().isAllocatable(six)) {
            long i = config.ipv6().indexOf(six);
            if (i < count) {
                sink.accept(i);
            }
        }
    }

    /** "10.0.0.0/16 (255 /24 subnets from 10.0.1.0 to 10.0.255.0)", and the same for IPv6. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        if (config.ipv4() != null) {
            sb.append("network ").append(config.network()).append(" (").append(config.ipv4().count()).append(" /")
                    .append(config.subnetLen()).append(" subnets from ").append(Ip4Net.formatAddress(config.subnetMin()))
                    .append(" to ").append(Ip4Net.formatAddress(config.subnetMax())).append(')');
        }
        if (config.ipv6() != null) {
            if (sb.length() > 0) {
                sb.append(" and ");
            }
            sb.append("IPv6 network ").append(config.ipv6Network()).append(" (").append(config.ipv6().count())
                    .append(" /").append(config.ipv6().subnetLen()).append(" subnets from ")
                    .append(config.ipv6().subnetMin()).append(" to ").append(config.ipv6().subnetMax()).append(')');
        }
        return sb.toString();
    }
}
