package dev.railyard.overlay.ip;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.railyard.overlay.config.Ip4Net;

/**
 * The interface that carries traffic between hosts, as flannel's {@code --iface}/{@code --public-ip}
 * resolve it.
 *
 * @param name interface name
 * @param address the interface's IPv4 address (source of encapsulated traffic)
 * @param network the on-link network of that address, for deciding which peers are directly reachable
 * @param publicIp the address published to peers (usually {@code address}; differs behind NAT)
 * @param mtu the interface MTU
 */
public record ExternalInterface(String name, int address, Ip4Net network, int publicIp, int mtu) {

    /**
     * Resolves {@code iface} (a name or an IPv4 address) or, when null, the interface of the default
     * route. {@code publicIp} overrides the published address.
     */
    public static ExternalInterface detect(IpRunner ip, String iface, String publicIp) {
        JsonArray links = JsonParser.parseString(ip.run("ip", "-j", "-4", "addr", "show")).getAsJsonArray();
        if (iface != null && !iface.isBlank()) {
            return find(links, iface, publicIp, ip);
        }
        if (publicIp != null && !publicIp.isBlank()) {
            try {
                return find(links, publicIp, publicIp, ip); // --public-ip on a local interface names that interface
            } catch (IpException notLocal) {
                // behind NAT: the public IP is not ours; fall through to the default route
            }
        }
        return find(links, defaultRouteDevice(ip), publicIp, ip);
    }

    private static ExternalInterface find(JsonArray links, String wanted, String publicIp, IpRunner ip) {
        for (JsonElement e : links) {
            JsonObject link = e.getAsJsonObject();
            String name = link.get("ifname").getAsString();
            for (JsonElement a : link.getAsJsonArray("addr_info")) {
                JsonObject addr = a.getAsJsonObject();
                String local = addr.get("local").getAsString();
                if (wanted.equals(name) || wanted.equals(local)) {
                    int address = Ip4Net.parseAddress(local);
                    int prefix = addr.get("prefixlen").getAsInt();
                    int pub = publicIp == null || publicIp.isBlank() ? address : parsePublicIp(publicIp);
                    return new ExternalInterface(name, address, new Ip4Net(address & Ip4Net.mask(prefix), prefix), pub,
                            link.get("mtu").getAsInt());
                }
            }
        }
        throw new IpException("--iface " + wanted + ": no interface with that name or IPv4 address"
                + (ip.netns() == null ? "" : " in network namespace " + ip.netns()));
    }

    private static int parsePublicIp(String s) {
        try {
            return Ip4Net.parseAddress(s);
        } catch (IllegalArgumentException e) {
            throw new IpException("--public-ip: " + e.getMessage(), e);
        }
    }

    private static String defaultRouteDevice(IpRunner ip) {
        JsonArray routes = JsonParser.parseString(ip.run("ip", "-j", "-4", "route", "show", "default")).getAsJsonArray();
        if (routes.isEmpty()) {
            throw new IpException("no default route to pick the external interface from; pass --iface");
        }
        return routes.get(0).getAsJsonObject().get("dev").getAsString();
    }
}
