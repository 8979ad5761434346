package dev.railyard.proxy.userspace;

import dev.railyard.proxy.model.Cidr;
import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.ServicePort;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Who may reach a service port through its load-balancer IPs: kube-proxy's KUBE-FW-* chain as one object. Without
 * spec.loadBalancerSourceRanges (of this family) everyone may. With them, a client may when a range holds its
 * address, or, when a range holds the node's primary IP, when its address is one of the load-balancer IPs: a VIP
 * that is a local address of the node is the source of the node's own requests to it, which the range meant to
 * allow. Immutable; built once per sync of the service, asked once per new connection or UDP client.
 */
final class SourceRanges {
    static final SourceRanges ANYONE = new SourceRanges(new Cidr[0]);

    private final Cidr[] allowed;

    private SourceRanges(Cidr[] allowed) {
        this.allowed = allowed;
    }

    /** @param nodeIp this node's primary IP of the service's family, or null when it is not known */
    static SourceRanges of(ServicePort service, InetAddress nodeIp) {
        if (!service.restrictsLoadBalancerSources()) {
            return ANYONE;
        }
        List<Cidr> ranges = service.loadBalancerSourceRanges();
        List<Cidr> allowed = new ArrayList<>(ranges);
        if (nodeIp != null && ranges.stream().anyMatch(range -> range.contains(nodeIp))) {
            for (String ip : service.loadBalancerIps()) {
                allowed.add(Cidr.host(IpAddresses.parse(ip)));
            }
        }
        return new SourceRanges(allowed.toArray(new Cidr[0]));
    }

    /** Whether traffic to a load-balancer IP is filtered at all. */
    boolean restricts() {
        return allowed.length > 0;
    }

    boolean admits(InetAddress client) {
        if (allowed.length == 0) {
            return true;
        }
        // The one allocation of a check: InetAddress has no other public way to read its bits.
        byte[] address = client.getAddress();
        for (Cidr range : allowed) {
            if (range.contains(address)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return allowed.length == 0 ? "anyone" : List.of(allowed).toString();
    }
}
