package dev.railyard.proxy.render.nftables;

import dev.railyard.nftables.Family;
import dev.railyard.nftables.Transaction;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.source.ClusterSnapshot;
import dev.railyard.proxy.source.ManifestLoader;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * One golden nftables ruleset: a directory of src/test/resources/nftables-golden with the cluster
 * ({@code manifests.yaml}), the proxy's settings ({@code config.properties}, named after kube-proxy's flags; its
 * first line says what the case is about) and the whole script the renderer must write for them
 * ({@code expected.nft}, byte for byte what {@link NftablesRenderer#script} returns).
 */
record NftablesGoldenCase(String name, Path dir, Properties config) {
    /** Where the goldens live in the source tree, relative to the module (Maven runs tests from there). */
    static final Path SOURCE_ROOT = Path.of("src", "test", "resources", "nftables-golden");
    static final String EXPECTED = "expected.nft";

    static List<NftablesGoldenCase> all() {
        if (!Files.isDirectory(SOURCE_ROOT)) {
            throw new IllegalStateException("no golden rulesets at " + SOURCE_ROOT.toAbsolutePath()
                    + " (tests must run from the proxy module's directory)");
        }
        try (Stream<Path> dirs = Files.list(SOURCE_ROOT)) {
            return dirs.filter(Files::isDirectory).sorted().map(NftablesGoldenCase::load).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static NftablesGoldenCase load(Path dir) {
        Properties config = new Properties();
        try (Reader reader = Files.newBufferedReader(dir.resolve("config.properties"), StandardCharsets.UTF_8)) {
            config.load(reader);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new NftablesGoldenCase(dir.getFileName().toString(), dir, config);
    }

    IpFamily ipFamily() {
        return IpFamily.of(Integer.parseInt(setting("ipFamily")));
    }

    Family family() {
        return ipFamily() == IpFamily.V4 ? Family.IP : Family.IP6;
    }

    RenderConfig renderConfig() {
        return RenderConfig.builder(ipFamily())
                .nodeName(setting("nodeName"))
                .nodeIps(list("nodeIPs"))
                .clusterCidrs(list("clusterCIDR"))
                .serviceCidrs(list("serviceCIDRs"))
                .nodePortAddresses(list("nodePortAddresses"))
                .masqueradeAll(Boolean.parseBoolean(setting("masqueradeAll")))
                .masqueradeBit(Integer.parseInt(setting("masqueradeBit")))
                .build();
    }

    Transaction render() throws Exception {
        ClusterSnapshot snapshot = ManifestLoader.load(List.of(dir.resolve("manifests.yaml")));
        if (!snapshot.problems().isEmpty()) {
            throw new AssertionError(name + ": manifests have problems: " + snapshot.problems());
        }
        return NftablesRenderer.script(renderConfig(), snapshot.state(ipFamily(), setting("nodeName")));
    }

    Path expectedFile() {
        return dir.resolve(EXPECTED);
    }

    /** The expected script, or null when the case has none yet. */
    String expectedOrNull() throws IOException {
        Path file = expectedFile();
        return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : null;
    }

    String expected() throws IOException {
        String expected = expectedOrNull();
        if (expected == null) {
            throw new AssertionError(expectedFile() + " is missing: write it with -D"
                    + NftablesGoldenTest.UPDATE_PROPERTY + "=true");
        }
        return expected;
    }

    private String setting(String key) {
        String value = config.getProperty(key);
        if (value == null) {
            throw new IllegalStateException(name + ": config.properties has no " + key);
        }
        return value.trim();
    }

    private List<String> list(String key) {
        String value = setting(key);
        return value.isEmpty() ? List.of() : Arrays.stream(value.split(",")).map(String::trim).toList();
    }

    @Override
    public String toString() {
        return name;
    }
}
