package dev.railyard.overlay.backend;

import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.config.Ip6Net;
import dev.railyard.overlay.config.NetworkConfig;
import dev.railyard.overlay.ip.ExternalInterface;
import dev.railyard.overlay.ip.IpException;
import dev.railyard.overlay.ip.IpRunner;
import dev.railyard.overlay.lease.Lease;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * host-gw: each peer subnet is routed via the peer's public IP (IPv6 subnet via its public IPv6) on the external
 * interface. No encapsulation, so it only works when all hosts share one L2 segment.
 */
public final class HostGwBackend extends PeerBackend {

    private final NetworkConfig config;

    public HostGwBackend(IpRunner ip, ExternalInterface external) {
        this(ip, external, null);
    }

    /** @param config the network, whose routes on the interface that no peer stands for are removed at start */
    public HostGwBackend(IpRunner ip, ExternalInterface external, NetworkConfig config) {
        super(ip, external);
        this.config = config;
        // as flannel: a public address that is not the interface's means NAT, which routes cannot cross
        if (external.hasIpv4() && external.publicIp() != external.address()
                || external.hasIpv6() && !external.publicIpv6().equals(external.address6())) {
            throw new IpException("the public IP differs from the address of " + external.name()
                    + ", so this host is probably behind NAT, which the host-gw backend cannot route through");
        }
    }

    @Override
    public String type() {
        return "host-gw";
    }

    @Override
    public String backendDataJson() {
        return "null";
    }

    @Override
    public int mtu() {
        return external.mtu();
    }

    @Override
    protected boolean accepts(Lease peer) {
        return true;
    }

    @Override
    protected void add(Lease peer, List<String> ipLines, List<String> bridgeLines) {
        if (external.hasIpv4()) {
            ipLines.add("route replace " + peer.subnet() + " via " + peer.attrs().publicIpString() + " dev " + external.name());
        }
        if (external.hasIpv6()) {
            ipLines.add("route replace " + peer.ipv6Subnet() + " via " + peer.attrs().publicIpv6() + " dev " + external.name());
        }
    }

    @Override
    protected void remove(Lease peer, List<String> ipLines, List<String> bridgeLines) {
        if (external.hasIpv4()) {
            ipLines.add("route del " + peer.subnet() + " via " + peer.attrs().publicIpString() + " dev " + external.name());
        }
        if (external.hasIpv6()) {
            ipLines.add("route del " + peer.ipv6Subnet() + " via " + peer.attrs().publicIpv6() + " dev " + external.name());
        }
    }

    @Override
    protected void removeStrays(Collection<Lease> desired, List<String> ipLines, List<String> bridgeLines) {
        if (config == null) {
            return;
        }
        Set<String> wanted = new HashSet<>();
        desired.forEach(l -> wanted.add(String.valueOf(l.subnet())));
        desired.forEach(l -> wanted.add(String.valueOf(l.ipv6Subnet())));
        for (KernelEntries.Route r : KernelEntries.gatewayRoutes(ip, external.name(), false)) {
            if (config.enableIPv4() && !wanted.contains(r.dst()) && inside4(r.dst())) {
                ipLines.add("route del " + r.dst() + " via " + r.gateway() + " dev " + external.name());
            }
        }
        for (KernelEntries.Route r : KernelEntries.gatewayRoutes(ip, external.name(), true)) {
            if (config.enableIPv6() && !wanted.contains(r.dst()) && inside6(r.dst())) {
                ipLines.add("route del " + r.dst() + " via " + r.gateway() + " dev " + external.name());
            }
        }
    }

    private boolean inside4(String dst) {
        try {
            return config.network().contains(Ip4Net.parse(dst));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private boolean inside6(String dst) {
        try {
            return config.ipv6Network().contains(Ip6Net.parse(dst));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
