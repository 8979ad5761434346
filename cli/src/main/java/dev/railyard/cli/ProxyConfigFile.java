package dev.railyard.cli;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code --config FILE}: the subset of kube-proxy's KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1)
 * that Railyard implements. Every field is optional (null when absent); flags override them. A field Railyard
 * does not know fails the load with its path, so that a setting the operator relies on is never silently
 * ignored. Immutable.
 */
record ProxyConfigFile(String mode, String kubeconfig, String clusterCidr, String hostnameOverride,
                       List<String> nodePortAddresses, String healthzBindAddress, String metricsBindAddress,
                       Boolean masqueradeAll, Integer masqueradeBit, Duration minSyncPeriod, Duration syncPeriod,
                       Boolean localhostNodePorts) {
    static final String API_VERSION = "kubeproxy.config.k8s.io/v1alpha1";
    static final String KIND = "KubeProxyConfiguration";

    private static final Set<String> TOP_LEVEL = Set.of("apiVersion", "kind", "mode", "clientConnection",
            "clusterCIDR", "hostnameOverride", "nodePortAddresses", "healthzBindAddress", "metricsBindAddress",
            "iptables");
    private static final Set<String> CLIENT_CONNECTION = Set.of("kubeconfig");
    private static final Set<String> IPTABLES = Set.of("masqueradeAll", "masqueradeBit", "minSyncPeriod",
            "syncPeriod", "localhostNodePorts");

    static final ProxyConfigFile EMPTY = new ProxyConfigFile(null, null, null, null, null, null, null, null, null,
            null, null, null);

    ProxyConfigFile {
        nodePortAddresses = nodePortAddresses == null ? null : List.copyOf(nodePortAddresses);
    }

    /** @throws IllegalArgumentException naming the file and field that is wrong */
    static ProxyConfigFile load(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("--config " + file + ": cannot read: " + e.getMessage(), e);
        }
        try {
            return parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--config " + file + ": " + e.getMessage(), e);
        }
    }

    static ProxyConfigFile parse(String text) {
        Object document;
        try {
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(false);
            document = new Yaml(new SafeConstructor(options)).load(text);
        } catch (YAMLException e) {
            throw new IllegalArgumentException("not valid YAML: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
        if (document == null) {
            return EMPTY;
        }
        Map<String, Object> root = mapping(document, "the document");
        checkKnown(root, TOP_LEVEL, "");
        Object apiVersion = root.get("apiVersion");
        if (apiVersion != null && !API_VERSION.equals(apiVersion)) {
            throw new IllegalArgumentException("apiVersion: \"" + apiVersion + "\" is not supported; use " + API_VERSION);
        }
        Object kind = root.get("kind");
        if (kind != null && !KIND.equals(kind)) {
            throw new IllegalArgumentException("kind: \"" + kind + "\" is not supported; use " + KIND);
        }
        Map<String, Object> client = optionalMapping(root, "clientConnection");
        checkKnown(client, CLIENT_CONNECTION, "clientConnection.");
        Map<String, Object> iptables = optionalMapping(root, "iptables");
        checkKnown(iptables, IPTABLES, "iptables.");
        return new ProxyConfigFile(
                string(root, "mode", "mode"),
                string(client, "kubeconfig", "clientConnection.kubeconfig"),
                string(root, "clusterCIDR", "clusterCIDR"),
                string(root, "hostnameOverride", "hostnameOverride"),
                strings(root, "nodePortAddresses"),
                string(root, "healthzBindAddress", "healthzBindAddress"),
                string(root, "metricsBindAddress", "metricsBindAddress"),
                bool(iptables, "masqueradeAll", "iptables.masqueradeAll"),
                integer(iptables, "masqueradeBit", "iptables.masqueradeBit"),
                duration(iptables, "minSyncPeriod", "iptables.minSyncPeriod"),
                duration(iptables, "syncPeriod", "iptables.syncPeriod"),
                bool(iptables, "localhostNodePorts", "iptables.localhostNodePorts"));
    }

    private static void checkKnown(Map<String, Object> map, Set<String> known, String prefix) {
        for (String key : map.keySet()) {
            if (!known.contains(key)) {
                throw new IllegalArgumentException(prefix + key + ": unknown or unsupported field (supported: "
                        + String.join(", ", known.stream().sorted().toList()) + ")");
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> mapping(Object value, String what) {
        if (!(value instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException(what + ": expected a mapping");
        }
        for (Object key : map.keySet()) {
            if (!(key instanceof String)) {
                throw new IllegalArgumentException(what + ": key " + key + " is not a string");
            }
        }
        return (Map<String, Object>) map;
    }

    private static Map<String, Object> optionalMapping(Map<String, Object> parent, String key) {
        Object value = parent.get(key);
        return value == null ? Map.of() : mapping(value, key);
    }

    private static String string(Map<String, Object> map, String key, String path) {
        Object value = map.get(key);
        if (value == null) {
            return null;
        }
        if (!(value instanceof String text)) {
            throw new IllegalArgumentException(path + ": expected a string, got " + value);
        }
        return text;
    }

    private static List<String> strings(Map<String, Object> map, String key) {
        Object value = map.get(key);
        if (value == null) {
            return null;
        }
        if (!(value instanceof List<?> list)) {
            throw new IllegalArgumentException(key + ": expected a list of strings");
        }
        List<String> result = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof String text)) {
                throw new IllegalArgumentException(key + "[" + i + "]: expected a string, got " + list.get(i));
            }
            result.add(text);
        }
        return result;
    }

    private static Boolean bool(Map<String, Object> map, String key, String path) {
        Object value = map.get(key);
        if (value == null) {
            return null;
        }
        if (!(value instanceof Boolean flag)) {
            throw new IllegalArgumentException(path + ": expected true or false, got " + value);
        }
        return flag;
    }

    private static Integer integer(Map<String, Object> map, String key, String path) {
        Object value = map.get(key);
        if (value == null) {
            return null;
        }
        if (!(value instanceof Integer number)) {
            throw new IllegalArgumentException(path + ": expected an integer, got " + value);
        }
        return number;
    }

    private static Duration duration(Map<String, Object> map, String key, String path) {
        String text = string(map, key, path);
        return text == null ? null : GoDurations.parse(path, text);
    }
}
