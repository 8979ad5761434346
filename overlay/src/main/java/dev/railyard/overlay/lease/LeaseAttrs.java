package dev.railyard.overlay.lease;

import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.config.Ip6Address;
import dev.railyard.overlay.config.JsonErrors;

/**
 * What a host publishes about itself in its lease, stored as flannel's JSON
 * ({@code {"PublicIP":..,"PublicIPv6":..,"BackendType":..,"BackendData":..,"BackendV6Data":..}}) so flannel and
 * Railyard hosts can share one network. Backend data is kept as canonical JSON text to stay immutable.
 *
 * @param publicIp the IPv4 address peers send to; 0 when the host has none (IPv6-only)
 * @param publicIpv6 the IPv6 address peers send to, or null
 * @param backendDataJson BackendData (IPv4), "null" when there is none
 * @param backendV6DataJson BackendV6Data, "null" when there is none
 */
public record LeaseAttrs(int publicIp, Ip6Address publicIpv6, String backendType, String backendDataJson,
                         String backendV6DataJson) {

    public LeaseAttrs {
        if (backendType == null || backendType.isEmpty()) {
            throw new IllegalArgumentException("lease attribute BackendType: missing");
        }
        backendDataJson = canonical(backendDataJson);
        backendV6DataJson = canonical(backendV6DataJson);
    }

    /** An IPv4-only host. */
    public LeaseAttrs(int publicIp, String backendType, String backendDataJson) {
        this(publicIp, null, backendType, backendDataJson, null);
    }

    private static String canonical(String json) {
        return json == null || json.isEmpty() ? "null" : JsonParser.parseString(json).toString();
    }

    public boolean hasPublicIp() {
        return publicIp != 0;
    }

    public String publicIpString() {
        return Ip4Net.formatAddress(publicIp);
    }

    /** The address that names this host: its IPv4 public IP, or its IPv6 one in an IPv6-only network. */
    public String hostName() {
        return hasPublicIp() || publicIpv6 == null ? publicIpString() : publicIpv6.toString();
    }

    public JsonElement backendData() {
        return JsonParser.parseString(backendDataJson);
    }

    public JsonElement backendV6Data() {
        return JsonParser.parseString(backendV6DataJson);
    }

    /** flannel's encoding: PublicIPv6 is always present (null without IPv6), empty backend data is left out. */
    public String toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("PublicIP", publicIpString());
        if (publicIpv6 == null) {
            o.add("PublicIPv6", JsonNull.INSTANCE);
        } else {
            o.addProperty("PublicIPv6", publicIpv6.toString());
        }
        o.addProperty("BackendType", backendType);
        if (!"null".equals(backendDataJson)) {
            o.add("BackendData", backendData());
        }
        if (!"null".equals(backendV6DataJson)) {
            o.add("BackendV6Data", backendV6Data());
        }
        return o.toString();
    }

    /** Parses a lease value; {@code key} only makes the error say which lease is broken. */
    public static LeaseAttrs fromJson(String key, String json) {
        try {
            JsonElement e = JsonParser.parseString(json);
            if (!e.isJsonObject()) {
                throw new IllegalArgumentException("lease " + key + ": value is not a JSON object");
            }
            JsonObject o = e.getAsJsonObject();
            JsonElement ip = o.get("PublicIP");
            if (ip == null || !ip.isJsonPrimitive()) {
                throw new IllegalArgumentException("lease " + key + " field PublicIP: missing");
            }
            int publicIp;
            try {
                publicIp = Ip4Net.parseAddress(ip.getAsString());
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("lease " + key + " field PublicIP: " + ex.getMessage(), ex);
            }
            Ip6Address publicIpv6 = null;
            JsonElement ip6 = o.get("PublicIPv6");
            if (ip6 != null && !ip6.isJsonNull()) {
                try {
                    publicIpv6 = Ip6Address.parse(ip6.isJsonPrimitive() ? ip6.getAsString() : ip6.toString());
                } catch (IllegalArgumentException ex) {
                    throw new IllegalArgumentException("lease " + key + " field PublicIPv6: " + ex.getMessage(), ex);
                }
            }
            if (publicIp == 0 && publicIpv6 == null) {
                throw new IllegalArgumentException("lease " + key + " field PublicIP: 0.0.0.0 and no PublicIPv6");
            }
            JsonElement type = o.get("BackendType");
            String backendType = type == null || type.isJsonNull() || !type.isJsonPrimitive() ? "" : type.getAsString();
            if (backendType.isEmpty()) {
                throw new IllegalArgumentException("lease " + key + " field BackendType: missing");
            }
            JsonElement data = o.get("BackendData");
            JsonElement data6 = o.get("BackendV6Data");
            return new LeaseAttrs(publicIp, publicIpv6, backendType, data == null ? "null" : data.toString(),
                    data6 == null ? "null" : data6.toString());
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("lease " + key + ": value is not valid JSON: " + JsonErrors.describe(e),
                    e);
        }
    }
}
