package dev.railyard.proxy.render.nftables;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.nftables.Element;
import dev.railyard.nftables.Family;
import dev.railyard.nftables.NftApplier;
import dev.railyard.nftables.Ruleset;
import dev.railyard.nftables.Rule;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A full sync split into transactions of a few service ports each leaves the ruleset a single transaction
 * leaves, and between any two of its transactions traffic meets no half-written service: every element of the
 * dispatch maps points at a chain whose rules are already complete, and no map is emptied to be filled again.
 */
class SplitFullSyncTest {
    private static final RenderConfig CONFIG = RenderedSyncs.NODE_A;

    @ParameterizedTest
    @EnumSource(Layout.class)
    void aSplitFullSyncEndsWhereOneTransactionDoesAndNeverShowsAHalfWrittenService(Layout layout) throws Exception {
        ProxyState first = cluster(40, 0);
        ProxyState second = cluster(45, 1); // 5 more services, and every service's endpoints moved by one

        // The reference: the same syncs as single transactions.
        NftablesRenderer whole = new NftablesRenderer(CONFIG, layout, NftApplier.TableObjects.none());
        Ruleset before = new Ruleset();
        RenderedSyncs.applyFull(whole, before, first, 0);
        Ruleset expected = new Ruleset();
        RenderedSyncs.applyFull(new NftablesRenderer(CONFIG, layout, NftApplier.TableObjects.none()), expected,
                first, 0);
        RenderedSyncs.applyFull(whole, expected, second, 10);

        NftablesRenderer split = new NftablesRenderer(CONFIG, layout, NftApplier.TableObjects.none())
                .splitFullSyncs(7);
        Ruleset kernel = new Ruleset();
        // The first sync: the kernel's elements are not known yet, one transaction.
        RenderedSyncs.applyFull(split, kernel, first, 0);
        NftablesRenderer.Plan plan = split.plan(second, null, Instant.EPOCH.plusSeconds(10));
        // The kernel dispatches to 40 ports already: every commit validates them all, so a re-sync takes them in
        // at most RESYNC_COMMITS commits (10 ports each) rather than 7 at a time.
        assertThat(NftablesRenderer.RESYNC_COMMITS).isEqualTo(4);
        assertThat(plan.transactions()).as("setup, 45 ports by 10, then what goes").hasSize(1 + 5 + 1);
        int serviceIps = kernel.elements(Family.IP, NftablesLayout.TABLE, NftablesLayout.SERVICE_IPS).size();
        for (Transaction tx : plan.transactions()) {
            kernel.apply(tx);
            assertEveryDispatchTargetComplete(kernel, before, expected);
            int now = kernel.elements(Family.IP, NftablesLayout.TABLE, NftablesLayout.SERVICE_IPS).size();
            assertThat(now).as("service-ips never shrinks while services are only added").isGreaterThanOrEqualTo(
                    serviceIps);
            serviceIps = now;
        }
        split.committed(plan);
        // Elements are listed in the order they were added, which the split changes: compare the lines as a set.
        assertThat(RenderedSyncs.withoutChains(kernel.dump(), split.staleChains()).split("\n")).containsExactlyInAnyOrder(
                RenderedSyncs.withoutChains(expected.dump(), whole.staleChains()).split("\n"));
    }


    @ParameterizedTest
    @EnumSource(Layout.class)
    void newDispatchKeysWaitForTheLastTransactionSoThatNoPortsCommitValidatesThePortsBefore(Layout layout)
            throws Exception {
        NftablesRenderer split = new NftablesRenderer(CONFIG, layout, NftApplier.TableObjects.none())
                .splitFullSyncs(7);
        split.adoptKernelView(NftApplier.TableObjects.none(), Map.of());
        NftablesRenderer.Plan plan = split.plan(cluster(45, 0), null, Instant.EPOCH);
        List<Transaction> transactions = plan.transactions();
        assertThat(transactions).as("setup, 45 ports by 7, then the dispatch").hasSize(1 + 7 + 1);

        java.util.Set<String> dispatchMaps = java.util.Set.of(NftablesLayout.SERVICE_IPS,
                NftablesLayout.SERVICE_NODEPORTS, NftablesLayout.FIREWALL_IPS, NftablesLayout.NO_ENDPOINT_SERVICES,
                NftablesLayout.NO_ENDPOINT_NODEPORTS);
        for (Transaction tx : transactions.subList(0, transactions.size() - 1)) {
            assertThat(tx.operations()).as("a port's transaction").noneMatch(op -> op.object() instanceof Element e
                    && dispatchMaps.contains(e.container()) && op.verb() == dev.railyard.nftables.Verb.ADD);
        }
        Transaction last = transactions.get(transactions.size() - 1);
        assertThat(last.operations().stream().filter(op -> op.object() instanceof Element e
                && e.container().equals(NftablesLayout.SERVICE_IPS)).count()).as("cluster IPs").isEqualTo(45);
        assertThat(last.operations().stream().filter(op -> op.object() instanceof Element e
                && e.container().equals(NftablesLayout.SERVICE_NODEPORTS)).count()).as("node ports").isEqualTo(9);

        Ruleset kernel = new Ruleset();
        for (Transaction tx : transactions) {
            kernel.apply(tx);
        }
        split.committed(plan);
        Ruleset whole = new Ruleset();
        RenderedSyncs.applyFull(new NftablesRenderer(CONFIG, layout, NftApplier.TableObjects.none()), whole,
                cluster(45, 0), 0);
        assertThat(kernel.dump().split("\n")).containsExactlyInAnyOrder(whole.dump().split("\n"));
    }


    /**
     * Every verdict element of service-ips goes to a chain that is whole: with the rules it had before the sync or
     * those it has after, never a mix; and in the flat layout the endpoint map its rule reads is whole too.
     */
    private static void assertEveryDispatchTargetComplete(Ruleset kernel, Ruleset before, Ruleset after) {
        for (Element element : kernel.elements(Family.IP, NftablesLayout.TABLE, NftablesLayout.SERVICE_IPS)) {
            String chain = element.verdictChain();
            List<Rule> rules = kernel.rules(Family.IP, NftablesLayout.TABLE, chain);
            assertThat(rules).as("%s when %s points at it", chain, element.keyText())
                    .isIn(before.rules(Family.IP, NftablesLayout.TABLE, chain),
                            after.rules(Family.IP, NftablesLayout.TABLE, chain));
            for (Rule rule : rules) {
                java.util.regex.Matcher dispatch = DISPATCH.matcher(rule.body());
                if (dispatch.find()) {
                    String map = dispatch.group(3);
                    long from = Long.parseLong(dispatch.group(2));
                    long to = from + Long.parseLong(dispatch.group(1));
                    assertThat(block(kernel, map, from, to)).as("%s keys %d to %d", map, from, to - 1)
                            .hasSize((int) (to - from))
                            .isIn(block(before, map, from, to), block(after, map, from, to));
                }
            }
        }
    }

    private static final java.util.regex.Pattern DISPATCH = java.util.regex.Pattern.compile(
            "numgen random mod ([0-9]+) offset ([0-9]+) map @(\\S+)$");

    /** The elements of {@code map} with keys from {@code from} to {@code to - 1}, by key. */
    private static java.util.Map<Long, List<String>> block(Ruleset ruleset, String map, long from, long to) {
        java.util.Map<Long, List<String>> block = new java.util.TreeMap<>();
        for (Element element : ruleset.elements(Family.IP, NftablesLayout.TABLE, map)) {
            long key = Long.parseLong(element.key().get(0));
            if (key >= from && key < to) {
                block.put(key, element.value());
            }
        }
        return block;
    }

    /** The dump without chains still waiting for deletion, which depend on when each sync ran. */

    /** {@code services} ClusterIP services of 3 endpoints each, their addresses shifted by {@code shift}. */
    private static ProxyState cluster(int services, int shift) {
        List<ServicePort> ports = new ArrayList<>();
        Map<ServicePortName, List<Endpoint>> endpoints = new HashMap<>();
        for (int i = 0; i < services; i++) {
            ServicePortName name = ServicePortName.of("ns", "svc" + i, "http", Protocol.TCP);
            ports.add(ServicePort.builder(name, "10.96.0." + (i + 1), 80).nodePort(i % 5 == 0 ? 30000 + i : 0)
                    .build());
            List<Endpoint> list = new ArrayList<>();
            for (int e = 0; e < 3; e++) {
                list.add(Endpoint.builder(name, "10.244." + (e + shift) + "." + (i + 1), 8080)
                        .nodeName(e == 0 ? "node-a" : "node-b").build());
            }
            endpoints.put(name, list);
        }
        return ProxyState.of(IpFamily.V4, ports, endpoints);
    }
}
