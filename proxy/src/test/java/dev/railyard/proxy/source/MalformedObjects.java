package dev.railyard.proxy.source;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Valid Services, EndpointSlices and Endpoints as JSON trees, and random ways of breaking them, for the
 * property tests of everything that reads objects from the cluster: any value replaced by null, a wrong type,
 * a huge or negative number, an empty, odd, injecting or very long string; fields deleted; list entries
 * duplicated; null entries added.
 *
 * <p>Every injecting string carries {@link #MARKER}: rendered rules must never contain it, in any case.
 */
public final class MalformedObjects {
    /** In every string meant to inject iptables syntax; lower-cased too, it must never reach a rule. */
    public static final String MARKER = "ZQXINJECT";

    private static final Gson GSON = new GsonBuilder().serializeNulls().disableHtmlEscaping().create();

    private MalformedObjects() {
    }

    /** The templates: each makes one valid object from a name prefix and a number 0-199. */
    public enum Template {
        CLUSTER_IP_SERVICE, NODE_PORT_SERVICE, DUAL_STACK_LOAD_BALANCER, SLICE_IPV4, SLICE_IPV6, LEGACY_ENDPOINTS;

        /** A valid object; the slices and Endpoints belong to the services of the same prefix and number. */
        public JsonObject make(String prefix, int n) {
            String web = prefix + "-web-" + n;
            String np = prefix + "-np-" + n;
            String lb = prefix + "-lb-" + n;
            String text = switch (this) {
                case CLUSTER_IP_SERVICE -> """
                        {"apiVersion": "v1", "kind": "Service",
                         "metadata": {"name": "%1$s", "namespace": "ns", "labels": {"app": "web"}},
                         "spec": {"type": "ClusterIP", "clusterIP": "10.96.%2$d.1", "clusterIPs": ["10.96.%2$d.1"],
                                  "selector": {"app": "web"}, "sessionAffinity": "None",
                                  "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
                                            {"name": "dns", "port": 53, "targetPort": "dns", "protocol": "UDP"}]}}
                        """.formatted(web, n);
                case NODE_PORT_SERVICE -> """
                        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "%1$s", "namespace": "ns"},
                         "spec": {"type": "NodePort", "clusterIP": "10.96.%2$d.2", "externalIPs": ["203.0.113.%2$d"],
                                  "sessionAffinity": "ClientIP",
                                  "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 600}},
                                  "externalTrafficPolicy": "Local", "internalTrafficPolicy": "Cluster",
                                  "ports": [{"name": "http", "port": 80, "nodePort": %3$d, "targetPort": "http"}]}}
                        """.formatted(np, n, 30000 + n);
                case DUAL_STACK_LOAD_BALANCER -> """
                        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "%1$s", "namespace": "ns"},
                         "spec": {"type": "LoadBalancer", "clusterIP": "10.96.%2$d.3",
                                  "clusterIPs": ["10.96.%2$d.3", "fd00::%2$d:3"], "ipFamilies": ["IPv4", "IPv6"],
                                  "ipFamilyPolicy": "RequireDualStack",
                                  "loadBalancerSourceRanges": ["198.51.100.0/24", "2001:db8::/64"],
                                  "healthCheckNodePort": %3$d, "externalTrafficPolicy": "Local",
                                  "internalTrafficPolicy": "Local",
                                  "ports": [{"name": "https", "port": 443, "nodePort": %4$d, "protocol": "TCP"}]},
                         "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.%2$d", "ipMode": "VIP"},
                                                                 {"hostname": "lb.example.com"},
                                                                 {"ip": "2001:db8::%2$d"}]}}}
                        """.formatted(lb, n, 32000 + n, 31000 + n);
                case SLICE_IPV4 -> """
                        {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                         "metadata": {"name": "%1$s-x7k2p", "namespace": "ns",
                                      "labels": {"kubernetes.io/service-name": "%1$s"},
                                      "annotations": {"endpoints.kubernetes.io/last-change-trigger-time":
                                                      "2024-01-01T00:00:00Z"}},
                         "addressType": "IPv4",
                         "ports": [{"name": "http", "port": 8080, "protocol": "TCP"},
                                   {"name": "dns", "port": 53, "protocol": "UDP"}],
                         "endpoints": [{"addresses": ["10.244.%2$d.2"],
                                        "conditions": {"ready": true, "serving": true, "terminating": false},
                                        "nodeName": "node-a", "zone": "zone-1",
                                        "hints": {"forZones": [{"name": "zone-1"}]},
                                        "targetRef": {"kind": "Pod", "name": "web-1", "namespace": "ns"}},
                                       {"addresses": ["10.244.%2$d.3"],
                                        "conditions": {"ready": false, "serving": true, "terminating": true},
                                        "nodeName": "node-b"}]}
                        """.formatted(web, n);
                case SLICE_IPV6 -> """
                        {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                         "metadata": {"name": "%1$s-v6", "namespace": "ns",
                                      "labels": {"kubernetes.io/service-name": "%1$s"}},
                         "addressType": "IPv6",
                         "ports": [{"name": "https", "port": 8443}],
                         "endpoints": [{"addresses": ["fd00:10:244::%2$d"], "nodeName": "node-a"}]}
                        """.formatted(lb, n);
                case LEGACY_ENDPOINTS -> """
                        {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "%1$s", "namespace": "ns"},
                         "subsets": [{"addresses": [{"ip": "10.244.%2$d.5", "nodeName": "node-a"}],
                                      "notReadyAddresses": [{"ip": "10.244.%2$d.6"}],
                                      "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}]}
                        """.formatted(np, n);
            };
            return JsonParser.parseString(text).getAsJsonObject();
        }
    }

    /** Every template made with {@code prefix} and {@code n}: one whole valid cluster. */
    public static List<JsonObject> validCluster(String prefix, int n) {
        List<JsonObject> objects = new ArrayList<>();
        for (Template template : Template.values()) {
            objects.add(template.make(prefix, n));
        }
        return objects;
    }

    // ------------------------------------------------------------------------------------------------ mutations

    /** What a mutation does at the position it picks. */
    public enum Operation {
        REPLACE, DELETE, DUPLICATE_ENTRY, ADD_NULL_ENTRY
    }

    /**
     * One mutation: {@code pick} chooses a position among all values of the tree at the time it applies (modulo
     * their count); DUPLICATE_ENTRY and ADD_NULL_ENTRY act on the list the position is in, or on the nearest
     * enclosing list, and replace the value when there is none.
     */
    public record Mutation(int pick, Operation operation, JsonElement replacement) {
        @Override
        public String toString() {
            String value = replacement == null ? "" : " " + abbreviate(GSON.toJson(replacement));
            return operation + "@" + pick + value;
        }
    }

    public static Arbitrary<Mutation> mutation() {
        return Combinators.combine(Arbitraries.integers().between(0, 10_000),
                        Arbitraries.of(Operation.class).withoutEdgeCases(), replacement())
                .as((pick, operation, value) -> new Mutation(pick, operation,
                        operation == Operation.REPLACE ? value : null));
    }

    public static Arbitrary<List<Mutation>> mutations() {
        return mutation().list().ofMinSize(1).ofMaxSize(4);
    }

    /** A copy of {@code original} with the mutations applied in order. */
    public static JsonObject mutate(JsonObject original, List<Mutation> mutations) {
        JsonObject copy = original.deepCopy();
        for (Mutation mutation : mutations) {
            List<Position> positions = new ArrayList<>();
            collect(copy, null, positions);
            if (positions.isEmpty()) {
                continue;
            }
            positions.get(Math.floorMod(mutation.pick(), positions.size())).apply(mutation);
        }
        return copy;
    }

    /** Where a value sits: a member of an object, or an entry of an array; {@code enclosing} is the nearest list. */
    private record Position(JsonObject object, String member, JsonArray array, int index, Position enclosing) {
        void apply(Mutation mutation) {
            switch (mutation.operation()) {
                case REPLACE -> set(mutation.replacement().deepCopy());
                case DELETE -> {
                    if (object != null) {
                        object.remove(member);
                    } else {
                        array.remove(index);
                    }
                }
                case DUPLICATE_ENTRY -> {
                    Position list = array != null ? this : enclosing;
                    if (list == null) {
                        set(JsonNull.INSTANCE);
                    } else {
                        list.array.add(list.array.get(list.index).deepCopy());
                    }
                }
                case ADD_NULL_ENTRY -> {
                    Position list = array != null ? this : enclosing;
                    if (list == null) {
                        set(JsonNull.INSTANCE);
                    } else {
                        list.array.add(JsonNull.INSTANCE);
                    }
                }
            }
        }

        private void set(JsonElement value) {
            if (object != null) {
                object.add(member, value);
            } else {
                array.set(index, value);
            }
        }
    }

    private static void collect(JsonElement element, Position enclosing, List<Position> out) {
        if (element.isJsonObject()) {
            JsonObject object = element.getAsJsonObject();
            for (String member : new ArrayList<>(object.keySet())) {
                Position position = new Position(object, member, null, -1, enclosing);
                out.add(position);
                collect(object.get(member), enclosing, out);
            }
        } else if (element.isJsonArray()) {
            JsonArray array = element.getAsJsonArray();
            for (int i = 0; i < array.size(); i++) {
                Position position = new Position(null, null, array, i, enclosing);
                out.add(position);
                collect(array.get(i), position, out);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- replacements

    /** Values that do not belong: nulls, wrong types, numbers out of every range, odd strings. */
    public static Arbitrary<JsonElement> replacement() {
        Arbitrary<JsonElement> nulls = Arbitraries.just(JsonNull.INSTANCE);
        Arbitrary<JsonElement> booleans = Arbitraries.of(true, false).map(JsonPrimitive::new);
        Arbitrary<JsonElement> odd = oddStrings().map(JsonPrimitive::new);
        Arbitrary<JsonElement> nearlyValid = nearlyValidStrings().map(JsonPrimitive::new);
        Arbitrary<JsonElement> random = Arbitraries.strings().ofMaxLength(30)
                .withCharRange(' ', '~').withCharRange('\u00a0', '\u024f').withChars('\n', '\t', '\u2028')
                .map(JsonPrimitive::new);
        Arbitrary<JsonElement> structures = Arbitraries.of("{}", "[]", "[null]", "[{}]", "{\"a\": 1}",
                "[\"x\", 1, true]", "{\"\": null}").map(JsonParser::parseString);
        return Arbitraries.frequencyOf(Tuple.of(2, nulls), Tuple.of(2, booleans), Tuple.of(4, numbers()),
                Tuple.of(6, odd), Tuple.of(3, nearlyValid), Tuple.of(2, random), Tuple.of(2, structures));
    }

    private static Arbitrary<JsonElement> numbers() {
        Arbitrary<JsonElement> edges = Arbitraries.of(0L, -1L, 1L, 65535L, 65536L, 86400L, 86401L, 2147483647L,
                2147483648L, -2147483648L, -2147483649L, Long.MAX_VALUE, Long.MIN_VALUE).map(JsonPrimitive::new);
        Arbitrary<JsonElement> huge = Arbitraries.of(new BigInteger("123456789012345678901234567890"),
                BigInteger.TEN.pow(400).negate()).map(JsonPrimitive::new);
        Arbitrary<JsonElement> fractions = Arbitraries.of(new BigDecimal("1.5"), new BigDecimal("-0.0"),
                new BigDecimal("80.0"), new BigDecimal("1e300"), new BigDecimal("1e-300")).map(JsonPrimitive::new);
        Arbitrary<JsonElement> small = Arbitraries.integers().between(-70000, 70000).map(JsonPrimitive::new);
        return Arbitraries.oneOf(edges, huge, fractions, small);
    }

    /** Strings that try to break out of an iptables comment, argument or line, and other oddities. */
    public static Arbitrary<String> oddStrings() {
        return Arbitraries.of(
                "", " ", "\"", "'", ";", "{", "}", "\n", "\\", "--", "-",
                "x\" -j ACCEPT -m comment --comment \"" + MARKER,
                "a\n-A INPUT -j " + MARKER,
                "10.0.0.1 -j " + MARKER,
                "10.0.0.1\n-A KUBE-SERVICES -j " + MARKER,
                MARKER.toLowerCase() + "; iptables -F",
                "{" + MARKER + "}",
                "ns/" + MARKER.toLowerCase(),
                "$(" + MARKER.toLowerCase() + ")",
                "`" + MARKER.toLowerCase() + "`",
                "é" + MARKER.toLowerCase(),
                "\u202e" + MARKER.toLowerCase(),
                "\u0000" + MARKER.toLowerCase(),
                "#" + MARKER.toLowerCase(),
                "a".repeat(64),
                "a".repeat(254),
                MARKER.toLowerCase().repeat(2_000),
                "z".repeat(100_000));
    }

    /** Strings one step from valid, to reach the validation past the first check. */
    public static Arbitrary<String> nearlyValidStrings() {
        return Arbitraries.of(
                "10.0.0.1 ", " 10.0.0.1", "10.0.0.01", "10.0.0.256", "010.0.0.1", "::ffff:10.0.0.1", "fe80::1%eth0",
                "10.0.0.1/32", "10.0.0.0/8", "0.0.0.0", "::", "2001:DB8::1", "1.2.3", "10.0.0.0/33", " 10.0.0.0/8 ",
                "TCP", "tcp", "UDP", "SCTP", "ICMP", "None", "ClientIP", "Local", "Cluster", "IPv4", "IPv6", "FQDN",
                "ExternalName", "ClusterIP", "NodePort", "LoadBalancer", "VIP", "Proxy", "node-a", "node-b",
                "a", "a-", "-a", "A", "a.b", "1a", "a_b", "default", "kube-system", "v1", "List", "Service",
                "EndpointSlice", "Endpoints", "discovery.k8s.io/v1", "discovery.k8s.io/v1beta1", "2024-13-45T99:00:00Z");
    }

    // ----------------------------------------------------------------------------------------------- file texts

    public enum Format {
        YAML_BLOCK, YAML_FLOW, JSON_LIST
    }

    /** The objects as one manifest file in {@code format}. */
    public static String file(List<JsonObject> objects, Format format) {
        if (format == Format.JSON_LIST) {
            JsonObject list = new JsonObject();
            list.addProperty("apiVersion", "v1");
            list.addProperty("kind", "List");
            JsonArray items = new JsonArray();
            objects.forEach(items::add);
            list.add("items", items);
            return GSON.toJson(list);
        }
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(format == Format.YAML_FLOW ? DumperOptions.FlowStyle.FLOW
                : DumperOptions.FlowStyle.BLOCK);
        options.setWidth(Integer.MAX_VALUE);
        options.setSplitLines(false);
        Yaml yaml = new Yaml(options);
        StringBuilder text = new StringBuilder();
        for (JsonObject object : objects) {
            text.append("---\n").append(yaml.dump(toJava(object)));
        }
        return text.toString();
    }

    private static Object toJava(JsonElement element) {
        if (element.isJsonNull()) {
            return null;
        }
        if (element.isJsonObject()) {
            Map<String, Object> map = new LinkedHashMap<>();
            element.getAsJsonObject().entrySet().forEach(e -> map.put(e.getKey(), toJava(e.getValue())));
            return map;
        }
        if (element.isJsonArray()) {
            List<Object> list = new ArrayList<>();
            element.getAsJsonArray().forEach(e -> list.add(toJava(e)));
            return list;
        }
        JsonPrimitive primitive = element.getAsJsonPrimitive();
        if (primitive.isBoolean()) {
            return primitive.getAsBoolean();
        }
        if (primitive.isString()) {
            return primitive.getAsString();
        }
        BigDecimal number = primitive.getAsBigDecimal();
        try {
            return number.toBigIntegerExact();
        } catch (ArithmeticException e) {
            return number.doubleValue();
        }
    }

    static String abbreviate(String text) {
        return text.length() <= 80 ? text : text.substring(0, 80) + "...(" + text.length() + " chars)";
    }
}
