package dev.railyard.proxy.source;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

import java.io.Reader;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads Kubernetes manifests: YAML or JSON, one object or many (multi-document YAML), and "kind: List" as
 * kubectl prints it. Objects come out as JSON trees with the line of each field. Parsing goes through the
 * YAML node graph rather than straight to objects so that lines survive.
 */
public final class ManifestReader {
    private static final int MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;

    private ManifestReader() {
    }

    public static List<ManifestObject> read(String source, String text) throws ManifestSyntaxException {
        LoaderOptions options = new LoaderOptions();
        options.setCodePointLimit(MAX_DOCUMENT_BYTES);
        options.setAllowDuplicateKeys(false);
        ScalarValues scalars = new ScalarValues(options);
        Yaml yaml = new Yaml(options);
        List<ManifestObject> objects = new ArrayList<>();
        try (Reader reader = new StringReader(text)) {
            for (Node document : yaml.composeAll(reader)) {
                if (document == null) {
                    continue;
                }
                collect(source, document, scalars, objects);
            }
        } catch (MarkedYAMLException e) {
            Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            int line = mark == null ? 0 : mark.getLine() + 1;
            String problem = e.getProblem() != null ? e.getProblem() : e.getMessage();
            throw new ManifestSyntaxException(source, line, "not valid YAML or JSON: " + firstLine(problem), e);
        } catch (YAMLException | java.io.IOException e) {
            throw new ManifestSyntaxException(source, 0, "not valid YAML or JSON: " + firstLine(e.getMessage()), e);
        }
        return objects;
    }

    private static void collect(String source, Node node, ScalarValues scalars, List<ManifestObject> out)
            throws ManifestSyntaxException {
        int line = node.getStartMark().getLine() + 1;
        if (node instanceof ScalarNode && scalars.construct((ScalarNode) node) == null) {
            return; // an empty document, e.g. a trailing "---"
        }
        if (!(node instanceof MappingNode)) {
            throw new ManifestSyntaxException(source, line, "expected a Kubernetes object (a mapping)", null);
        }
        Map<String, Integer> lines = new HashMap<>();
        JsonObject json = toJson(source, node, "", lines, scalars).getAsJsonObject();
        JsonElement kind = json.get("kind");
        JsonElement items = json.get("items");
        if (kind != null && kind.isJsonPrimitive() && kind.getAsString().endsWith("List")
                && items != null && items.isJsonArray()) {
            for (NodeTuple tuple : ((MappingNode) node).getValue()) {
                if ("items".equals(keyOf(tuple)) && tuple.getValueNode() instanceof SequenceNode) {
                    for (Node item : ((SequenceNode) tuple.getValueNode()).getValue()) {
                        collect(source, item, scalars, out);
                    }
                }
            }
            return;
        }
        out.add(new ManifestObject(source, line, json, lines));
    }

    private static JsonElement toJson(String source, Node node, String path, Map<String, Integer> lines, ScalarValues scalars)
            throws ManifestSyntaxException {
        if (!path.isEmpty()) {
            lines.put(path, node.getStartMark().getLine() + 1);
        }
        if (node instanceof MappingNode) {
            JsonObject object = new JsonObject();
            for (NodeTuple tuple : ((MappingNode) node).getValue()) {
                String key = keyOf(tuple);
                if (key == null) {
                    throw new ManifestSyntaxException(source, tuple.getKeyNode().getStartMark().getLine() + 1,
                            "mapping keys must be strings", null);
                }
                String child = path.isEmpty() ? key : path + "." + key;
                object.add(key, toJson(source, tuple.getValueNode(), child, lines, scalars));
            }
            return object;
        }
        if (node instanceof SequenceNode) {
            JsonArray array = new JsonArray();
            List<Node> items = ((SequenceNode) node).getValue();
            for (int i = 0; i < items.size(); i++) {
                array.add(toJson(source, items.get(i), path + "[" + i + "]", lines, scalars));
            }
            return array;
        }
        Object value = scalars.construct((ScalarNode) node);
        if (value == null) {
            return JsonNull.INSTANCE;
        }
        if (value instanceof Boolean) {
            return new JsonPrimitive((Boolean) value);
        }
        if (value instanceof Number) {
            return new JsonPrimitive((Number) value);
        }
        if (value instanceof Date) {
            // Timestamps (creationTimestamp) matter to nobody here; keep the text as written.
            return new JsonPrimitive(((ScalarNode) node).getValue());
        }
        return new JsonPrimitive(value.toString());
    }

    private static String keyOf(NodeTuple tuple) {
        Node key = tuple.getKeyNode();
        return key instanceof ScalarNode ? ((ScalarNode) key).getValue() : null;
    }

    private static String firstLine(String text) {
        if (text == null) {
            return "unknown error";
        }
        int newline = text.indexOf('\n');
        return (newline < 0 ? text : text.substring(0, newline)).trim();
    }

    /** Resolves plain scalars the way YAML 1.1 does (numbers, booleans, null) without building objects. */
    private static final class ScalarValues extends SafeConstructor {
        ScalarValues(LoaderOptions options) {
            super(options);
        }

        Object construct(ScalarNode node) {
            return constructObject(node);
        }
    }
}
