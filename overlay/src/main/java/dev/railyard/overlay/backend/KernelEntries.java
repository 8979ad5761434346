package dev.railyard.overlay.backend;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.railyard.overlay.ip.IpException;
import dev.railyard.overlay.ip.IpRunner;
import java.util.ArrayList;
import java.util.List;

/** What the kernel holds on a device, read with iproute2's JSON output, for finding entries nobody owns any more. */
final class KernelEntries {
    private KernelEntries() {
    }

    record Route(String dst, String gateway) {
    }

    record Fdb(String mac, String dst) {
    }

    record Neighbour(String dst, String mac) {
    }

    /** Main-table routes through {@code device} that have a gateway (the ones backends program). */
    static List<Route> gatewayRoutes(IpRunner ip, String device, boolean ipv6) {
        List<Route> routes = new ArrayList<>();
        for (JsonObject o : objects(ip, "ip", "-j", ipv6 ? "-6" : "-4", "route", "show", "dev", device)) {
            if (o.has("dst") && o.has("gateway")) {
                routes.add(new Route(o.get("dst").getAsString(), o.get("gateway").getAsString()));
            }
        }
        return routes;
    }

    /** Forwarding entries of a VXLAN device that send a MAC to a remote address. */
    static List<Fdb> remoteFdb(IpRunner ip, String device) {
        List<Fdb> entries = new ArrayList<>();
        for (JsonObject o : objects(ip, "bridge", "-j", "fdb", "show", "dev", device)) {
            if (o.has("mac") && o.has("dst")) {
                entries.add(new Fdb(o.get("mac").getAsString(), o.get("dst").getAsString()));
            }
        }
        return entries;
    }

    /** Permanent neighbour entries of {@code device}. */
    static List<Neighbour> permanentNeighbours(IpRunner ip, String device) {
        List<Neighbour> entries = new ArrayList<>();
        for (JsonObject o : objects(ip, "ip", "-j", "neigh", "show", "dev", device, "nud", "permanent")) {
            if (o.has("dst") && o.has("lladdr")) {
                entries.add(new Neighbour(o.get("dst").getAsString(), o.get("lladdr").getAsString()));
            }
        }
        return entries;
    }

    private static List<JsonObject> objects(IpRunner ip, String... command) {
        List<JsonObject> out = new ArrayList<>();
        String text;
        try {
            text = ip.run(command);
        } catch (IpException e) {
            return out; // no such device: nothing on it
        }
        if (text.isBlank()) {
            return out;
        }
        JsonElement parsed = JsonParser.parseString(text);
        if (parsed.isJsonArray()) {
            for (JsonElement e : (JsonArray) parsed) {
                if (e.isJsonObject()) {
                    out.add(e.getAsJsonObject());
                }
            }
        }
        return out;
    }
}
