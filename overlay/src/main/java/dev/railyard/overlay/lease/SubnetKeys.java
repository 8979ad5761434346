package dev.railyard.overlay.lease;

import dev.railyard.overlay.config.Ip4Net;

/**
 * flannel's key layout: {@code <prefix>/config} and {@code <prefix>/subnets/10.1.2.0-24}, or with IPv6
 * {@code <prefix>/subnets/10.1.2.0-24&fc00:0:0:1::-64}.
 */
public final class SubnetKeys {
    private final String prefix;

    public SubnetKeys(String prefix) {
        String p = prefix == null || prefix.isBlank() ? "/coreos.com/network" : prefix.trim();
        while (p.length() > 1 && p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        this.prefix = p;
    }

    public String prefix() {
        return prefix;
    }

    public String configKey() {
        return prefix + "/config";
    }

    public String subnetsPrefix() {
        return prefix + "/subnets/";
    }

    public String subnetKey(Ip4Net subnet) {
        return subnetKey(LeaseSubnets.of(subnet));
    }

    public String subnetKey(LeaseSubnets subnets) {
        return subnetsPrefix() + subnets.keyName();
    }

    /** The last path element of a subnet key, e.g. {@code 10.1.2.0-24}. */
    public String subnetName(Ip4Net subnet) {
        return LeaseSubnets.of(subnet).keyName();
    }

    /**
     * Railyard's host index: public IP to subnet key name, on the same etcd lease as the subnet, so a
     * restarting host finds its subnet without listing every lease. Outside {@code subnets/}, so
     * flannel never sees it.
     */
    public String hostKey(String publicIp) {
        return prefix + "/railyard-hosts/" + publicIp;
    }

    /** The subnets named by a key under {@link #subnetsPrefix()}, or null for anything else. */
    public LeaseSubnets parseSubnetKey(String key) {
        if (!key.startsWith(subnetsPrefix())) {
            return null;
        }
        return LeaseSubnets.parseKeyName(key.substring(subnetsPrefix().length()));
    }
}
