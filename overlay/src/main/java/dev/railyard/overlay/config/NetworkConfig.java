package dev.railyard.overlay.config;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.util.Locale;
import java.util.Set;

/**
 * The flannel network config stored at {@code <prefix>/config}, validated and with flannel's
 * defaults filled in. Only the IPv4 single-network form is supported; a config asking for IPv6 is
 * rejected rather than silently run IPv4-only.
 */
public record NetworkConfig(Ip4Net network, int subnetLen, int subnetMin, int subnetMax, BackendConfig backend) {

    private static final Set<String> KNOWN_FIELDS = Set.of(
            "Network", "SubnetLen", "SubnetMin", "SubnetMax", "Backend", "EnableIPv4", "EnableIPv6",
            "IPv6Network", "IPv6SubnetLen", "IPv6SubnetMin", "IPv6SubnetMax", "EnableNFTables");

    public NetworkConfig {
        if (network == null) {
            throw new ConfigException("network config field Network: missing");
        }
        if (subnetLen > 30) {
            throw new ConfigException("network config field SubnetLen: " + subnetLen
                    + " leaves no room for a bridge and pods; it must be at most 30");
        }
        if (subnetLen < network.prefixLength()) {
            throw new ConfigException("network config field SubnetLen: /" + subnetLen
                    + " is larger than the Network " + network);
        }
        checkBound("SubnetMin", subnetMin, network, subnetLen);
        checkBound("SubnetMax", subnetMax, network, subnetLen);
        if (Integer.compareUnsigned(subnetMin, subnetMax) > 0) {
            throw new ConfigException("network config cannot hold one subnet: SubnetMin "
                    + Ip4Net.formatAddress(subnetMin) + " is above SubnetMax " + Ip4Net.formatAddress(subnetMax)
                    + " (Network " + network + ", SubnetLen " + subnetLen + ")");
        }
        if (backend == null) {
            throw new ConfigException("network config field Backend: missing");
        }
    }

    private static void checkBound(String field, int a, Ip4Net network, int subnetLen) {
        if (!network.contains(a)) {
            throw new ConfigException("network config field " + field + ": " + Ip4Net.formatAddress(a)
                    + " is not in the Network " + network);
        }
        if ((a & Ip4Net.mask(subnetLen)) != a) {
            throw new ConfigException("network config field " + field + ": " + Ip4Net.formatAddress(a)
                    + " is not on a /" + subnetLen + " boundary");
        }
    }

    /** How many subnets lie between SubnetMin and SubnetMax inclusive. */
    public long subnetCount() {
        return ((Integer.toUnsignedLong(subnetMax) - Integer.toUnsignedLong(subnetMin)) >>> (32 - subnetLen)) + 1;
    }

    /** The {@code index}-th allocatable subnet, counting from SubnetMin. */
    public Ip4Net subnetAt(long index) {
        if (index < 0 || index >= subnetCount()) {
            throw new IndexOutOfBoundsException(index);
        }
        return new Ip4Net((int) (Integer.toUnsignedLong(subnetMin) + (index << (32 - subnetLen))), subnetLen);
    }

    /** Whether {@code subnet} is one this config could hand out. */
    public boolean isAllocatable(Ip4Net subnet) {
        if (subnet.prefixLength() != subnetLen || !network.contains(subnet)) {
            return false;
        }
        long a = Integer.toUnsignedLong(subnet.address());
        return a >= Integer.toUnsignedLong(subnetMin) && a <= Integer.toUnsignedLong(subnetMax);
    }

    /** Index of an allocatable subnet; the inverse of {@link #subnetAt}. */
    public long indexOf(Ip4Net subnet) {
        return (Integer.toUnsignedLong(subnet.address()) - Integer.toUnsignedLong(subnetMin)) >>> (32 - subnetLen);
    }

    /**
     * Parses and validates flannel's JSON, applying flannel's defaults: SubnetLen 24 when the network
     * has room for four /24s, else a quarter of the network; the first subnet is skipped because a
     * bridge holding its first address would collide with the network address of the whole range.
     */
    public static NetworkConfig parse(String json) {
        JsonObject o;
        try {
            JsonElement e = JsonParser.parseString(json == null ? "" : json);
            if (!e.isJsonObject()) {
                throw new ConfigException("network config is not a JSON object: " + abbreviate(json));
            }
            o = e.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new ConfigException("network config is not valid JSON: " + e.getMessage(), e);
        }
        for (String key : o.keySet()) {
            if (!KNOWN_FIELDS.contains(key)) {
                // flannel ignores unknown fields; a typo like "Subnetlen" would silently be ignored, so name it.
                throw new ConfigException("network config field " + key + ": unknown field (known: "
                        + String.join(", ", KNOWN_FIELDS.stream().sorted().toList()) + ")");
            }
        }
        if (o.has("EnableIPv4") && !bool(o, "EnableIPv4", "EnableIPv4")) {
            throw new ConfigException("network config field EnableIPv4: false is not supported; "
                    + "this overlay only runs IPv4 networks");
        }
        if (o.has("EnableIPv6") && bool(o, "EnableIPv6", "EnableIPv6")) {
            throw new ConfigException("network config field EnableIPv6: IPv6 networks are not supported yet");
        }
        Ip4Net network;
        String networkText = string(o, "Network", "Network");
        if (networkText == null) {
            throw new ConfigException("network config field Network: missing (e.g. \"10.244.0.0/16\")");
        }
        try {
            network = Ip4Net.parse(networkText);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("network config field Network: " + e.getMessage(), e);
        }

        int subnetLen;
        Integer given = integer(o, "SubnetLen", "SubnetLen");
        if (given != null && given != 0) {
            subnetLen = given;
            if (subnetLen < 0 || subnetLen > 30) {
                throw new ConfigException("network config field SubnetLen: " + subnetLen + " must be in 1..30");
            }
            if (subnetLen < network.prefixLength() + 2) {
                throw new ConfigException("network config field SubnetLen: /" + subnetLen + " does not fit four "
                        + "subnets into Network " + network + " (need at least /" + (network.prefixLength() + 2) + ")");
            }
        } else if (network.prefixLength() > 28) {
            throw new ConfigException("network config field Network: " + network
                    + " is too small; the smallest usable network is a /28");
        } else if (network.prefixLength() <= 22) {
            subnetLen = 24;
        } else {
            subnetLen = network.prefixLength() + 2;
        }

        long subnetSize = 1L << (32 - subnetLen);
        int subnetMin = addressField(o, "SubnetMin", network.addressAt(subnetSize));
        int subnetMax = addressField(o, "SubnetMax", (int) (network.endExclusive() - subnetSize));
        return new NetworkConfig(network, subnetLen, subnetMin, subnetMax, backend(o));
    }

    private static BackendConfig backend(JsonObject o) {
        JsonElement b = o.get("Backend");
        if (b == null || b.isJsonNull()) {
            // flannel would default to its udp backend, which we do not have; vxlan is its recommended one.
            return new BackendConfig(BackendType.VXLAN, BackendConfig.DEFAULT_VNI, BackendConfig.DEFAULT_VXLAN_PORT, false);
        }
        if (!b.isJsonObject()) {
            throw new ConfigException("network config field Backend: expected an object, got " + b);
        }
        JsonObject bo = b.getAsJsonObject();
        String typeName = string(bo, "Type", "Backend.Type");
        if (typeName == null) {
            throw new ConfigException("network config field Backend.Type: missing (host-gw or vxlan)");
        }
        BackendType type = BackendType.fromFlannelName(typeName.toLowerCase(Locale.ROOT));
        Integer vni = integer(bo, "VNI", "Backend.VNI");
        Integer port = integer(bo, "Port", "Backend.Port");
        boolean direct = bo.has("DirectRouting") && bool(bo, "DirectRouting", "Backend.DirectRouting");
        return new BackendConfig(type,
                vni == null || vni == 0 ? BackendConfig.DEFAULT_VNI : vni,
                port == null || port == 0 ? BackendConfig.DEFAULT_VXLAN_PORT : port,
                direct);
    }

    private static int addressField(JsonObject o, String field, int dflt) {
        String s = string(o, field, field);
        if (s == null || s.isEmpty()) {
            return dflt;
        }
        try {
            return Ip4Net.parseAddress(s);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("network config field " + field + ": " + e.getMessage(), e);
        }
    }

    private static String string(JsonObject o, String key, String field) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            return null;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw new ConfigException("network config field " + field + ": expected a string, got " + e);
        }
        return e.getAsString();
    }

    private static Integer integer(JsonObject o, String key, String field) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            return null;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw new ConfigException("network config field " + field + ": expected a number, got " + e);
        }
        double d = e.getAsDouble();
        if (d != Math.rint(d) || d < Integer.MIN_VALUE || d > Integer.MAX_VALUE) {
            throw new ConfigException("network config field " + field + ": expected an integer, got " + e);
        }
        return (int) d;
    }

    private static boolean bool(JsonObject o, String key, String field) {
        JsonElement e = o.get(key);
        if (!(e instanceof JsonPrimitive p) || !p.isBoolean()) {
            throw new ConfigException("network config field " + field + ": expected true or false, got " + e);
        }
        return p.getAsBoolean();
    }

    private static String abbreviate(String s) {
        return s == null ? "null" : s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }

    /** The JSON form, in flannel's field names, as {@code config put} stores it. */
    public String toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("Network", network.toString());
        o.addProperty("SubnetLen", subnetLen);
        o.addProperty("SubnetMin", Ip4Net.formatAddress(subnetMin));
        o.addProperty("SubnetMax", Ip4Net.formatAddress(subnetMax));
        JsonObject b = new JsonObject();
        b.addProperty("Type", backend.type().flannelName());
        if (backend.type() == BackendType.VXLAN) {
            b.addProperty("VNI", backend.vni());
            b.addProperty("Port", backend.port());
            b.addProperty("DirectRouting", backend.directRouting());
        }
        o.add("Backend", b);
        return o.toString();
    }
}
