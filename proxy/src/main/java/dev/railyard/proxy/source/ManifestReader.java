package dev.railyard.proxy.source;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.nodes.Tag;
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
import java.util.Collections;
import java.util.Date;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads Kubernetes manifests: YAML or JSON, one object or many (multi-document YAML), and "kind: List" as
 * kubectl prints it. Objects come out as JSON trees with the line of each field. Parsing goes through the
 * YAML node graph rather than straight to objects so that lines survive.
 *
 * <p>Only text that is not YAML at all fails the whole file ({@link ManifestSyntaxException}). A document that
 * parses but cannot be an object (a list, a number, a mapping with a list for a key, a value whose explicit tag
 * does not fit it, an alias that contains itself) comes out as an unreadable {@link ManifestObject} carrying the
 * reason, so the objects around it are still read.
 */
public final class ManifestReader {
    private static final int MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;
    /**
     * Values a file may hold beyond one per character of its text. Only aliases can make more (each "*a" repeats
     * a whole subtree); past this, they are expanding exponentially ("billion laughs"), not describing a cluster.
     */
    private static final int VALUES_BEYOND_TEXT = 4096;
    /** The tags a mapping or list may carry and still be read as one (YAML's own collection types). */
    private static final Set<Tag> COLLECTION_TAGS = Set.of(Tag.MAP, Tag.OMAP, Tag.PAIRS, Tag.SET, Tag.SEQ);

    private ManifestReader() {
    }

    public static List<ManifestObject> read(String source, String text) throws ManifestSyntaxException {
        LoaderOptions options = new LoaderOptions();
        options.setCodePointLimit(MAX_DOCUMENT_BYTES);
        // SnakeYAML refuses global tags ("!!python/object") for the whole stream. Nothing here builds objects from
        // tags (scalars go through SafeConstructor, collections are read as plain maps and lists and a foreign tag
        // is their object's defect), so let them through and cost only the object that carries one.
        options.setTagInspector(tag -> true);
        ScalarValues scalars = new ScalarValues(options);
        Yaml yaml = new Yaml(options);
        List<ManifestObject> objects = new ArrayList<>();
        Budget budget = new Budget(source, (long) text.length() + VALUES_BEYOND_TEXT);
        try (Reader reader = new StringReader(text)) {
            for (Node document : yaml.composeAll(reader)) {
                if (document == null) {
                    continue;
                }
                collect(source, document, scalars, budget, objects);
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

    private static void collect(String source, Node node, ScalarValues scalars, Budget budget,
                                List<ManifestObject> out) throws ManifestSyntaxException {
        int line = node.getStartMark().getLine() + 1;
        if (node instanceof ScalarNode && isNull((ScalarNode) node, scalars)) {
            return; // an empty document, e.g. a trailing "---", or a null entry in a List's items
        }
        if (!(node instanceof MappingNode)) {
            out.add(ManifestObject.unreadable(source, line, "not a Kubernetes object: expected a mapping, found "
                    + (node instanceof SequenceNode ? "a list" : "a single value")));
            return;
        }
        MappingNode mapping = (MappingNode) node;
        SequenceNode items = listItems(mapping);
        if (items != null) {
            for (Node item : items.getValue()) {
                collect(source, item, scalars, budget, out);
            }
            return;
        }
        Conversion conversion = new Conversion(scalars, budget);
        JsonObject json = conversion.toJson(mapping, "").getAsJsonObject();
        out.add(new ManifestObject(source, line, json, conversion.lines, conversion.defectField,
                conversion.defectMessage));
    }

    /** The items of a "kind: ...List" with an items list, as kubectl prints them; null for anything else. */
    private static SequenceNode listItems(MappingNode mapping) {
        String kind = null;
        SequenceNode items = null;
        for (NodeTuple tuple : mapping.getValue()) {
            String key = keyOf(tuple);
            if ("kind".equals(key) && tuple.getValueNode() instanceof ScalarNode) {
                kind = ((ScalarNode) tuple.getValueNode()).getValue();
            } else if ("items".equals(key) && tuple.getValueNode() instanceof SequenceNode) {
                items = (SequenceNode) tuple.getValueNode();
            }
        }
        return kind != null && kind.endsWith("List") ? items : null;
    }

    private static boolean isNull(ScalarNode node, ScalarValues scalars) {
        try {
            return scalars.construct(node) == null;
        } catch (RuntimeException e) {
            return false; // a tagged value that does not construct: not null, so reported as not an object
        }
    }

    /** One object's conversion to JSON: its field lines, and the first reason it cannot be read, if any. */
    private static final class Conversion {
        private final ScalarValues scalars;
        private final Budget budget;
        private final Map<String, Integer> lines = new HashMap<>();
        /** Collections being converted, to catch an alias inside its own anchor ("&a [*a]"). */
        private final Set<Node> ancestors = Collections.newSetFromMap(new IdentityHashMap<>());
        private String defectField;
        private String defectMessage;

        Conversion(ScalarValues scalars, Budget budget) {
            this.scalars = scalars;
            this.budget = budget;
        }

        JsonElement toJson(Node node, String path) throws ManifestSyntaxException {
            budget.spend(node);
            if (!path.isEmpty()) {
                lines.put(path, node.getStartMark().getLine() + 1);
            }
            if (node instanceof ScalarNode) {
                return scalar((ScalarNode) node, path);
            }
            if (!ancestors.add(node)) {
                defect(path, "refers to itself (a recursive YAML alias)");
                return JsonNull.INSTANCE;
            }
            if (!COLLECTION_TAGS.contains(node.getTag())) {
                defect(path, "cannot be read: the YAML tag " + node.getTag() + " is not a mapping or a list");
            }
            try {
                return node instanceof MappingNode ? mapping((MappingNode) node, path)
                        : sequence((SequenceNode) node, path);
            } finally {
                ancestors.remove(node);
            }
        }

        private JsonElement mapping(MappingNode node, String path) throws ManifestSyntaxException {
            JsonObject object = new JsonObject();
            for (NodeTuple tuple : node.getValue()) {
                String key = keyOf(tuple);
                if (key == null) {
                    defect(path, "has a key that is not a string");
                    continue;
                }
                String child = path.isEmpty() ? key : path + "." + key;
                if (object.has(key)) {
                    // YAML forbids it, and which of the two Kubernetes would read is anyone's guess.
                    defect(child, "appears twice");
                }
                object.add(key, toJson(tuple.getValueNode(), child));
            }
            return object;
        }

        private JsonElement sequence(SequenceNode node, String path) throws ManifestSyntaxException {
            JsonArray array = new JsonArray();
            List<Node> items = node.getValue();
            for (int i = 0; i < items.size(); i++) {
                array.add(toJson(items.get(i), path + "[" + i + "]"));
            }
            return array;
        }

        private JsonElement scalar(ScalarNode node, String path) {
            Object value;
            try {
                value = scalars.construct(node);
            } catch (RuntimeException e) {
                // An explicit tag the text does not fit ("!!int abc") or that nothing reads ("!custom x").
                defect(path, "cannot be read: " + firstLine(e instanceof MarkedYAMLException marked
                        && marked.getProblem() != null ? marked.getProblem() : e.getMessage()));
                return JsonNull.INSTANCE;
            }
            if (value == null) {
                return JsonNull.INSTANCE;
            }
            if (value instanceof Boolean) {
                return new JsonPrimitive((Boolean) value);
            }
            if (value instanceof Number) {
                return new JsonPrimitive((Number) value);
            }
            if (value instanceof String) {
                return new JsonPrimitive((String) value);
            }
            // Timestamps (creationTimestamp) matter to nobody here, nor do binary or other tagged values: keep
            // the text as written.
            return new JsonPrimitive(node.getValue());
        }

        private void defect(String path, String message) {
            if (defectMessage == null) {
                defectField = path;
                defectMessage = message;
            }
        }
    }

    /** How many values a file's objects may still add up to; see {@link #VALUES_BEYOND_TEXT}. */
    private static final class Budget {
        private final String source;
        private long left;

        Budget(String source, long values) {
            this.source = source;
            this.left = values;
        }

        void spend(Node node) throws ManifestSyntaxException {
            if (--left < 0) {
                throw new ManifestSyntaxException(source, node.getStartMark().getLine() + 1,
                        "YAML aliases expand to more values than the file has characters; refusing to expand them",
                        null);
            }
        }
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
