package dev.railyard.proxy.render.nftables;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.nftables.Ruleset;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.source.ClusterSnapshot;
import dev.railyard.proxy.source.ManifestLoader;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * kube-proxy's TestSyncProxyRulesRepeated through Railyard's renderer, sync after sync: the first full, the rest
 * partial, each step's changed services handed over as the change tracker would, applied to an in-memory
 * ruleset with the kernel's rules. After every step the whole table is kube-proxy's expected state (flushed
 * chains still waiting for deletion included) and the sync wrote exactly as many operations as kube-proxy's.
 */
class KubeProxyNftSyncStepsRenderTest {
    private static final List<String> STEPS = List.of("01-initial", "02-add-svc3", "03-delete-svc2",
            "04-stale-chains-deleted", "05-add-svc4-no-endpoints", "06-add-svc4-endpoints",
            "07-change-svc3-endpoint", "08-add-svc3-endpoint", "09-empty-svc3-endpoints",
            "10-restore-svc3-endpoints");
    /** Steps that age the stale chains first (kube-proxy's ageStaleChains()). */
    private static final Set<String> AGED = Set.of("04-stale-chains-deleted", "08-add-svc3-endpoint");

    @Test
    void everyStepLeavesKubeProxysStateWithKubeProxysOperationCount() throws Exception {
        NftCompatCase first = NftCompatCase.named("sync-proxy-rules-repeated-" + STEPS.get(0));
        NftablesRenderer renderer = new NftablesRenderer(KubeProxyNftCompatibilityTest.config(first, IpFamily.V4));
        Ruleset kernel = new Ruleset();
        Instant now = Instant.parse("2026-01-01T00:00:00Z");
        ProxyState previous = null;
        for (String step : STEPS) {
            NftCompatCase testCase = NftCompatCase.named("sync-proxy-rules-repeated-" + step);
            ProxyState state = state(testCase);
            now = now.plus(AGED.contains(step) ? NftablesRenderer.STALE_CHAIN_GRACE.plusSeconds(1)
                    : Duration.ofMillis(10));
            NftablesRenderer.Plan plan = renderer.plan(state, previous == null ? null : changed(previous, state),
                    now);
            kernel.apply(plan.staleChainDeletion());
            renderer.staleDeletionApplied(plan);
            kernel.apply(plan.sync());
            renderer.committed(plan);

            assertThat(NftCompatAssertions.rulesetDifferences(testCase, kernel.dump())).as(step).isEmpty();
            String expectedOperations = testCase.config().getProperty("expectedOperations");
            if (expectedOperations != null) {
                assertThat(plan.sync().size()).as(step + ": operations").isEqualTo(
                        Integer.parseInt(expectedOperations));
            }
            String expectedStale = testCase.config().getProperty("expectedStaleChains");
            if (expectedStale != null) {
                assertThat(renderer.staleChains()).as(step + ": stale chains")
                        .containsExactlyInAnyOrderElementsOf(testCase.list("expectedStaleChains"));
            }
            previous = state;
        }
    }

    private static ProxyState state(NftCompatCase testCase) throws Exception {
        ClusterSnapshot snapshot = ManifestLoader.load(List.of(testCase.manifests()));
        assertThat(snapshot.problems()).isEmpty();
        return snapshot.state(IpFamily.V4, testCase.nodeName());
    }

    /** The services ("namespace/name") whose ports or endpoints differ, as the change tracker reports them. */
    private static Set<String> changed(ProxyState before, ProxyState after) {
        Map<String, Object> was = byService(before);
        Map<String, Object> is = byService(after);
        Set<String> changed = new HashSet<>();
        for (String key : union(was.keySet(), is.keySet())) {
            if (!Objects.equals(was.get(key), is.get(key))) {
                changed.add(key);
            }
        }
        return changed;
    }

    private static Map<String, Object> byService(ProxyState state) {
        Map<String, Object> result = new HashMap<>();
        for (ProxyState.Entry entry : state.entries()) {
            @SuppressWarnings("unchecked")
            List<Object> ports = (List<Object>) result.computeIfAbsent(entry.service().name().serviceKey(),
                    k -> new java.util.ArrayList<>());
            ports.add(List.of(entry.service(), entry.endpoints()));
        }
        return result;
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> all = new HashSet<>(a);
        all.addAll(b);
        return all;
    }
}
