package dev.railyard.overlay.kube;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeSpec;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads Nodes from API JSON keeping only what the subnet manager uses (name, resourceVersion, annotations,
 * {@code spec.podCIDR(s)}). client-java's own decoding rejects any field its models lack, so one newer API server
 * field would stop the watch; reading the few fields we need, and tolerating a wrong type in any of them, cannot
 * fail that way.
 */
final class SparseNodes {
    private SparseNodes() {
    }

    /** The node in {@code json}, or null when it has no name. */
    static V1Node node(JsonElement json) {
        if (json == null || !json.isJsonObject()) {
            return null;
        }
        JsonObject o = json.getAsJsonObject();
        JsonObject metadata = object(o, "metadata");
        String name = metadata == null ? null : string(metadata, "name");
        String resourceVersion = metadata == null ? null : string(metadata, "resourceVersion");
        V1ObjectMeta meta = new V1ObjectMeta().name(name).resourceVersion(resourceVersion);
        JsonObject annotations = metadata == null ? null : object(metadata, "annotations");
        if (annotations != null) {
            Map<String, String> map = new LinkedHashMap<>();
            for (Map.Entry<String, JsonElement> e : annotations.entrySet()) {
                if (e.getValue().isJsonPrimitive()) {
                    map.put(e.getKey(), e.getValue().getAsString());
                }
            }
            meta.annotations(map);
        }
        V1Node node = new V1Node().apiVersion("v1").kind("Node").metadata(meta);
        JsonObject spec = object(o, "spec");
        if (spec != null) {
            V1NodeSpec s = new V1NodeSpec().podCIDR(string(spec, "podCIDR"));
            JsonElement cidrs = spec.get("podCIDRs");
            if (cidrs != null && cidrs.isJsonArray()) {
                List<String> list = new ArrayList<>();
                for (JsonElement c : (JsonArray) cidrs) {
                    if (c.isJsonPrimitive()) {
                        list.add(c.getAsString());
                    }
                }
                s.podCIDRs(list);
            }
            node.spec(s);
        }
        return name == null && resourceVersion == null ? null : node;
    }

    static JsonObject object(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e != null && e.isJsonObject() ? e.getAsJsonObject() : null;
    }

    static String string(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e != null && e.isJsonPrimitive() ? e.getAsString() : null;
    }
}
