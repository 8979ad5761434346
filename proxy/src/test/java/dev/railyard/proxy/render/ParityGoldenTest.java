package dev.railyard.proxy.render;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.render.nftables.NftablesRenderer;
import dev.railyard.proxy.source.ClusterSnapshot;
import dev.railyard.proxy.source.ManifestLoader;
import dev.railyard.proxy.source.NodeInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Whole rulesets, both modes, for each --detect-local-mode, with topology hints, an ipMode Proxy load-balancer IP
 * and a ServiceCIDR (src/test/resources/parity-golden, see its README). {@code -Drailyard.updateGoldens=true}
 * rewrites the expected files.
 */
class ParityGoldenTest {
    static final Path DIR = Path.of("src", "test", "resources", "parity-golden");
    static final String NODE = "node-a";

    /** The detector each case uses, named after kube-proxy's modes; "none" is ClusterCIDR without a cluster CIDR. */
    static Stream<Arguments> cases() {
        return Stream.of("none", "cluster-cidr", "node-cidr", "bridge-interface", "interface-name-prefix")
                .flatMap(mode -> Stream.of(Arguments.of(mode, false), Arguments.of(mode, true)));
    }

    static RenderConfig config(String mode, ClusterSnapshot snapshot, boolean nftables) {
        List<String> clusterCidrs = mode.equals("none") ? List.of() : List.of("10.244.0.0/16");
        List<String> podCidrs = snapshot.node(NODE).map(NodeInfo::podCidrs).orElse(List.of());
        LocalTrafficDetector detector = switch (mode) {
            case "none", "cluster-cidr" -> LocalTrafficDetector.of(LocalTrafficDetector.Mode.CLUSTER_CIDR,
                    IpFamily.V4, clusterCidrs, podCidrs, null, null);
            case "node-cidr" -> LocalTrafficDetector.of(LocalTrafficDetector.Mode.NODE_CIDR, IpFamily.V4,
                    clusterCidrs, podCidrs, null, null);
            case "bridge-interface" -> LocalTrafficDetector.of(LocalTrafficDetector.Mode.BRIDGE_INTERFACE,
                    IpFamily.V4, clusterCidrs, podCidrs, "cbr0", null);
            case "interface-name-prefix" -> LocalTrafficDetector.of(
                    LocalTrafficDetector.Mode.INTERFACE_NAME_PREFIX, IpFamily.V4, clusterCidrs, podCidrs, null, "veth");
            default -> throw new IllegalArgumentException(mode);
        };
        return RenderConfig.builder(IpFamily.V4).nodeName(NODE).nodeIps(List.of("192.168.10.11"))
                .clusterCidrs(clusterCidrs).localDetector(detector)
                .nodePortAddresses(nftables ? List.of("primary") : List.of()).build();
    }

    static String render(String mode, boolean nftables) throws Exception {
        ClusterSnapshot snapshot = ManifestLoader.load(List.of(DIR.resolve("manifests.yaml")));
        assertThat(snapshot.problems()).isEmpty();
        ProxyState state = snapshot.state(IpFamily.V4, NODE);
        RenderConfig config = config(mode, snapshot, nftables);
        return nftables ? NftablesRenderer.script(config, state).toString()
                : new IptablesRenderer(config).render(state).toString();
    }

    @ParameterizedTest(name = "{0}, nftables={1}")
    @MethodSource("cases")
    void rendersTheGolden(String mode, boolean nftables) throws Exception {
        String actual = render(mode, nftables);
        Path file = DIR.resolve(mode + (nftables ? ".nft" : ".rules"));
        if (Boolean.getBoolean("railyard.updateGoldens")) {
            Files.writeString(file, actual, StandardCharsets.UTF_8);
        }
        assertThat(actual).isEqualTo(Files.readString(file, StandardCharsets.UTF_8));
        // What every golden must show, whatever the detector.
        assertThat(actual).doesNotContain("198.51.100.26").contains("198.51.100.25").contains("10.244.1.10")
                .doesNotContain("10.244.2.10");
    }
}
