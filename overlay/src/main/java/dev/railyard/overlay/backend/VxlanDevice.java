package dev.railyard.overlay.backend;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.railyard.overlay.ip.IpException;
import dev.railyard.overlay.ip.IpRunner;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One VXLAN device of the vxlan backend: {@code flannel.<VNI>} over IPv4 or {@code flannel-v6.<VNI>} over IPv6,
 * created as flannel creates it (local address, underlying device, destination port, no learning) and holding the
 * first address of our subnet as a host route.
 */
final class VxlanDevice {
    private static final Logger log = LoggerFactory.getLogger(VxlanDevice.class);

    private final IpRunner ip;
    final String name;
    private final boolean ipv6;
    private final int vni;
    private final int port;
    private final String local;
    private final String underlying;
    private final int mtu;
    private String mac;
    private String address;

    /**
     * @param mac the MAC to create the device with (one an earlier run published), or null for a random one
     */
    VxlanDevice(IpRunner ip, boolean ipv6, int vni, int port, String local, String underlying, int mtu, String mac) {
        this.ip = ip;
        this.name = (ipv6 ? "flannel-v6." : "flannel.") + vni;
        this.ipv6 = ipv6;
        this.vni = vni;
        this.port = port;
        this.local = local;
        this.underlying = underlying;
        this.mtu = mtu;
        this.mac = mac;
    }

    String mac() {
        return mac;
    }

    /** Creates (or re-creates, if its parameters differ) the device, brings it up and reads its MAC. */
    void prepare() {
        JsonObject existing = link();
        if (existing != null && !matches(existing)) {
            log.warn("{} exists with different settings; recreating it", name);
            ip.run("ip", "link", "del", name);
            existing = null;
        }
        if (existing == null) {
            List<String> cmd = new ArrayList<>(List.of("ip", "link", "add", name));
            if (mac != null) {
                // keep the MAC our lease (or node annotation) already publishes to peers
                cmd.addAll(List.of("address", mac));
            }
            cmd.addAll(List.of("type", "vxlan", "id", String.valueOf(vni), "local", local, "dev", underlying,
                    "dstport", String.valueOf(port), "nolearning"));
            ip.run(cmd.toArray(String[]::new));
        } else if (mac != null && !mac.equalsIgnoreCase(existing.get("address").getAsString())) {
            ip.run("ip", "link", "set", name, "address", mac);
        }
        if (ipv6) {
            // As flannel: a router advertisement must not give the device addresses or routes of its own. Slashes,
            // not dots, separate the key: the device name "flannel-v6.1" has a dot of its own.
            IpRunner.Output ra = ip.exec(ip.inNamespace(List.of("sysctl", "-q", "-w",
                    "net/ipv6/conf/" + name + "/accept_ra=0")), null);
            if (ra.exitCode() != 0) {
                log.warn("cannot turn off accept_ra on {}: {}", name, ra.stderr().strip());
            }
        }
        ip.run("ip", "link", "set", name, "mtu", String.valueOf(mtu), "up");
        mac = link().get("address").getAsString();
        if (address != null) {
            assign(address);
        }
    }

    boolean exists() {
        // an interrupted lookup (the daemon is stopping) says nothing about the device
        return link() != null || Thread.currentThread().isInterrupted();
    }

    private JsonObject link() {
        try {
            JsonArray a = JsonParser.parseString(ip.run("ip", "-j", "-d", "link", "show", name)).getAsJsonArray();
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
        String localKey = ipv6 ? "local6" : "local";
        return data.get("id").getAsInt() == vni
                && data.has(localKey) && data.get(localKey).getAsString().equals(local)
                && data.get("port").getAsInt() == port;
    }

    /** Gives the device {@code addr} (our subnet's first address as /32 or /128) and drops any other of its family. */
    void assign(String addr) {
        this.address = addr;
        ip.run("ip", "addr", "replace", addr, "dev", name);
        JsonArray links = JsonParser.parseString(ip.run("ip", "-j", ipv6 ? "-6" : "-4", "addr", "show", "dev", name))
                .getAsJsonArray();
        for (JsonElement l : links) {
            for (JsonElement a : l.getAsJsonObject().getAsJsonArray("addr_info")) {
                JsonObject ai = a.getAsJsonObject();
                if (ipv6 && ai.has("scope") && "link".equals(ai.get("scope").getAsString())) {
                    continue;
                }
                String cidr = ai.get("local").getAsString() + "/" + ai.get("prefixlen").getAsInt();
                if (!cidr.equals(addr)) {
                    ip.run("ip", "addr", "del", cidr, "dev", name);
                }
            }
        }
    }

    void delete() {
        if (exists()) {
            ip.run("ip", "link", "del", name);
        }
    }
}
