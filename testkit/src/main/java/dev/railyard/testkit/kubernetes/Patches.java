package dev.railyard.testkit.kubernetes;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import java.util.Map;

/**
 * JSON merge patches (RFC 7386) and the part of Kubernetes' strategic merge patches the test API server's
 * clients send: lists with a patch merge key are merged element by element by that key (and an element with
 * {@code "$patch": "delete"} is removed); any other list is replaced whole, as in a merge patch.
 */
final class Patches {
    /** Lists merged by key in a strategic merge patch, by their path from the object's top, and their key. */
    private static final Map<String, String> MERGE_KEYS = Map.of(
            "status.conditions", "type",
            "status.addresses", "type",
            "spec.taints", "key",
            "metadata.ownerReferences", "uid");

    private Patches() {
    }

    /** {@code patch} applied to {@code target} at {@code path}; null when the result is to be removed. */
    static JsonElement merge(JsonElement target, JsonElement patch, boolean strategic, String path) {
        if (patch == null || patch.isJsonNull()) {
            return null;
        }
        if (patch.isJsonArray() && strategic && MERGE_KEYS.containsKey(path) && target != null
                && target.isJsonArray()) {
            return mergeByKey(target.getAsJsonArray(), patch.getAsJsonArray(), MERGE_KEYS.get(path));
        }
        if (!patch.isJsonObject()) {
            return patch.deepCopy();
        }
        JsonObject result = target != null && target.isJsonObject() ? target.getAsJsonObject().deepCopy()
                : new JsonObject();
        for (Map.Entry<String, JsonElement> field : patch.getAsJsonObject().entrySet()) {
            JsonElement merged = merge(result.get(field.getKey()), field.getValue(), strategic,
                    path + "." + field.getKey());
            if (merged == null) {
                result.remove(field.getKey());
            } else {
                result.add(field.getKey(), merged);
            }
        }
        return result;
    }

    private static JsonArray mergeByKey(JsonArray target, JsonArray patch, String key) {
        JsonArray result = target.deepCopy();
        for (JsonElement element : patch) {
            if (!element.isJsonObject() || !element.getAsJsonObject().has(key)) {
                result.add(element.deepCopy());
                continue;
            }
            JsonObject change = element.getAsJsonObject();
            String value = change.get(key).getAsString();
            boolean delete = change.has("$patch") && "delete".equals(change.get("$patch").getAsString());
            int found = -1;
            for (int i = 0; i < result.size(); i++) {
                JsonElement existing = result.get(i);
                if (existing.isJsonObject() && existing.getAsJsonObject().has(key)
                        && value.equals(existing.getAsJsonObject().get(key).getAsString())) {
                    found = i;
                    break;
                }
            }
            if (delete) {
                if (found >= 0) {
                    result.remove(found);
                }
            } else if (found >= 0) {
                result.set(found, merge(result.get(found), change, true, ""));
            } else {
                result.add(change.deepCopy());
            }
        }
        return result;
    }
}
