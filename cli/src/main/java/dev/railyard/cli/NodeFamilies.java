package dev.railyard.cli;

import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.IpFamily;

import java.util.ArrayList;
import java.util.List;

/**
 * Which IP families a node programs, as {@code railyard proxy} decides it: IPv4 always, IPv6 too when asked for or
 * when one of the node's addresses or pod CIDRs is IPv6 (kube-proxy: "IPv6 node IP, assume IPv6 operation").
 */
final class NodeFamilies {
    private NodeFamilies() {
    }

    /**
     * @param ipv6 IPv6 asked for whatever the addresses say
     * @throws IllegalArgumentException naming {@code --node-ip} if an address does not parse
     */
    static List<IpFamily> of(List<String> nodeIps, List<String> clusterCidrs, boolean ipv6) {
        boolean hasIpv6 = ipv6;
        for (String ip : nodeIps) {
            hasIpv6 |= IpAddresses.familyOf(parseIp("--node-ip", ip)) == IpFamily.V6;
        }
        for (String cidr : clusterCidrs) {
            hasIpv6 |= cidr.contains(":");
        }
        List<IpFamily> families = new ArrayList<>(List.of(IpFamily.V4));
        if (hasIpv6) {
            families.add(IpFamily.V6);
        }
        return List.copyOf(families);
    }

    static inet.ipaddr.IPAddress parseIp(String flag, String text) {
        try {
            return IpAddresses.parse(text.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(flag + ": " + e.getMessage());
        }
    }
}
