package dev.railyard.overlay.backend;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.railyard.overlay.config.BackendConfig;
import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.ip.ExternalInterface;
import dev.railyard.overlay.ip.IpRunner;
import dev.railyard.overlay.lease.Lease;
import dev.railyard.overlay.lease.StoredNodeState;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * vxlan, laid out as flannel lays it out so mixed clusters interoperate: device {@code flannel.<VNI>} (IPv4) and
 * {@code flannel-v6.<VNI>} (IPv6), each holding the first address of our subnet of its family as a host route, and
 * per peer a route {@code subnet via <peer subnet address> onlink}, a permanent neighbour entry mapping that
 * address to the peer's VTEP MAC, and an FDB entry sending that MAC to the peer's public address. With
 * DirectRouting, peers on our own L2 network get a plain host-gw route instead and skip encapsulation.
 */
public final class VxlanBackend extends PeerBackend {
    private static final Logger log = LoggerFactory.getLogger(VxlanBackend.class);
    private static final int VXLAN_OVERHEAD = 50;
    // an IPv6 outer header is 20 bytes longer; flannel uses 50 for both and lets large IPv6 packets fragment
    private static final int VXLAN_V6_OVERHEAD = 70;

    private final BackendConfig config;
    private final VxlanDevice v4;
    private final VxlanDevice v6;
    private Lease own;

    public VxlanBackend(IpRunner ip, ExternalInterface external, BackendConfig config) {
        this(ip, external, config, StoredNodeState.NONE);
    }

    /** @param stored VTEP MACs an earlier run published (kube mode's node annotations), reused as flannel does */
    public VxlanBackend(IpRunner ip, ExternalInterface external, BackendConfig config, StoredNodeState stored) {
        super(ip, external);
        this.config = config;
        this.v4 = !external.hasIpv4() ? null : new VxlanDevice(ip, false, config.vni(), config.port(),
                Ip4Net.formatAddress(external.address()), external.name(), external.mtu() - VXLAN_OVERHEAD, stored.vtepMac());
        this.v6 = !external.hasIpv6() ? null : new VxlanDevice(ip, true, config.vni(), config.port(),
                external.address6().toString(), external.name(), external.mtu() - VXLAN_V6_OVERHEAD, stored.vtepMacV6());
    }

    /** The IPv4 device's name ({@code flannel.<VNI>}), or null without IPv4. */
    public String device() {
        return v4 == null ? null : v4.name;
    }

    /** The IPv6 device's name ({@code flannel-v6.<VNI>}), or null without IPv6. */
    public String device6() {
        return v6 == null ? null : v6.name;
    }

    /** Creates (or re-creates, if their parameters differ) the VXLAN devices and reads their MACs. */
    public VxlanBackend prepare() {
        if (v4 != null) {
            v4.prepare();
        }
        if (v6 != null) {
            v6.prepare();
        }
        return this;
    }

    @Override
    public String type() {
        return "vxlan";
    }

    @Override
    public String backendDataJson() {
        return data(v4);
    }

    @Override
    public String backendV6DataJson() {
        return data(v6);
    }

    private String data(VxlanDevice device) {
        if (device == null) {
            return "null";
        }
        if (device.mac() == null) {
            throw new IllegalStateException("prepare() the VXLAN device before publishing its MAC");
        }
        JsonObject o = new JsonObject();
        o.addProperty("VNI", config.vni());
        o.addProperty("VtepMAC", device.mac());
        return o.toString();
    }

    @Override
    public int mtu() {
        return external.mtu() - (v6 != null ? VXLAN_V6_OVERHEAD : VXLAN_OVERHEAD);
    }

    @Override
    public synchronized void localLease(Lease own) {
        super.localLease(own);
        this.own = own;
        if (v4 != null) {
            v4.assign(own.subnet().addressString() + "/32");
        }
        if (v6 != null) {
            v6.assign(own.ipv6Subnet().addressString() + "/128");
        }
    }

    @Override
    protected boolean accepts(Lease peer) {
        if (v4 != null && !directRoute(peer) && vtepMac(peer.attrs().backendData()) == null) {
            log.warn("ignoring vxlan lease {} of {}: BackendData has no valid VtepMAC (a MAC such as "
                    + "aa:bb:cc:dd:ee:ff): {}", peer.subnets(), peer.attrs().hostName(), peer.attrs().backendData());
            return false;
        }
        if (v6 != null && !directRoute6(peer) && vtepMac(peer.attrs().backendV6Data()) == null) {
            log.warn("ignoring vxlan lease {} of {}: BackendV6Data has no valid VtepMAC (a MAC such as "
                    + "aa:bb:cc:dd:ee:ff): {}", peer.subnets(), peer.attrs().hostName(), peer.attrs().backendV6Data());
            return false;
        }
        return true;
    }

    private boolean directRoute(Lease peer) {
        return config.directRouting() && external.network().contains(peer.attrs().publicIp());
    }

    private boolean directRoute6(Lease peer) {
        return config.directRouting() && external.network6().contains(peer.attrs().publicIpv6());
    }

    private static String vtepMac(JsonElement d) {
        if (d == null || !d.isJsonObject() || !d.getAsJsonObject().has("VtepMAC")) {
            return null;
        }
        JsonElement mac = d.getAsJsonObject().get("VtepMAC");
        String text = mac.isJsonPrimitive() ? mac.getAsString() : "";
        // the MAC goes into an ip/bridge batch line: only a MAC may get there
        return text.matches("[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}") ? text : null;
    }

    @Override
    protected void add(Lease peer, List<String> ipLines, List<String> bridgeLines) {
        if (v4 != null) {
            String subnet = peer.subnet().toString();
            String publicIp = peer.attrs().publicIpString();
            if (directRoute(peer)) {
                ipLines.add("route replace " + subnet + " via " + publicIp + " dev " + external.name());
            } else {
                addVia(v4, subnet, peer.subnet().addressString(), vtepMac(peer.attrs().backendData()), publicIp,
                        ipLines, bridgeLines);
            }
        }
        if (v6 != null) {
            String subnet = peer.ipv6Subnet().toString();
            String publicIp = peer.attrs().publicIpv6().toString();
            if (directRoute6(peer)) {
                ipLines.add("route replace " + subnet + " via " + publicIp + " dev " + external.name());
            } else {
                addVia(v6, subnet, peer.ipv6Subnet().addressString(), vtepMac(peer.attrs().backendV6Data()), publicIp,
                        ipLines, bridgeLines);
            }
        }
    }

    private static void addVia(VxlanDevice dev, String subnet, String gw, String mac, String publicIp,
                               List<String> ipLines, List<String> bridgeLines) {
        bridgeLines.add("fdb replace " + mac + " dev " + dev.name + " dst " + publicIp + " self permanent");
        ipLines.add("neigh replace " + gw + " lladdr " + mac + " dev " + dev.name + " nud permanent");
        ipLines.add("route replace " + subnet + " via " + gw + " dev " + dev.name + " onlink");
    }

    @Override
    protected void remove(Lease peer, List<String> ipLines, List<String> bridgeLines) {
        if (v4 != null) {
            String publicIp = peer.attrs().publicIpString();
            if (directRoute(peer)) {
                ipLines.add("route del " + peer.subnet() + " via " + publicIp + " dev " + external.name());
            } else {
                removeVia(v4, peer.subnet().toString(), peer.subnet().addressString(),
                        vtepMac(peer.attrs().backendData()), publicIp, ipLines, bridgeLines);
            }
        }
        if (v6 != null) {
            String publicIp = peer.attrs().publicIpv6().toString();
            if (directRoute6(peer)) {
                ipLines.add("route del " + peer.ipv6Subnet() + " via " + publicIp + " dev " + external.name());
            } else {
                removeVia(v6, peer.ipv6Subnet().toString(), peer.ipv6Subnet().addressString(),
                        vtepMac(peer.attrs().backendV6Data()), publicIp, ipLines, bridgeLines);
            }
        }
    }

    private static void removeVia(VxlanDevice dev, String subnet, String gw, String mac, String publicIp,
                                  List<String> ipLines, List<String> bridgeLines) {
        ipLines.add("route del " + subnet + " via " + gw + " dev " + dev.name + " onlink");
        ipLines.add("neigh del " + gw + " dev " + dev.name);
        bridgeLines.add("fdb del " + mac + " dev " + dev.name + " dst " + publicIp + " self");
    }

    @Override
    protected void removeStrays(java.util.Collection<Lease> desired, List<String> ipLines, List<String> bridgeLines) {
        java.util.Set<String> subnets = new java.util.HashSet<>();
        java.util.Set<String> gateways = new java.util.HashSet<>();
        java.util.Set<String> macs = new java.util.HashSet<>();
        for (Lease l : desired) {
            if (l.subnet() != null) {
                subnets.add(l.subnet().toString());
                gateways.add(l.subnet().addressString());
            }
            if (l.ipv6Subnet() != null) {
                subnets.add(l.ipv6Subnet().toString());
                gateways.add(l.ipv6Subnet().addressString());
            }
            macs.add(String.valueOf(vtepMac(l.attrs().backendData())).toLowerCase(java.util.Locale.ROOT));
            macs.add(String.valueOf(vtepMac(l.attrs().backendV6Data())).toLowerCase(java.util.Locale.ROOT));
        }
        for (VxlanDevice dev : new VxlanDevice[] {v4, v6}) {
            if (dev == null) {
                continue;
            }
            for (KernelEntries.Route r : KernelEntries.gatewayRoutes(ip, dev.name, dev == v6)) {
                if (!subnets.contains(r.dst())) {
                    ipLines.add("route del " + r.dst() + " dev " + dev.name);
                }
            }
            for (KernelEntries.Neighbour n : KernelEntries.permanentNeighbours(ip, dev.name)) {
                if (!gateways.contains(n.dst())) {
                    ipLines.add("neigh del " + n.dst() + " dev " + dev.name);
                }
            }
            for (KernelEntries.Fdb f : KernelEntries.remoteFdb(ip, dev.name)) {
                if (!macs.contains(f.mac().toLowerCase(java.util.Locale.ROOT))) {
                    bridgeLines.add("fdb del " + f.mac() + " dev " + dev.name + " dst " + f.dst() + " self");
                }
            }
        }
    }

    @Override
    public synchronized void reconcile() {
        for (VxlanDevice dev : new VxlanDevice[] {v4, v6}) {
            if (dev != null && !dev.exists()) {
                log.warn("{} disappeared; re-creating it", dev.name);
                dev.prepare(); // with the MAC it had, and its address
            }
        }
        super.reconcile();
    }

    @Override
    public synchronized void teardown() {
        super.teardown();
        for (VxlanDevice dev : new VxlanDevice[] {v4, v6}) {
            if (dev != null) {
                dev.delete();
            }
        }
    }
}
