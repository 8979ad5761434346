package dev.railyard.proxy.render.nftables;

import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Compares what Railyard renders for a kube-proxy nftables case with kube-proxy's own expectations for it, the way
 * kube-proxy's tests compare the knftables Fake:
 * <ul>
 * <li>{@code expected.nft}: equal after {@link NftTransactionSort} of both texts (assertNFTablesTransactionEqual);</li>
 * <li>{@code flows.tsv} and {@code derived-flows.tsv}: every flow traced through the rendered ruleset by
 * {@link KubeProxyNftTracer} gives the expected output and masquerade flag (runPacketFlowTests);</li>
 * <li>{@code expected-elements.tsv}: the set/map has (or lacks) an element with that key (FindElement).</li>
 * </ul>
 * The rendered ruleset is given as the text the knftables Fake's {@code Dump()} would print for Railyard's table:
 * {@code add table/chain/set/map/rule/element} lines for the whole {@code kube-proxy} table (the order does not
 * matter; see {@link NftFakeTable#fromDump}). It must be a consistent state: a rule may only jump to, or look up,
 * objects that exist.
 *
 * <p>Leftover chains (cases of TestSyncProxyRulesRepeated whose fake state still holds flushed chains of earlier
 * syncs, listed in {@code leftoverChains}) are compared as the dump has them: if the dump has none of them, they are
 * left out of the expectation too.
 */
public final class NftCompatAssertions {

    private NftCompatAssertions() {
    }

    /** Every way the rendered dump differs from the case's expectations; empty if it matches kube-proxy. */
    public static List<String> differences(NftCompatCase testCase, String renderedDump) {
        List<String> problems = new ArrayList<>();
        NftFakeTable table = parse(testCase, renderedDump, problems);
        if (testCase.has(NftCompatCase.EXPECTED)) {
            problems.addAll(rulesetDifferences(testCase, renderedDump));
        }
        if (table != null) {
            if (testCase.has(NftCompatCase.FLOWS)) {
                problems.addAll(flowFailures(testCase, table, testCase.flows(), NftCompatCase.FLOWS));
            }
            if (testCase.has(NftCompatCase.DERIVED_FLOWS)) {
                problems.addAll(flowFailures(testCase, table, testCase.derivedFlows(), NftCompatCase.DERIVED_FLOWS));
            }
            if (testCase.has(NftCompatCase.EXPECTED_ELEMENTS)) {
                problems.addAll(elementDifferences(testCase, table));
            }
        }
        return problems;
    }

    /** Fails with every difference (see {@link #differences}). */
    public static void assertMatchesKubeProxy(NftCompatCase testCase, String renderedDump) {
        List<String> problems = differences(testCase, renderedDump);
        if (!problems.isEmpty()) {
            throw new AssertionError(testCase + " differs from kube-proxy:\n" + String.join("\n", problems));
        }
    }

    /**
     * JUnit dynamic tests for every case: per case, one test for expected.nft and expected-elements.tsv and one per
     * flow. {@code dumpOfRenderedRuleset} gives the Fake-style dump of what Railyard renders for a case; it is called
     * at most once per case, when the first of its tests runs.
     */
    public static List<DynamicNode> tests(Function<NftCompatCase, String> dumpOfRenderedRuleset) {
        return tests(dumpOfRenderedRuleset, true);
    }

    /**
     * As {@link #tests(Function)}; without {@code wholeStates}, only the meaning is checked (packet flows and
     * element expectations), for a layout whose rules are not kube-proxy's text.
     */
    public static List<DynamicNode> tests(Function<NftCompatCase, String> dumpOfRenderedRuleset,
                                          boolean wholeStates) {
        List<DynamicNode> containers = new ArrayList<>();
        for (NftCompatCase testCase : NftCompatCase.all()) {
            String[] dump = new String[1];
            Function<NftCompatCase, String> once = c -> {
                if (dump[0] == null) {
                    dump[0] = dumpOfRenderedRuleset.apply(c);
                }
                return dump[0];
            };
            List<DynamicTest> tests = new ArrayList<>();
            if (wholeStates && testCase.has(NftCompatCase.EXPECTED)) {
                tests.add(DynamicTest.dynamicTest(NftCompatCase.EXPECTED,
                        () -> fail(testCase, rulesetDifferences(testCase, once.apply(testCase)))));
            }
            if (testCase.has(NftCompatCase.EXPECTED_ELEMENTS)) {
                tests.add(DynamicTest.dynamicTest(NftCompatCase.EXPECTED_ELEMENTS, () -> {
                    List<String> problems = new ArrayList<>();
                    NftFakeTable table = parse(testCase, once.apply(testCase), problems);
                    if (table != null) {
                        problems.addAll(elementDifferences(testCase, table));
                    }
                    fail(testCase, problems);
                }));
            }
            for (String file : List.of(NftCompatCase.FLOWS, NftCompatCase.DERIVED_FLOWS)) {
                if (!testCase.has(file)) {
                    continue;
                }
                List<KubeProxyNftTracer.Flow> flows = file.equals(NftCompatCase.FLOWS) ? testCase.flows()
                        : testCase.derivedFlows();
                for (KubeProxyNftTracer.Flow flow : flows) {
                    tests.add(DynamicTest.dynamicTest(file + ": " + flow.name(), () -> {
                        List<String> problems = new ArrayList<>();
                        NftFakeTable table = parse(testCase, once.apply(testCase), problems);
                        if (table != null) {
                            problems.addAll(flowFailures(testCase, table, List.of(flow), file));
                        }
                        fail(testCase, problems);
                    }));
                }
            }
            containers.add(DynamicContainer.dynamicContainer(testCase.name(), tests));
        }
        return containers;
    }

    /** expected.nft against the dump, after sorting both (leftover chains as the dump has them). */
    public static List<String> rulesetDifferences(NftCompatCase testCase, String renderedDump) {
        String expected = testCase.expected();
        if (!testCase.leftoverChains().isEmpty() && !mentionsAny(renderedDump, testCase)) {
            expected = testCase.expectedWithoutLeftoverChains();
        }
        String diff = NftTransactionSort.diff(expected, renderedDump);
        return diff.isEmpty() ? List.of() : List.of(NftCompatCase.EXPECTED + " differs after sorting:\n" + diff);
    }

    static List<String> flowFailures(NftCompatCase testCase, NftFakeTable table, List<KubeProxyNftTracer.Flow> flows,
            String file) {
        List<String> problems = new ArrayList<>();
        for (String failure : KubeProxyNftTracer.runPacketFlowTests(table, testCase.tracerNodeIps(), flows)) {
            problems.add(file + ": " + failure);
        }
        return problems;
    }

    static List<String> elementDifferences(NftCompatCase testCase, NftFakeTable table) {
        List<String> problems = new ArrayList<>();
        for (NftCompatCase.ExpectedElement expected : testCase.expectedElements()) {
            NftFakeTable.Container container = expected.kind().equals("map") ? table.map(expected.container())
                    : table.set(expected.container());
            String key = String.join(" . ", expected.key());
            if (container == null) {
                problems.add(NftCompatCase.EXPECTED_ELEMENTS + ": no " + expected.kind() + " " + expected.container());
                continue;
            }
            boolean present = container.findElement(expected.key().toArray(new String[0])) != null;
            if (present != expected.present()) {
                problems.add(NftCompatCase.EXPECTED_ELEMENTS + ": " + expected.kind() + " " + expected.container()
                        + (expected.present() ? " lacks" : " has") + " an element with key " + key);
            }
        }
        return problems;
    }

    private static NftFakeTable parse(NftCompatCase testCase, String renderedDump, List<String> problems) {
        try {
            NftFakeTable table = NftFakeTable.fromDump(renderedDump);
            if (!table.family().equals(testCase.nftFamily()) || !table.tableName().equals("kube-proxy")) {
                problems.add("the dump is for table " + table.family() + " " + table.tableName() + ", not "
                        + testCase.nftFamily() + " kube-proxy");
                return null;
            }
            return table;
        } catch (NftFakeTable.NftFakeException e) {
            problems.add("the rendered dump is not a consistent knftables state: " + e.getMessage());
            return null;
        }
    }

    private static boolean mentionsAny(String dump, NftCompatCase testCase) {
        String prefix = "add chain " + testCase.nftFamily() + " kube-proxy ";
        for (String line : dump.split("\n")) {
            String trimmed = line.strip();
            if (trimmed.startsWith(prefix)) {
                String chain = trimmed.substring(prefix.length()).split(" ", 2)[0];
                if (testCase.leftoverChains().contains(chain)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static void fail(NftCompatCase testCase, List<String> problems) {
        if (!problems.isEmpty()) {
            throw new AssertionError(testCase + ":\n" + String.join("\n", problems));
        }
    }
}
