package dev.railyard.proxy.source;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import java.util.Map;

/**
 * One Kubernetes object read from a manifest file, as JSON, with the line each field came from so that a
 * problem can point at the line to fix.
 */
public final class ManifestObject {
    private final String source;
    private final int line;
    private final JsonObject json;
    private final Map<String, Integer> fieldLines;
    /** Why the YAML could not become a whole object (then {@link #json} is what could be read), or null. */
    private final String unreadableField;
    private final String unreadableReason;

    ManifestObject(String source, int line, JsonObject json, Map<String, Integer> fieldLines) {
        this(source, line, json, fieldLines, null, null);
    }

    ManifestObject(String source, int line, JsonObject json, Map<String, Integer> fieldLines, String unreadableField,
                   String unreadableReason) {
        this.source = source;
        this.line = line;
        this.json = json;
        this.fieldLines = Map.copyOf(fieldLines);
        this.unreadableField = unreadableReason == null ? null : unreadableField;
        this.unreadableReason = unreadableReason;
    }

    /** A document that is not an object at all (a list, a single value). */
    static ManifestObject unreadable(String source, int line, String reason) {
        return new ManifestObject(source, line, new JsonObject(), Map.of(), "", reason);
    }

    /**
     * Fails with the field and reason when the YAML could not be read as a whole object (a non-string key, a
     * value its tag does not fit, a recursive alias, a document that is not a mapping); such an object must be
     * reported, never bound.
     */
    public void checkReadable() throws InvalidFieldException {
        if (unreadableReason != null) {
            throw new InvalidFieldException(unreadableField, unreadableReason);
        }
    }

    public String source() {
        return source;
    }

    /** 1-based line where the object starts. */
    public int line() {
        return line;
    }

    public JsonObject json() {
        return json;
    }

    public String kind() {
        return string("kind");
    }

    public String apiVersion() {
        return string("apiVersion");
    }

    /** Kinds without a namespace, named "Kind name" rather than "Kind namespace/name". */
    private static final java.util.Set<String> CLUSTER_SCOPED = java.util.Set.of("Node", "ServiceCIDR", "Namespace");

    /** Whether objects of this kind have no namespace (a Node, a ServiceCIDR). */
    public static boolean clusterScoped(String kind) {
        return CLUSTER_SCOPED.contains(kind);
    }

    /** "kind namespace/name" as far as the object says ("kind name" for a cluster-scoped kind). */
    public String describe() {
        String kind = kind() == null ? "object" : kind();
        JsonElement metadata = json.get("metadata");
        String name = null;
        String namespace = null;
        if (metadata != null && metadata.isJsonObject()) {
            name = primitive(metadata.getAsJsonObject().get("name"));
            namespace = primitive(metadata.getAsJsonObject().get("namespace"));
        }
        if (name == null) {
            return kind + " (unnamed)";
        }
        if (clusterScoped(kind)) {
            return kind + " " + name;
        }
        return kind + " " + (namespace == null ? "default" : namespace) + "/" + name;
    }

    /** "file:line" of a field such as "spec.ports[0].port", or of the nearest enclosing field that has a line. */
    public String locate(String field) {
        String path = field == null ? "" : field;
        while (!path.isEmpty()) {
            Integer at = fieldLines.get(path);
            if (at != null) {
                return source + ":" + at;
            }
            int cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
            path = cut < 0 ? "" : path.substring(0, cut);
        }
        return source + ":" + line;
    }

    /** A top-level string such as kind; null when absent or empty, which the API treats alike. */
    private String string(String member) {
        String value = primitive(json.get(member));
        return value == null || value.isEmpty() ? null : value;
    }

    private static String primitive(JsonElement element) {
        return element != null && element.isJsonPrimitive() ? element.getAsString() : null;
    }
}
