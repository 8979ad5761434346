package dev.railyard.overlay.backend;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.railyard.overlay.config.BackendConfig;
import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.ip.ExternalInterface;
import dev.railyard.overlay.ip.IpException;
import dev.railyard.overlay.ip.IpRunner;
import dev.railyard.overlay.lease.Lease;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * vxlan, laid out as flannel lays it out so mixed clusters interoperate: device {@code flannel.<VNI>}
 * holding the first address of our subnet as /32, and per peer a route {@code subnet via
 * <peer subnet address> onlink}, a permanent neighbour entry mapping that address to the peer's VTEP
 * MAC, and an FDB entry sending that MAC to the peer's public IP. With DirectRouting, peers on our
 * own L2 network get a plain host-gw route instead and skip encapsulation.
 */
public final class VxlanBackend extends PeerBackend {
    private static final Logger log = LoggerFactory.getLogger(VxlanBackend.class);
    private static final int VXLAN_OVERHEAD = 50;

    private final BackendConfig config;
    private final String device;
    private String mac;
    private Lease own;

    public VxlanBackend(IpRunner ip, ExternalInterface external, BackendConfig config) {
        super(ip, external);
        this.config = config;
        this.device = "flannel." + config.vni();
    }

    public String device() {
        return device;
    }

    /** Creates (or re-creates, if its parameters differ) the VXLAN device and reads its MAC. */
    public VxlanBackend prepare() {
        JsonObject existing = link();
        if (existing != null && !matches(existing)) {
            log.warn("{} exists with different settings; recreating it", device);
            ip.run("ip", "link", "del", device);
            existing = null;
        }
        if (existing == null) {
            List<String> cmd = new java.util.ArrayList<>(List.of("ip", "link", "add", device));
            if (mac != null) {
                // re-created after it vanished: keep the MAC our lease already publishes to peers
                cmd.addAll(List.of("address", mac));
            }
            cmd.addAll(List.of("type", "vxlan", "id", String.valueOf(config.vni()),
                    "local", Ip4Net.formatAddress(external.address()), "dev", external.name(),
                    "dstport", String.valueOf(config.port()), "nolearning"));
            ip.run(cmd.toArray(String[]::new));
        }
        ip.run("ip", "link", "set", device, "mtu", String.valueOf(mtu()), "up");
        mac = link().get("address").getAsString();
        return this;
    }

    private JsonObject link() {
        try {
            JsonArray a = JsonParser.parseString(ip.run("ip", "-j", "-d", "link", "show", device)).getAsJsonArray();
            return a.isEmpty() ? null : a.get(0).getAsJsonObject();
        } catch (IpException e) {
            return null; // "Device does not exist"
        }
    }

    private boolean matches(JsonObject link) {
        JsonObject info = link.has("linkinfo") ? link.getAsJsonObject("linkinfo") : null;
        if (info == null || !"vxlan".equals(info.get("info_kind").getAsString())) {
            return false;
        }
        JsonObject data = info.getAsJsonObject("info_data");
        return data.get("id").getAsInt() == config.vni()
                && data.has("local") && data.get("local").getAsString().equals(Ip4Net.formatAddress(external.address()))
                && data.get("port").getAsInt() == config.port();
    }

    @Override
    public String type() {
        return "vxlan";
    }

    @Override
    public String backendDataJson() {
        if (mac == null) {
            throw new IllegalStateException("prepare() the VXLAN device before publishing its MAC");
        }
        JsonObject o = new JsonObject();
        o.addProperty("VNI", config.vni());
        o.addProperty("VtepMAC", mac);
        return o.toString();
    }

    @Override
    public int mtu() {
        return external.mtu() - VXLAN_OVERHEAD;
    }

    @Override
    public synchronized void localLease(Lease own) {
        super.localLease(own);
        this.own = own;
        String addr = own.subnet().addressString() + "/32";
        ip.run("ip", "addr", "replace", addr, "dev", device);
        // drop addresses from a previous subnet so only the current one answers
        JsonArray links = JsonParser.parseString(ip.run("ip", "-j", "-4", "addr", "show", "dev", device)).getAsJsonArray();
        for (JsonElement l : links) {
            for (JsonElement a : l.getAsJsonObject().getAsJsonArray("addr_info")) {
                JsonObject ai = a.getAsJsonObject();
                String cidr = ai.get("local").getAsString() + "/" + ai.get("prefixlen").getAsInt();
                if (!cidr.equals(addr)) {
                    ip.run("ip", "addr", "del", cidr, "dev", device);
                }
            }
        }
    }

    @Override
    protected boolean accepts(Lease peer) {
        if (directRoute(peer)) {
            return true;
        }
        if (vtepMac(peer) == null) {
            log.warn("ignoring vxlan lease {} of {}: BackendData has no VtepMAC", peer.subnet(), peer.attrs().publicIpString());
            return false;
        }
        return true;
    }

    private boolean directRoute(Lease peer) {
        return config.directRouting() && external.network().contains(peer.attrs().publicIp());
    }

    private static String vtepMac(Lease peer) {
        JsonElement d = peer.attrs().backendData();
        if (d == null || !d.isJsonObject() || !d.getAsJsonObject().has("VtepMAC")) {
            return null;
        }
        return d.getAsJsonObject().get("VtepMAC").getAsString();
    }

    @Override
    protected void add(Lease peer, List<String> ipLines, List<String> bridgeLines) {
        String gw = peer.subnet().addressString();
        if (directRoute(peer)) {
            ipLines.add("route replace " + peer.subnet() + " via " + peer.attrs().publicIpString() + " dev " + external.name());
            return;
        }
        String peerMac = vtepMac(peer);
        bridgeLines.add("fdb replace " + peerMac + " dev " + device + " dst " + peer.attrs().publicIpString() + " self permanent");
        ipLines.add("neigh replace " + gw + " lladdr " + peerMac + " dev " + device + " nud permanent");
        ipLines.add("route replace " + peer.subnet() + " via " + gw + " dev " + device + " onlink");
    }

    @Override
    protected void remove(Lease peer, List<String> ipLines, List<String> bridgeLines) {
        String gw = peer.subnet().addressString();
        if (directRoute(peer)) {
            ipLines.add("route del " + peer.subnet() + " via " + peer.attrs().publicIpString() + " dev " + external.name());
            return;
        }
        String peerMac = vtepMac(peer);
        ipLines.add("route del " + peer.subnet() + " via " + gw + " dev " + device + " onlink");
        ipLines.add("neigh del " + gw + " dev " + device);
        bridgeLines.add("fdb del " + peerMac + " dev " + device + " dst " + peer.attrs().publicIpString() + " self");
    }

    @Override
    public synchronized void reconcile() {
        if (link() == null) {
            log.warn("{} disappeared; re-creating it", device);
            prepare();
            if (own != null) {
                localLease(own);
            }
        }
        super.reconcile();
    }

    @Override
    public synchronized void teardown() {
        super.teardown();
        if (link() != null) {
            ip.run("ip", "link", "del", device);
        }
    }
}
