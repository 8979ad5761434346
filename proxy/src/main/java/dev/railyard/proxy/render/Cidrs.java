package dev.railyard.proxy.render;

import dev.railyard.proxy.model.IpAddresses;

/** CIDR membership for the few rules that depend on it; not on the per-endpoint path. */
final class Cidrs {
    private Cidrs() {
    }

    static boolean contains(String cidr, String ip) {
        return IpAddresses.parseCidr(cidr).contains(IpAddresses.parse(ip));
    }
}
