package dev.railyard.overlay.backend;

import dev.railyard.overlay.ip.ExternalInterface;
import dev.railyard.overlay.ip.IpRunner;
import dev.railyard.overlay.lease.Lease;
import java.util.List;

/**
 * host-gw: each peer subnet is routed via the peer's public IP on the external interface. No
 * encapsulation, so it only works when all hosts share one L2 segment.
 */
public final class HostGwBackend extends PeerBackend {

    public HostGwBackend(IpRunner ip, ExternalInterface external) {
        super(ip, external);
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
        ipLines.add("route replace " + peer.subnet() + " via " + peer.attrs().publicIpString() + " dev " + external.name());
    }

    @Override
    protected void remove(Lease peer, List<String> ipLines, List<String> bridgeLines) {
        ipLines.add("route del " + peer.subnet() + " via " + peer.attrs().publicIpString() + " dev " + external.name());
    }
}
