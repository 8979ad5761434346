package dev.railyard.proxy.render;

import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.source.ClusterSnapshot;
import dev.railyard.proxy.source.ManifestLoader;

import java.io.IOException;
import java.io.Reader;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * One kube-proxy test case from src/test/resources/kubeproxy-compat: its manifests, the fake proxier's
 * settings translated into a {@link RenderConfig}, and its expectations.
 */
public final class CompatCase {
    static final Path ROOT = root();

    public final String name;
    final Path dir;
    final Properties config = new Properties();

    private CompatCase(Path dir) {
        this.dir = dir;
        this.name = dir.getFileName().toString();
        try (Reader reader = Files.newBufferedReader(dir.resolve("config.properties"), StandardCharsets.UTF_8)) {
            config.load(reader);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static CompatCase named(String name) {
        return new CompatCase(ROOT.resolve(name));
    }

    /** Every case that has the given expectation file (or file prefix). */
    public static List<CompatCase> having(String filePrefix) {
        try (Stream<Path> dirs = Files.list(ROOT)) {
            return dirs.filter(Files::isDirectory)
                    .filter(dir -> {
                        try (Stream<Path> files = Files.list(dir)) {
                            return files.anyMatch(f -> f.getFileName().toString().startsWith(filePrefix));
                        } catch (IOException e) {
                            throw new IllegalStateException(e);
                        }
                    })
                    .sorted()
                    .map(CompatCase::new)
                    .collect(Collectors.toList());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public IpFamily family() {
        return IpFamily.of(Integer.parseInt(config.getProperty("ipFamily")));
    }

    public String nodeName() {
        return config.getProperty("nodeName");
    }

    public RenderConfig renderConfig() {
        // The fake proxier's primary node IP comes first; its other interface addresses follow, because
        // kube-proxy matches --nodeport-addresses against every interface address.
        Set<String> nodeIps = new LinkedHashSet<>(list("nodeIPs"));
        for (String cidr : list("nodeInterfaceAddresses")) {
            nodeIps.add(cidr.substring(0, cidr.indexOf('/')));
        }
        return RenderConfig.builder(family())
                .nodeName(nodeName())
                .nodeIps(new ArrayList<>(nodeIps))
                .clusterCidrs(list("clusterCIDR"))
                .masqueradeAll(bool("masqueradeAll"))
                .masqueradeMark(config.getProperty("masqueradeMark"))
                .localhostNodePorts(bool("localhostNodePorts"))
                .nodePortAddresses(list("nodePortAddresses"))
                .randomFully(bool("randomFully"))
                .conntrackTcpBeLiberal(bool("conntrackTcpBeLiberal"))
                .nfacctCounters(bool("nfacct"))
                .build();
    }

    public ProxyState state() throws Exception {
        ClusterSnapshot snapshot = ManifestLoader.load(List.of(dir.resolve("manifests.yaml")));
        if (!snapshot.problems().isEmpty()) {
            throw new AssertionError(name + ": manifests have problems: " + snapshot.problems());
        }
        return snapshot.state(family(), nodeName());
    }

    /** Renders the case the way kube-proxy's test synced it. */
    public String render() throws Exception {
        return new IptablesRenderer(renderConfig()).render(state(), list("preexistingStaleNatChains")).toString();
    }

    public String file(String fileName) throws IOException {
        return Files.readString(dir.resolve(fileName), StandardCharsets.UTF_8);
    }

    public List<String> list(String key) {
        String value = config.getProperty(key, "").trim();
        if (value.isEmpty()) {
            return List.of();
        }
        return Arrays.stream(value.split(",")).map(String::trim).collect(Collectors.toList());
    }

    private boolean bool(String key) {
        return Boolean.parseBoolean(config.getProperty(key, "false").trim());
    }

    @Override
    public String toString() {
        return name;
    }

    private static Path root() {
        URL url = CompatCase.class.getClassLoader().getResource("kubeproxy-compat");
        if (url == null) {
            throw new IllegalStateException("kubeproxy-compat test resources are missing");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
