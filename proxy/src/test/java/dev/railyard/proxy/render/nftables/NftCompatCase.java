package dev.railyard.proxy.render.nftables;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * One kube-proxy nftables test case from src/test/resources/kubeproxy-nftables-compat (see the README there): its
 * manifests, the fake proxier's settings ({@code config.properties}) and its expectations ({@code expected.nft},
 * {@code flows.tsv}, {@code derived-flows.tsv}, {@code expected-elements.tsv}, {@code initial-state.nft}).
 */
public final class NftCompatCase {
    public static final String RESOURCE_DIRECTORY = "kubeproxy-nftables-compat";
    public static final String EXPECTED = "expected.nft";
    public static final String FLOWS = "flows.tsv";
    public static final String DERIVED_FLOWS = "derived-flows.tsv";
    public static final String EXPECTED_ELEMENTS = "expected-elements.tsv";
    public static final String INITIAL_STATE = "initial-state.nft";

    private static final Path ROOT = locateRoot();

    private final String name;
    private final Path dir;
    private final Properties config = new Properties();

    private NftCompatCase(Path dir) {
        this.dir = dir;
        this.name = dir.getFileName().toString();
        try (Reader reader = Files.newBufferedReader(dir.resolve("config.properties"), StandardCharsets.UTF_8)) {
            config.load(reader);
        } catch (IOException e) {
            throw new UncheckedIOException(name + ": cannot read config.properties", e);
        }
    }

    /** The directory holding every case, the README and the shared tables. */
    public static Path root() {
        return ROOT;
    }

    private static Path locateRoot() {
        URL url = NftCompatCase.class.getClassLoader().getResource(RESOURCE_DIRECTORY);
        if (url == null) {
            throw new IllegalStateException(RESOURCE_DIRECTORY + " test resources are missing");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    public static NftCompatCase named(String name) {
        Path dir = root().resolve(name);
        if (!Files.isRegularFile(dir.resolve("config.properties"))) {
            throw new IllegalArgumentException("no nftables compat case named " + name);
        }
        return new NftCompatCase(dir);
    }

    /** Every case (every directory with a config.properties), by name. */
    public static List<NftCompatCase> all() {
        try (Stream<Path> dirs = Files.list(root())) {
            return dirs.filter(d -> Files.isRegularFile(d.resolve("config.properties")))
                    .sorted()
                    .map(NftCompatCase::new)
                    .collect(Collectors.toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every case that has the given expectation file. */
    public static List<NftCompatCase> having(String fileName) {
        return all().stream().filter(c -> c.has(fileName)).collect(Collectors.toList());
    }

    public String name() {
        return name;
    }

    public Path dir() {
        return dir;
    }

    /** The Services and EndpointSlices, for ManifestLoader. */
    public Path manifests() {
        return dir.resolve("manifests.yaml");
    }

    /** A file in the resource directory itself (not in a case), such as chain-name-hashes.tsv. */
    public static String shared(String fileName) {
        try {
            return Files.readString(root().resolve(fileName), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + fileName, e);
        }
    }

    public boolean has(String fileName) {
        return Files.isRegularFile(dir.resolve(fileName));
    }

    public String file(String fileName) {
        try {
            return Files.readString(dir.resolve(fileName), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(name + ": cannot read " + fileName, e);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The fake proxier's settings

    /** 4 or 6. */
    public int ipFamily() {
        return Integer.parseInt(required("ipFamily"));
    }

    /** "ip" or "ip6", the nftables family of the kube-proxy table. */
    public String nftFamily() {
        return ipFamily() == 6 ? "ip6" : "ip";
    }

    public String nodeName() {
        return required("nodeName");
    }

    /** fp.nodeIP (the primary node IP). */
    public List<String> nodeIps() {
        return list("nodeIPs");
    }

    /** The fake network interfaces' addresses (CIDRs), which --nodeport-addresses is matched against. */
    public List<String> nodeInterfaceAddresses() {
        return list("nodeInterfaceAddresses");
    }

    /** The local traffic detector's pod CIDR; empty for NewNoOpLocalDetector(). */
    public Optional<String> clusterCidr() {
        String value = config.getProperty("clusterCIDR", "").trim();
        return value.isEmpty() ? Optional.empty() : Optional.of(value);
    }

    public List<String> serviceCidrs() {
        return list("serviceCIDRs");
    }

    /** The --nodeport-addresses list as the test passes it (both families; kube-proxy keeps its own family's). */
    public List<String> nodePortAddresses() {
        return list("nodePortAddresses");
    }

    /** The mark as the fake proxier writes it ("0x4000"). */
    public String masqueradeMark() {
        return required("masqueradeMark");
    }

    public boolean masqueradeAll() {
        return Boolean.parseBoolean(required("masqueradeAll"));
    }

    /** testNodeIPs: what the tracer's "fib saddr/daddr type local" treats as local. */
    public List<String> tracerNodeIps() {
        return list("tracerNodeIPs");
    }

    /** Chains left in the fake's state by earlier syncs (flushed, waiting for deletion), which manifests cannot show. */
    public Set<String> leftoverChains() {
        return new LinkedHashSet<>(list("leftoverChains"));
    }

    public Properties config() {
        return config;
    }

    public List<String> list(String key) {
        String value = config.getProperty(key, "").trim();
        if (value.isEmpty()) {
            return List.of();
        }
        return Arrays.stream(value.split(",")).map(String::trim).collect(Collectors.toList());
    }

    private String required(String key) {
        String value = config.getProperty(key);
        if (value == null || value.isBlank()) {
            throw new IllegalStateException(name + ": config.properties has no " + key);
        }
        return value.trim();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Expectations

    /** expected.nft as the Go test writes it (baseRules + the case's lines). */
    public String expected() {
        return file(EXPECTED);
    }

    /**
     * expected.nft without the {@code add chain} lines of {@link #leftoverChains()}: what a render of the manifests
     * alone should match. The leftover chains have no rules, so nothing else refers to them.
     */
    public String expectedWithoutLeftoverChains() {
        Set<String> leftovers = leftoverChains();
        if (leftovers.isEmpty()) {
            return expected();
        }
        String prefix = "add chain " + nftFamily() + " kube-proxy ";
        StringBuilder out = new StringBuilder();
        for (String line : expected().split("\n", -1)) {
            if (line.startsWith(prefix) && leftovers.contains(line.substring(prefix.length()))) {
                continue;
            }
            out.append(line).append('\n');
        }
        return out.substring(0, out.length() - 1);
    }

    /** flows.tsv (upstream's packet-flow tests). */
    public List<KubeProxyNftTracer.Flow> flows() {
        return parseFlows(name + "/" + FLOWS, file(FLOWS));
    }

    /** derived-flows.tsv (NOT upstream: flows derived by hand from expected.nft). */
    public List<KubeProxyNftTracer.Flow> derivedFlows() {
        return parseFlows(name + "/" + DERIVED_FLOWS, file(DERIVED_FLOWS));
    }

    /** One line of expected-elements.tsv: whether the set/map holds an element with this key. */
    public record ExpectedElement(String kind, String container, List<String> key, boolean present) {
    }

    public List<ExpectedElement> expectedElements() {
        List<ExpectedElement> elements = new ArrayList<>();
        for (String line : file(EXPECTED_ELEMENTS).split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\t", -1);
            if (f.length != 4 || !(f[0].equals("set") || f[0].equals("map"))
                    || !(f[3].equals("true") || f[3].equals("false"))) {
                throw new IllegalArgumentException(name + "/" + EXPECTED_ELEMENTS + ": bad line: " + line);
            }
            elements.add(new ExpectedElement(f[0], f[1], List.of(f[2].split(" \\. ", -1)), Boolean.parseBoolean(f[3])));
        }
        return elements;
    }

    /** Reads a flows file: name, source IP, protocol, destination IP, destination port, output, masq (tab-separated). */
    public static List<KubeProxyNftTracer.Flow> parseFlows(String source, String text) {
        List<KubeProxyNftTracer.Flow> flows = new ArrayList<>();
        int number = 0;
        for (String line : text.split("\n", -1)) {
            number++;
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\t", -1);
            String where = source + " line " + number;
            if (f.length != 7) {
                throw new IllegalArgumentException(where + " has " + f.length + " fields, not 7: " + line);
            }
            if (!f[6].equals("true") && !f[6].equals("false")) {
                throw new IllegalArgumentException(where + ": masq must be true or false: " + line);
            }
            int port;
            try {
                port = Integer.parseInt(f[4]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(where + ": destination port is not a number: " + line);
            }
            flows.add(new KubeProxyNftTracer.Flow(f[0], f[1], f[2], f[3], port, f[5], Boolean.parseBoolean(f[6])));
        }
        return flows;
    }

    @Override
    public String toString() {
        return name;
    }
}
