package dev.railyard.overlay.backend;

import dev.railyard.overlay.ip.ExternalInterface;
import dev.railyard.overlay.ip.IpException;
import dev.railyard.overlay.ip.IpRunner;
import dev.railyard.overlay.lease.Lease;
import java.util.List;

/**
 * host-gw: each peer subnet is routed via the peer's public IP (IPv6 subnet via its public IPv6) on the external
 * interface. No encapsulation, so it only works when all hosts share one L2 segment.
 */
public final class HostGwBackend extends PeerBackend {

    public HostGwBackend(IpRunner ip, ExternalInterface external) {
        super(ip, external);
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
}
