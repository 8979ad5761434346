package dev.railyard.proxy.render.nftables;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.nftables.Family;
import dev.railyard.nftables.NftApplier;
import dev.railyard.nftables.NftSet;
import dev.railyard.nftables.Rule;
import dev.railyard.nftables.Ruleset;
import dev.railyard.nftables.Transaction;
import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;
import dev.railyard.proxy.render.RenderConfig;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The flat layout keeps ClientIP affinity in one set of (client . endpoint key) pairs rather than a set per
 * endpoint (the kernel walks the table's list of sets on every lookup by name, which made a full sync quadratic):
 * each endpoint chain remembers its clients under its own key, with its service's timeout, and the service chain
 * sends a remembered client back under the same key. Per-endpoint sets an earlier version made are deleted.
 */
class FlatAffinitySetsTest {
    private static final RenderConfig CONFIG = RenderConfig.builder(IpFamily.V4).nodeName("node-a")
            .nodeIps(List.of("192.0.2.1")).clusterCidrs(List.of("10.244.0.0/16"))
            .serviceCidrs(List.of("10.96.0.0/16")).nodePortAddresses(List.of("primary")).build();
    private static final ServicePortName STICKY = ServicePortName.of("ns", "sticky", "http", Protocol.TCP);

    @Test
    void eachEndpointChainRemembersItsClientsUnderItsOwnKeyInTheOneSet() throws Exception {
        ProxyState state = sticky(3);
        Ruleset kernel = new Ruleset();
        RenderedSyncs.applyFull(new NftablesRenderer(CONFIG, Layout.FLAT, NftApplier.TableObjects.none()), kernel,
                state, 0);

        assertThat(affinitySets(kernel)).isEmpty();
        assertThat(kernel.setNames(Family.IP, NftablesLayout.TABLE)).contains(NftablesLayout.CLIENT_AFFINITY);
        List<Endpoint> endpoints = state.entries().get(0).endpoints();
        String serviceChain = kernel.chainNames(Family.IP, NftablesLayout.TABLE).stream()
                .filter(chain -> chain.startsWith(NftablesLayout.SERVICE_PREFIX)).findFirst().orElseThrow();
        List<String> dispatch = kernel.rules(Family.IP, NftablesLayout.TABLE, serviceChain).stream()
                .map(Rule::body).toList();
        Set<Long> keys = new HashSet<>();
        for (Endpoint ep : endpoints) {
            long key = NftablesLayout.affinityKey(ep.hash());
            keys.add(key);
            String keyText = "ip saddr . numgen random mod 1 offset " + key;
            assertThat(kernel.rules(Family.IP, NftablesLayout.TABLE, ep.nftablesChainName()))
                    .extracting(Rule::body).contains("update @client-affinity { " + keyText + " timeout "
                            + ServicePort.DEFAULT_AFFINITY_TIMEOUT_SECONDS + "s }");
            assertThat(dispatch).contains(keyText + " @client-affinity goto " + ep.nftablesChainName());
        }
        assertThat(keys).as("one key per endpoint").hasSize(endpoints.size());
    }

    @Test
    void theKeyIsTheFirst32BitsOfTheBase32Hash() {
        assertThat(NftablesLayout.affinityKey("AAAAAAAXXXXXXXXX")).isZero();
        assertThat(NftablesLayout.affinityKey("777777777777777A")).isEqualTo(0xffffffffL);
        // B = 1, the 35th bit from the top of 7 characters: shifted out with the last three bits.
        assertThat(NftablesLayout.affinityKey("AAAAAABAAAAAAAAA")).isZero();
        assertThat(NftablesLayout.affinityKey("AAAAAAIAAAAAAAAA")).isEqualTo(1);
        assertThat(NftablesLayout.affinityKey("BAAAAAAAAAAAAAAA")).isEqualTo(1L << 27);
    }

    @Test
    void perEndpointSetsOfAnEarlierVersionAreDeletedAfterARestart() throws Exception {
        Ruleset kernel = new Ruleset();
        RenderedSyncs.applyFull(new NftablesRenderer(CONFIG, Layout.FLAT, NftApplier.TableObjects.none()), kernel,
                sticky(3), 0);
        Transaction earlier = new Transaction(dev.railyard.nftables.Family.IP, NftablesLayout.TABLE);
        earlier.add(new NftSet("affinity-WKOMXESEZZOJXEFY", "ipv4_addr", List.of("dynamic", "timeout"), 10800,
                null));
        kernel.apply(earlier);
        NftApplier.TableObjects listed = new NftApplier.TableObjects(true,
                kernel.chainNames(Family.IP, NftablesLayout.TABLE), kernel.setNames(Family.IP, NftablesLayout.TABLE),
                kernel.mapNames(Family.IP, NftablesLayout.TABLE));

        NftablesRenderer restarted = new NftablesRenderer(CONFIG, Layout.FLAT, listed);
        RenderedSyncs.applyFull(restarted, kernel, sticky(2), 10);

        assertThat(affinitySets(kernel)).isEmpty();
        assertThat(kernel.setNames(Family.IP, NftablesLayout.TABLE)).contains(NftablesLayout.CLIENT_AFFINITY);
    }

    /** Per-endpoint affinity sets. */
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
