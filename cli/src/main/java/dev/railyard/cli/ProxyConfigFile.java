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
 * that Railyard implements. Every field is optional (null when absent); flags override them. As in kube-proxy,
 * a zero value ("", 0, false, "0s", null) means "the default", so the file kubeadm writes, which lists every
 * field, loads as it is. A setting Railyard does not implement is accepted only while it holds its zero value
 * or kube-proxy's default, and an unknown field fails the load; either error names the field's path, so that a
 * setting the operator relies on is never silently ignored. Immutable.
 */
record ProxyConfigFile(String mode, String kubeconfig, String clusterCidr, String hostnameOverride,
                       List<String> nodePortAddresses, String healthzBindAddress, String metricsBindAddress,
                       Boolean masqueradeAll, Integer masqueradeBit, Duration minSyncPeriod, Duration syncPeriod,
                       Boolean localhostNodePorts, String bindAddress, Boolean nftMasqueradeAll,
                       Integer nftMasqueradeBit, Duration nftMinSyncPeriod, Duration nftSyncPeriod,
                       String detectLocalMode, String bridgeInterface, String interfaceNamePrefix,
                       Conntrack conntrack, Map<String, Boolean> featureGates) {
    /**
     * The conntrack section. kube-proxy's pointers: null is "the default"; an explicit 0 (or "0s") leaves the
     * kernel's value alone.
     */
    record Conntrack(Integer maxPerCore, Integer min, Duration tcpEstablishedTimeout, Duration tcpCloseWaitTimeout,
                     Boolean tcpBeLiberal, Duration udpTimeout, Duration udpStreamTimeout) {
        static final Conntrack EMPTY = new Conntrack(null, null, null, null, null, null, null);
    }

    static final String API_VERSION = "kubeproxy.config.k8s.io/v1alpha1";
    static final String KIND = "KubeProxyConfiguration";

    private static final Set<String> TOP_LEVEL = Set.of("apiVersion", "kind", "mode", "clientConnection",
            "clusterCIDR", "hostnameOverride", "nodePortAddresses", "healthzBindAddress", "metricsBindAddress",
            "iptables", "nftables", "bindAddress", "detectLocalMode", "detectLocal", "conntrack", "featureGates");
    private static final Set<String> DETECT_LOCAL = Set.of("bridgeInterface", "interfaceNamePrefix");
    private static final Set<String> CONNTRACK = Set.of("maxPerCore", "min", "tcpEstablishedTimeout",
            "tcpCloseWaitTimeout", "tcpBeLiberal", "udpTimeout", "udpStreamTimeout");
    private static final Set<String> CLIENT_CONNECTION = Set.of("kubeconfig");
    private static final Set<String> IPTABLES = Set.of("masqueradeAll", "masqueradeBit", "minSyncPeriod",
            "syncPeriod", "localhostNodePorts");
    private static final Set<String> NFTABLES = Set.of("masqueradeAll", "masqueradeBit", "minSyncPeriod",
            "syncPeriod");
    /**
     * kube-proxy settings Railyard does not implement, by path, with the non-zero values that are kube-proxy's
     * defaults (so ignoring them changes nothing). A mapping (conntrack, ipvs, logging...) is accepted when every
     * value in it is zero.
     */
    private static final Map<String, Set<Object>> DEFAULT_ONLY = Map.ofEntries(
            Map.entry("bindAddressHardFail", Set.of()),
            Map.entry("configSyncPeriod", Set.of("15m", "15m0s")),
            Map.entry("enableProfiling", Set.of()),
            Map.entry("ipvs", Set.of()),
            Map.entry("logging", Set.of()),
            Map.entry("oomScoreAdj", Set.of(-999)),
            Map.entry("portRange", Set.of()),
            Map.entry("showHiddenMetricsForVersion", Set.of()),
            Map.entry("winkernel", Set.of()),
            Map.entry("clientConnection.acceptContentTypes", Set.of()),
            Map.entry("clientConnection.burst", Set.of(10)),
            Map.entry("clientConnection.contentType", Set.of("application/vnd.kubernetes.protobuf")),
            Map.entry("clientConnection.qps", Set.of(5, 5.0)));

    static final ProxyConfigFile EMPTY = new ProxyConfigFile(null, null, null, null, null, null, null, null, null,
            null, null, null, null, null, null, null, null, null, null, null, Conntrack.EMPTY, Map.of());

    ProxyConfigFile {
        nodePortAddresses = nodePortAddresses == null ? null : List.copyOf(nodePortAddresses);
        conntrack = conntrack == null ? Conntrack.EMPTY : conntrack;
        featureGates = featureGates == null ? Map.of() : Map.copyOf(featureGates);
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
        Map<String, Object> nftables = optionalMapping(root, "nftables");
        checkKnown(nftables, NFTABLES, "nftables.");
        Map<String, Object> detectLocal = optionalMapping(root, "detectLocal");
        checkKnown(detectLocal, DETECT_LOCAL, "detectLocal.");
        Map<String, Object> conntrack = optionalMapping(root, "conntrack");
        checkKnown(conntrack, CONNTRACK, "conntrack.");
        Map<String, Boolean> gates = new java.util.TreeMap<>();
        for (Map.Entry<String, Object> gate : optionalMapping(root, "featureGates").entrySet()) {
            if (!(gate.getValue() instanceof Boolean flag)) {
                throw new IllegalArgumentException("featureGates." + gate.getKey() + ": expected true or false, got "
                        + gate.getValue());
            }
            gates.put(gate.getKey(), flag);
        }
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
                bool(iptables, "localhostNodePorts", "iptables.localhostNodePorts"),
                string(root, "bindAddress", "bindAddress"),
                bool(nftables, "masqueradeAll", "nftables.masqueradeAll"),
                integer(nftables, "masqueradeBit", "nftables.masqueradeBit"),
                duration(nftables, "minSyncPeriod", "nftables.minSyncPeriod"),
                duration(nftables, "syncPeriod", "nftables.syncPeriod"),
                string(root, "detectLocalMode", "detectLocalMode"),
                string(detectLocal, "bridgeInterface", "detectLocal.bridgeInterface"),
                string(detectLocal, "interfaceNamePrefix", "detectLocal.interfaceNamePrefix"),
                new Conntrack(integer(conntrack, "maxPerCore", "conntrack.maxPerCore"),
                        integer(conntrack, "min", "conntrack.min"),
                        explicitDuration(conntrack, "tcpEstablishedTimeout", "conntrack.tcpEstablishedTimeout"),
                        explicitDuration(conntrack, "tcpCloseWaitTimeout", "conntrack.tcpCloseWaitTimeout"),
                        bool(conntrack, "tcpBeLiberal", "conntrack.tcpBeLiberal"),
                        explicitDuration(conntrack, "udpTimeout", "conntrack.udpTimeout"),
                        explicitDuration(conntrack, "udpStreamTimeout", "conntrack.udpStreamTimeout")),
                gates);
    }

    /** A Go duration where an explicit zero means something (leave the kernel's value); absent is null. */
    private static Duration explicitDuration(Map<String, Object> map, String key, String path) {
        Object value = map.get(key);
        if (value == null) {
            return null;
        }
        if (!(value instanceof String text)) {
            throw new IllegalArgumentException(path + ": expected a duration such as 1h0m0s, got " + value);
        }
        return text.isEmpty() ? null : GoDurations.parse(path, text);
    }

    private static void checkKnown(Map<String, Object> map, Set<String> known, String prefix) {
        for (Map.Entry<String, Object> field : map.entrySet()) {
            String key = field.getKey();
            if (known.contains(key)) {
                continue;
            }
            Set<Object> defaults = DEFAULT_ONLY.get(prefix + key);
            if (defaults == null) {
                throw new IllegalArgumentException(prefix + key + ": unknown or unsupported field (supported: "
                        + String.join(", ", known.stream().sorted().toList()) + ")");
            }
            Object value = field.getValue();
            if (!isZero(value) && !defaults.contains(value)) {
                throw new IllegalArgumentException(prefix + key + ": " + value + ": Railyard does not implement "
                        + "this setting; remove it or leave it at kube-proxy's default");
            }
        }
    }

    /** kube-proxy's "unset": what its defaulting replaces with the default. */
    private static boolean isZero(Object value) {
        if (value == null || Boolean.FALSE.equals(value)) {
            return true;
        }
        if (value instanceof Number number) {
            return number.doubleValue() == 0;
        }
        if (value instanceof String text) {
            return text.isEmpty() || text.equals("0") || text.equals("0s");
        }
        if (value instanceof List<?> list) {
            return list.isEmpty();
        }
        if (value instanceof Map<?, ?> map) {
            return map.values().stream().allMatch(ProxyConfigFile::isZero);
        }
        return false;
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

    /** A string field; "" is null, kube-proxy's "use the default". */
    private static String string(Map<String, Object> map, String key, String path) {
        Object value = map.get(key);
        if (value == null) {
            return null;
        }
        if (!(value instanceof String text)) {
            throw new IllegalArgumentException(path + ": expected a string, got " + value);
        }
        return text.isEmpty() ? null : text;
    }

    private static List<String> strings(Map<String, Object> map, String key) {
        Object value = map.get(key);
        if (value == null) {
            return null;
        }
        if (!(value instanceof List<?> list)) {
            throw new IllegalArgumentException(key + ": expected a list of strings");
        }
        if (list.isEmpty()) {
            return null;
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

    /** A Go duration; zero is null, kube-proxy's "use the default". */
    private static Duration duration(Map<String, Object> map, String key, String path) {
        String text = string(map, key, path);
        Duration duration = text == null ? null : GoDurations.parse(path, text);
        return duration == null || duration.isZero() ? null : duration;
    }
}
