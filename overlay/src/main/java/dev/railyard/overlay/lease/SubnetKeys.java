package dev.railyard.overlay.lease;

import dev.railyard.overlay.config.Ip4Net;

/** flannel's key layout: {@code <prefix>/config} and {@code <prefix>/subnets/10.1.2.0-24}. */
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
        return subnetsPrefix() + subnetName(subnet);
    }

    /** The last path element of a subnet key, e.g. {@code 10.1.2.0-24}. */
    public String subnetName(Ip4Net subnet) {
        return subnet.addressString() + "-" + subnet.prefixLength();
    }

    /**
     * Railyard's host index: public IP to subnet name, on the same etcd lease as the subnet, so a
     * restarting host finds its subnet without listing every lease. Outside {@code subnets/}, so
     * flannel never sees it.
     */
    public String hostKey(String publicIp) {
        return prefix + "/railyard-hosts/" + publicIp;
    }

    /** The subnet named by a key under {@link #subnetsPrefix()}, or null for anything else. */
    public Ip4Net parseSubnetKey(String key) {
        if (!key.startsWith(subnetsPrefix())) {
            return null;
        }
        String name = key.substring(subnetsPrefix().length());
        // flannel dual-stack keys append "-<ipv6>-<len>"; only the IPv4 part matters here
        String[] parts = name.split("-", -1);
        if (parts.length != 2 && parts.length != 4) {
            return null;
        }
        try {
            return new Ip4Net(Ip4Net.parseAddress(parts[0]), Integer.parseInt(parts[1]));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
