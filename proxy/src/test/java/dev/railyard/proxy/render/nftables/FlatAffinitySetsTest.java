package dev.railyard.proxy.render.nftables;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.nftables.Family;
import dev.railyard.nftables.NftApplier;
import dev.railyard.nftables.Rule;
import dev.railyard.nftables.Ruleset;
import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;
import dev.railyard.proxy.render.RenderConfig;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The flat layout names an endpoint's affinity set by its KUBE-SEP hash (the kernel measures every set name it
 * passes when it looks one up, so short names make a full sync cheaper): each endpoint chain fills its own set, and
 * a set of an endpoint that is gone is deleted, also by a daemon that found it in the kernel at start.
 */
class FlatAffinitySetsTest {
    private static final RenderConfig CONFIG = RenderConfig.builder(IpFamily.V4).nodeName("node-a")
            .nodeIps(List.of("192.0.2.1")).clusterCidrs(List.of("10.244.0.0/16"))
            .serviceCidrs(List.of("10.96.0.0/16")).nodePortAddresses(List.of("primary")).build();
    private static final ServicePortName STICKY = ServicePortName.of("ns", "sticky", "http", Protocol.TCP);

    @Test
    void eachEndpointChainFillsTheSetNamedByItsHash() throws Exception {
        ProxyState state = sticky(3);
        Ruleset kernel = new Ruleset();
        RenderedSyncs.applyFull(new NftablesRenderer(CONFIG, Layout.FLAT, NftApplier.TableObjects.none()), kernel,
                state, 0);

        List<Endpoint> endpoints = state.entries().get(0).endpoints();
        assertThat(affinitySets(kernel)).containsExactlyInAnyOrderElementsOf(
                endpoints.stream().map(ep -> "affinity-" + ep.hash()).toList());
        for (Endpoint ep : endpoints) {
            assertThat(ep.hash()).hasSize(16);
            assertThat(kernel.rules(Family.IP, NftablesLayout.TABLE, ep.nftablesChainName()))
                    .extracting(Rule::body).contains("update @affinity-" + ep.hash() + " { ip saddr }");
        }
    }

    @Test
    void theSetOfAnEndpointGoneIsDeletedAlsoAfterARestart() throws Exception {
        Ruleset kernel = new Ruleset();
        RenderedSyncs.applyFull(new NftablesRenderer(CONFIG, Layout.FLAT, NftApplier.TableObjects.none()), kernel,
                sticky(3), 0);
        NftApplier.TableObjects listed = new NftApplier.TableObjects(true,
                kernel.chainNames(Family.IP, NftablesLayout.TABLE), kernel.setNames(Family.IP, NftablesLayout.TABLE),
                kernel.mapNames(Family.IP, NftablesLayout.TABLE));

        ProxyState fewer = sticky(2);
        NftablesRenderer restarted = new NftablesRenderer(CONFIG, Layout.FLAT, listed);
        RenderedSyncs.applyFull(restarted, kernel, fewer, 10);

        assertThat(affinitySets(kernel)).containsExactlyInAnyOrderElementsOf(
                fewer.entries().get(0).endpoints().stream().map(ep -> "affinity-" + ep.hash()).toList());
    }

    private static List<String> affinitySets(Ruleset kernel) {
        return kernel.setNames(Family.IP, NftablesLayout.TABLE).stream().filter(NftablesLayout::isAffinitySet)
                .collect(Collectors.toList());
    }


    /** One ClusterIP port with ClientIP affinity and {@code count} endpoints. */
    private static ProxyState sticky(int count) {
        ServicePort port = ServicePort.builder(STICKY, "10.96.0.10", 80)
                .clientIpAffinity(ServicePort.DEFAULT_AFFINITY_TIMEOUT_SECONDS).build();
        List<Endpoint> endpoints = java.util.stream.IntStream.range(0, count)
                .mapToObj(i -> Endpoint.builder(STICKY, "10.244.0." + (i + 2), 8080).nodeName("node-a").build())
                .toList();
        return ProxyState.of(IpFamily.V4, List.of(port), Map.of(STICKY, endpoints));
    }
}
