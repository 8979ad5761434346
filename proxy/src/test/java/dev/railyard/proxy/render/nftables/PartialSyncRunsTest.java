package dev.railyard.proxy.render.nftables;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.nftables.NftApplier;
import dev.railyard.nftables.Ruleset;
import dev.railyard.nftables.Transaction;
import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;
import dev.railyard.proxy.render.RenderConfig;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntPredicate;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A partial sync copies the runs of unchanged service ports whole ({@link UnchangedRuns}) and merges only the
 * changed services: it must end where a full sync of the same state does, and write nothing for the others.
 */
class PartialSyncRunsTest {
    private static final RenderConfig CONFIG = RenderedSyncs.NODE_A;

    @ParameterizedTest
    @EnumSource(Layout.class)
    void changedServicesInTheMiddleAtTheEndsAndGoneOrNewEndWhereAFullSyncDoes(Layout layout) throws Exception {
        ProxyState first = cluster(40, i -> false, i -> false);
        // svc0 (first) and svc17 move their endpoints, svc23 goes, svc40 (last) is new; two ports for svc31.
        ProxyState second = cluster(41, i -> i == 0 || i == 17, i -> i == 31);
        List<ServicePort> kept = new ArrayList<>();
        second.entries().stream().filter(e -> !e.service().name().name().equals("svc23"))
                .forEach(e -> kept.add(e.service()));
        Map<ServicePortName, List<Endpoint>> endpoints = new HashMap<>();
        second.entries().forEach(e -> endpoints.put(e.service().name(), e.endpoints()));
        second = ProxyState.of(IpFamily.V4, kept, endpoints);
        Set<String> changed = Set.of("ns/svc0", "ns/svc17", "ns/svc23", "ns/svc40", "ns/svc31");

        Transaction partial = partialOver(layout, first, second, changed);
        String script = partial.script();
        // (The flat layout writes moved endpoints as map elements alone, which do not name the service.)
        assertThat(script).contains("ns/svc31/tcp/metrics", "ns/svc40/");
        assertThat(script).as("an unchanged service is left alone").doesNotContain("ns/svc1/", "ns/svc18/",
                "ns/svc39/");
    }

    @ParameterizedTest
    @EnumSource(Layout.class)
    void aPortOfAServiceNotReportedChangedIsStillWritten(Layout layout) throws Exception {
        // svc12 gains a port without being reported: the runs no longer line up, and the port-by-port merge
        // writes the new port (as it writes any port it has not seen).
        ProxyState first = cluster(20, i -> false, i -> false);
        ProxyState second = cluster(20, i -> i == 5, i -> i == 12);
        String script = partialOver(layout, first, second, Set.of("ns/svc5")).script();
        assertThat(script).contains("ns/svc12/tcp/metrics").doesNotContain("ns/svc13/");
    }

    /** Full sync of {@code first}, then a partial one to {@code second}: the kernel must equal a full sync's. */
    private static Transaction partialOver(Layout layout, ProxyState first, ProxyState second, Set<String> changed)
            throws Exception {
        NftablesRenderer renderer = new NftablesRenderer(CONFIG, layout, NftApplier.TableObjects.none());
        Ruleset kernel = new Ruleset();
        RenderedSyncs.applyFull(renderer, kernel, first, 0);
        NftablesRenderer.Plan plan = renderer.plan(second, changed, Instant.EPOCH.plusSeconds(10));
        Transaction all = new Transaction(renderer.family(), NftablesLayout.TABLE);
        for (Transaction tx : plan.transactions()) {
            kernel.apply(tx);
            all.addAll(tx);
        }
        renderer.committed(plan);

        NftablesRenderer whole = new NftablesRenderer(CONFIG, layout, NftApplier.TableObjects.none());
        Ruleset expected = new Ruleset();
        RenderedSyncs.applyFull(whole, expected, second, 10);
        // The flat layout's keys depend on the node's history; what each key leads to must be consistent.
        // (Flushed chains wait for their deletion; the affinity set stays even when no service uses it.)
        assertThat(RulesetConsistency.problems(kernel, renderer.family(), NftablesLayout.TABLE)).allMatch(problem ->
                renderer.staleChains().stream().anyMatch(chain -> problem.startsWith("chain " + chain + " "))
                        || problem.contains(NftablesLayout.CLIENT_AFFINITY + " is not used"));
        assertThat(withoutKeys(RenderedSyncs.withoutChains(kernel.dump(), renderer.staleChains())).split("\n"))
                .containsExactlyInAnyOrder(withoutKeys(expected.dump()).split("\n"));
        return all;
    }

    private static String withoutKeys(String dump) {
        return dump.replaceAll("offset [0-9]+ map @endpoints-", "offset KEY map @endpoints-")
                .replaceAll("(endpoints-[a-z]+-[0-9]+) \\{ [0-9]+ : ", "$1 { KEY : ");
    }


    /** {@code services} ClusterIP services of 3 endpoints; {@code moved} ones shifted, {@code twoPorts} get metrics. */
    private static ProxyState cluster(int services, IntPredicate moved, IntPredicate twoPorts) {
        List<ServicePort> ports = new ArrayList<>();
        Map<ServicePortName, List<Endpoint>> endpoints = new HashMap<>();
        for (int i = 0; i < services; i++) {
            for (String port : twoPorts.test(i) ? List.of("http", "metrics") : List.of("http")) {
                ServicePortName name = ServicePortName.of("ns", "svc" + i, port, Protocol.TCP);
                ports.add(ServicePort.builder(name, "10.96." + (i / 200) + "." + (i % 200 + 1),
                        port.equals("http") ? 80 : 9090).build());
                List<Endpoint> list = new ArrayList<>();
                for (int e = 0; e < 3; e++) {
                    list.add(Endpoint.builder(name, "10.244." + (e + (moved.test(i) ? 7 : 0)) + "." + (i + 1),
                            port.equals("http") ? 8080 : 9090).nodeName(e == 0 ? "node-a" : "node-b").build());
                }
                endpoints.put(name, list);
            }
        }
        return ProxyState.of(IpFamily.V4, ports, endpoints);
    }
}
