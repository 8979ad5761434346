package dev.railyard.overlay.lease;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.railyard.overlay.config.Ip4Net;

/**
 * What a host publishes about itself in its lease, stored as flannel's JSON
 * ({@code {"PublicIP":..,"BackendType":..,"BackendData":..}}) so flannel and Railyard hosts can
 * share one network. Backend data is kept as canonical JSON text to stay immutable.
 */
public record LeaseAttrs(int publicIp, String backendType, String backendDataJson) {

    public LeaseAttrs {
        if (backendType == null || backendType.isEmpty()) {
            throw new IllegalArgumentException("lease attribute BackendType: missing");
        }
        backendDataJson = backendDataJson == null ? "null" : JsonParser.parseString(backendDataJson).toString();
    }

    public String publicIpString() {
        return Ip4Net.formatAddress(publicIp);
    }

    public JsonElement backendData() {
        return JsonParser.parseString(backendDataJson);
    }

    public String toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("PublicIP", publicIpString());
        o.addProperty("BackendType", backendType);
        o.add("BackendData", backendData());
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
            JsonElement type = o.get("BackendType");
            String backendType = type == null || type.isJsonNull() ? "" : type.getAsString();
            if (backendType.isEmpty()) {
                throw new IllegalArgumentException("lease " + key + " field BackendType: missing");
            }
            JsonElement data = o.get("BackendData");
            return new LeaseAttrs(publicIp, backendType, data == null ? "null" : data.toString());
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("lease " + key + ": value is not valid JSON: " + e.getMessage(), e);
        }
    }
}
