package dev.railyard.overlay.config;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.util.Locale;
import java.util.Set;

/**
 * flannel's network config ({@code <prefix>/config} in etcd, {@code net-conf.json} in kube mode), validated and
 * with flannel's defaults filled in: IPv4, IPv6 or both.
 *
 * @param ipv4 the IPv4 network and its subnets; null when {@code EnableIPv4} is false
 * @param ipv6 the IPv6 network and its subnets; null unless {@code EnableIPv6} is true
 * @param enableNFTables masquerade with nftables (flannel's own tables) instead of iptables
 */
public record NetworkConfig(Ip4Range ipv4, Ip6Range ipv6, BackendConfig backend, boolean enableNFTables) {

    /** flannel's vxlan options that change the wire or the device in ways Railyard does not implement. */
    private static final Set<String> NOT_IMPLEMENTED_VXLAN_FIELDS = Set.of("MTU", "GBP", "Learning", "MacPrefix");
    private static final Set<String> KNOWN_FIELDS = Set.of(
            "Network", "SubnetLen", "SubnetMin", "SubnetMax", "Backend", "EnableIPv4", "EnableIPv6",
            "IPv6Network", "IPv6SubnetLen", "IPv6SubnetMin", "IPv6SubnetMax", "EnableNFTables");

    public NetworkConfig {
        if (ipv4 == null && ipv6 == null) {
            throw new ConfigException("network config fields EnableIPv4 and EnableIPv6: at least one family must be enabled");
        }
        if (backend == null) {
            throw new ConfigException("network config field Backend: missing");
        }
        if (backend.type() == BackendType.UDP && (ipv6 != null || ipv4 == null)) {
            throw new ConfigException("network config field EnableIPv6: the udp backend carries IPv4 only "
                    + "(use vxlan or host-gw for IPv6)");
        }
    }

    /** An IPv4-only config (the form this overlay had before dual-stack). */
    public NetworkConfig(Ip4Net network, int subnetLen, int subnetMin, int subnetMax, BackendConfig backend) {
        this(new Ip4Range(network, subnetLen, subnetMin, subnetMax), null, backend, false);
    }

    public boolean enableIPv4() {
        return ipv4 != null;
    }

    public boolean enableIPv6() {
        return ipv6 != null;
    }

    /** {@code Network}, or null when IPv4 is disabled. */
    public Ip4Net network() {
        return ipv4 == null ? null : ipv4.network();
    }

    /** {@code IPv6Network}, or null when IPv6 is disabled. */
    public Ip6Net ipv6Network() {
        return ipv6 == null ? null : ipv6.network();
    }

    // IPv4 shorthands; each requires IPv4 to be enabled.

    public int subnetLen() {
        return ipv4().subnetLen();
    }

    public int subnetMin() {
        return ipv4().subnetMin();
    }

    public int subnetMax() {
        return ipv4().subnetMax();
    }

    public long subnetCount() {
        return ipv4().count();
    }

    public Ip4Net subnetAt(long index) {
        return ipv4().at(index);
    }

    public boolean isAllocatable(Ip4Net subnet) {
        return ipv4 != null && ipv4.isAllocatable(subnet);
    }

    public long indexOf(Ip4Net subnet) {
        return ipv4().indexOf(subnet);
    }

    /**
     * Parses and validates flannel's JSON, applying flannel's defaults: SubnetLen 24 when the network has room
     * for four /24s, else a quarter of the network (IPv6: /64, else a quarter); the first subnet is skipped
     * because a bridge holding its first address would collide with the network address of the whole range.
     * Without {@code Backend} the backend is udp, as in flannel.
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
            throw new ConfigException("network config is not valid JSON: " + JsonErrors.describe(e), e);
        }
        for (String key : o.keySet()) {
            if (!KNOWN_FIELDS.contains(key)) {
                // flannel ignores unknown fields; a typo like "Subnetlen" would silently be ignored, so name it.
                throw unknownField(key, KNOWN_FIELDS, "", "");
            }
        }
        boolean enable4 = !o.has("EnableIPv4") || o.get("EnableIPv4").isJsonNull() || bool(o, "EnableIPv4", "EnableIPv4");
        boolean enable6 = o.has("EnableIPv6") && !o.get("EnableIPv6").isJsonNull() && bool(o, "EnableIPv6", "EnableIPv6");
        boolean nft = o.has("EnableNFTables") && !o.get("EnableNFTables").isJsonNull()
                && bool(o, "EnableNFTables", "EnableNFTables");
        if (!enable4 && !enable6) {
            throw new ConfigException("network config fields EnableIPv4 and EnableIPv6: both are false; enable at least one");
        }
        return new NetworkConfig(enable4 ? ipv4(o) : null, enable6 ? ipv6(o) : null, backend(o), nft);
    }

    private static Ip4Range ipv4(JsonObject o) {
        String networkText = string(o, "Network", "Network");
        if (networkText == null) {
            throw new ConfigException("network config field Network: missing (e.g. \"10.244.0.0/16\")");
        }
        Ip4Net network;
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
        return new Ip4Range(network, subnetLen, subnetMin, subnetMax);
    }

    private static Ip6Range ipv6(JsonObject o) {
        String networkText = string(o, "IPv6Network", "IPv6Network");
        if (networkText == null) {
            throw new ConfigException("network config field IPv6Network: missing (e.g. \"fd00:10:244::/56\"); "
                    + "EnableIPv6 is true");
        }
        Ip6Net network;
        try {
            network = Ip6Net.parse(networkText);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("network config field IPv6Network: " + e.getMessage(), e);
        }
        int subnetLen;
        Integer given = integer(o, "IPv6SubnetLen", "IPv6SubnetLen");
        if (given != null && given != 0) {
            subnetLen = given;
            if (subnetLen < 0 || subnetLen > 126) {
                throw new ConfigException("network config field IPv6SubnetLen: " + subnetLen + " must be in 1..126");
            }
            if (subnetLen < network.prefixLength() + 2) {
                throw new ConfigException("network config field IPv6SubnetLen: /" + subnetLen + " does not fit four "
                        + "subnets into IPv6Network " + network + " (need at least /" + (network.prefixLength() + 2) + ")");
            }
        } else if (network.prefixLength() > 124) {
            throw new ConfigException("network config field IPv6Network: " + network
                    + " is too small; the smallest usable network is a /124");
        } else if (network.prefixLength() <= 62) {
            subnetLen = 64;
        } else {
            subnetLen = network.prefixLength() + 2;
        }
        java.math.BigInteger size = java.math.BigInteger.ONE.shiftLeft(128 - subnetLen);
        java.math.BigInteger base = Ip6Range.big(network.address());
        Ip6Address dfltMin = Ip6Range.address(base.add(size));
        Ip6Address dfltMax = Ip6Range.address(base.add(java.math.BigInteger.ONE.shiftLeft(128 - network.prefixLength()))
                .subtract(size));
        return new Ip6Range(network, subnetLen, ip6Field(o, "IPv6SubnetMin", dfltMin), ip6Field(o, "IPv6SubnetMax", dfltMax));
    }

    private static BackendConfig backend(JsonObject o) {
        JsonElement b = o.get("Backend");
        if (b == null || b.isJsonNull()) {
            return BackendConfig.flannelDefault();
        }
        if (!b.isJsonObject()) {
            throw new ConfigException("network config field Backend: expected an object, got " + b);
        }
        JsonObject bo = b.getAsJsonObject();
        String typeName = string(bo, "Type", "Backend.Type");
        if (typeName == null) {
            throw new ConfigException("network config field Backend.Type: missing (udp, host-gw or vxlan)");
        }
        BackendType type = BackendType.fromFlannelName(typeName.toLowerCase(Locale.ROOT));
        checkBackendFields(bo, type);
        Integer vni = integer(bo, "VNI", "Backend.VNI");
        Integer port = integer(bo, "Port", "Backend.Port");
        boolean direct = bo.has("DirectRouting") && bool(bo, "DirectRouting", "Backend.DirectRouting");
        return new BackendConfig(type,
                vni == null || vni == 0 ? BackendConfig.DEFAULT_VNI : vni,
                port == null || port == 0 ? BackendConfig.defaultPort(type) : port,
                direct);
    }

    /**
     * Refuses a field the type does not read, as the top level does: a misspelt {@code "Vni"} or
     * {@code "DirectRouteing"} would otherwise leave the default in place without a word. flannel's own fields
     * that Railyard does not implement are named as such.
     */
    private static void checkBackendFields(JsonObject backend, BackendType type) {
        Set<String> known = switch (type) {
            case VXLAN -> Set.of("Type", "VNI", "Port", "DirectRouting");
            case UDP -> Set.of("Type", "Port");
            case HOST_GW -> Set.of("Type");
        };
        for (String key : backend.keySet()) {
            if (known.contains(key)) {
                continue;
            }
            if (type == BackendType.VXLAN && NOT_IMPLEMENTED_VXLAN_FIELDS.contains(key)) {
                throw new ConfigException("network config field Backend." + key + ": flannel's vxlan option " + key
                        + " is not supported by Railyard");
            }
            throw unknownField(key, known, "Backend.", " for backend " + type.flannelName());
        }
    }

    /** A field not among {@code known}, named with the known ones and, when only its case is wrong, the right one. */
    private static ConfigException unknownField(String key, Set<String> known, String prefix, String scope) {
        String hint = known.stream().filter(k -> k.equalsIgnoreCase(key)).findFirst()
                .map(k -> "; did you mean " + k + "?").orElse("");
        return new ConfigException("network config field " + prefix + key + ": unknown field" + scope + " (known: "
                + String.join(", ", known.stream().sorted().toList()) + ")" + hint);
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

    private static Ip6Address ip6Field(JsonObject o, String field, Ip6Address dflt) {
        String s = string(o, field, field);
        if (s == null || s.isEmpty()) {
            return dflt;
        }
        try {
            return Ip6Address.parse(s);
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
        if (ipv4 == null) {
            o.addProperty("EnableIPv4", false);
        } else {
            o.addProperty("Network", ipv4.network().toString());
            o.addProperty("SubnetLen", ipv4.subnetLen());
            o.addProperty("SubnetMin", Ip4Net.formatAddress(ipv4.subnetMin()));
            o.addProperty("SubnetMax", Ip4Net.formatAddress(ipv4.subnetMax()));
        }
        if (ipv6 != null) {
            o.addProperty("EnableIPv6", true);
            o.addProperty("IPv6Network", ipv6.network().toString());
            o.addProperty("IPv6SubnetLen", ipv6.subnetLen());
            o.addProperty("IPv6SubnetMin", ipv6.subnetMin().toString());
            o.addProperty("IPv6SubnetMax", ipv6.subnetMax().toString());
        }
        if (enableNFTables) {
            o.addProperty("EnableNFTables", true);
        }
        JsonObject b = new JsonObject();
        b.addProperty("Type", backend.type().flannelName());
        if (backend.type() == BackendType.VXLAN) {
            b.addProperty("VNI", backend.vni());
            b.addProperty("Port", backend.port());
            b.addProperty("DirectRouting", backend.directRouting());
        } else if (backend.type() == BackendType.UDP) {
            b.addProperty("Port", backend.port());
        }
        o.add("Backend", b);
        return o.toString();
    }
}
