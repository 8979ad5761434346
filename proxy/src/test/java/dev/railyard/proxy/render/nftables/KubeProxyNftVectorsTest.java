package dev.railyard.proxy.render.nftables;

import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.source.ClusterSnapshot;
import dev.railyard.proxy.source.ManifestLoader;
import inet.ipaddr.IPAddress;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Proves the kube-proxy nftables vectors and the tools that read them agree with each other, without a renderer:
 * every expected.nft is a state the knftables Fake could dump, sorts to a fixed point and has no dangling
 * references; the flows of every case with an expected.nft trace through it to the expected results; every chain-name
 * hash recomputes; the manifests load. Each check is also run on a deliberately broken input, to show it can fail.
 */
class KubeProxyNftVectorsTest {

    private static final Pattern HASHED_NAME = Pattern.compile(
            "\\b(?:service|external|local|firewall|endpoint|affinity)-([A-Z2-7]{8}-[^ \\n]+)");

    // ---------------------------------------------------------------------------------------------------------------
    // Cases and manifests

    @Test
    void theCaseListIsComplete() {
        List<String> names = NftCompatCase.all().stream().map(NftCompatCase::name).collect(Collectors.toList());
        assertThat(names).hasSize(45).contains("overall-nftables-rules", "bad-ips", "no-endpoints-reject",
                "cluster-ip-general", "load-balancer", "nodeports-ipv6-multiple-nodeport-addresses",
                "external-traffic-policy-local", "internal-traffic-policy-local-no-local-endpoints",
                "terminating-endpoints-etp-cluster-ready-endpoints-exist", "internal-external-masquerade-masquerade-all",
                "sync-proxy-rules-repeated-10-restore-svc3-endpoints", "sync-proxy-rules-startup",
                "load-balancer-ingress-ip-mode-proxy");
        assertThat(NftCompatCase.having(NftCompatCase.EXPECTED)).hasSize(13);
        assertThat(NftCompatCase.having(NftCompatCase.FLOWS)).hasSize(29);
    }

    @TestFactory
    List<DynamicTest> everyCaseHasSettingsAnExpectationAndLoadableManifests() {
        List<DynamicTest> tests = new ArrayList<>();
        for (NftCompatCase testCase : NftCompatCase.all()) {
            tests.add(DynamicTest.dynamicTest(testCase.name(), () -> {
                assertThat(testCase.ipFamily()).isIn(4, 6);
                assertThat(testCase.nodeName()).isEqualTo("test-node");
                assertThat(testCase.masqueradeMark()).isEqualTo("0x4000");
                assertThat(testCase.tracerNodeIps()).isNotEmpty();
                assertThat(testCase.serviceCidrs()).isNotEmpty();
                assertThat(testCase.config().getProperty("source"))
                        .contains("kubernetes/kubernetes@81810de635aa13aa0a32992f6def3aa9d6025ebc");
                assertThat(List.of(NftCompatCase.EXPECTED, NftCompatCase.FLOWS, NftCompatCase.EXPECTED_ELEMENTS))
                        .anyMatch(testCase::has);

                ClusterSnapshot snapshot = ManifestLoader.load(List.of(testCase.manifests()));
                assertThat(snapshot.problems()).as("manifest problems").isEmpty();
                IpFamily family = IpFamily.of(testCase.ipFamily());
                assertThat(snapshot.servicePorts(family)).as("service ports").isNotEmpty();
                assertThat(snapshot.state(family, testCase.nodeName())).isNotNull();
            }));
        }
        return tests;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // expected.nft

    @TestFactory
    List<DynamicTest> everyExpectedTextIsAStateTheFakeCouldDump() {
        List<DynamicTest> tests = new ArrayList<>();
        for (NftCompatCase testCase : NftCompatCase.having(NftCompatCase.EXPECTED)) {
            tests.add(DynamicTest.dynamicTest(testCase.name(),
                    () -> assertThat(dumpProblems(testCase.expected())).isEmpty()));
        }
        return tests;
    }

    /**
     * What upstream's comparison relies on: the expected text, read as a Fake state and dumped again, sorts to the
     * same text (no duplicate objects or elements, nothing the Fake would drop), and sorting is a fixed point.
     */
    static List<String> dumpProblems(String expected) {
        List<String> problems = new ArrayList<>();
        String sorted = NftTransactionSort.sort(expected);
        if (!NftTransactionSort.sort(sorted).equals(sorted)) {
            problems.add("sorting is not a fixed point");
        }
        NftFakeTable table;
        try {
            table = NftFakeTable.fromDump(expected);
        } catch (NftFakeTable.NftFakeException e) {
            problems.add("not a consistent Fake state: " + e.getMessage());
            return problems;
        }
        String diff = NftTransactionSort.diff(expected, table.dump());
        if (!diff.isEmpty()) {
            problems.add("the Fake's dump of this state differs from the text:\n" + diff);
        }
        return problems;
    }

    @Test
    void dumpProblemsFindDuplicatesAndDanglingReferences() {
        String good = NftCompatCase.named("overall-nftables-rules").expected();
        assertThat(dumpProblems(good)).isEmpty();

        String duplicate = good + "add element ip kube-proxy cluster-ips { 172.30.0.41 }\n";
        assertThat(dumpProblems(duplicate)).singleElement().asString().contains("differs from the text");

        String dangling = good.replace("goto endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80 }",
                "goto endpoint-XXXXXXXX-ns1/svc1/tcp/p80__10.180.0.1/80 }");
        assertThat(dumpProblems(dangling)).singleElement().asString()
                .contains("no such chain \"endpoint-XXXXXXXX-ns1/svc1/tcp/p80__10.180.0.1/80\"");

        String replacedValue = good + "add element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 : goto "
                + "reject-chain }\n";
        assertThat(dumpProblems(replacedValue)).singleElement().asString().contains("differs from the text");
    }

    @TestFactory
    List<DynamicTest> everyExpectedTextStartsWithTheSameBaseRules() {
        String base = baseRules(NftCompatCase.named("overall-nftables-rules").expected());
        assertThat(base).startsWith("\nadd table ip kube-proxy { comment \"rules for kube-proxy\" ; }\n")
                .endsWith("add rule ip kube-proxy service-endpoints-check ip daddr . meta l4proto . th dport vmap "
                        + "@no-endpoint-services\n");
        assertThat(base.split("\n", -1)).hasSize(55);
        List<DynamicTest> tests = new ArrayList<>();
        for (NftCompatCase testCase : NftCompatCase.all()) {
            for (String file : List.of(NftCompatCase.EXPECTED, NftCompatCase.INITIAL_STATE)) {
                if (testCase.has(file)) {
                    tests.add(DynamicTest.dynamicTest(testCase.name() + "/" + file,
                            () -> assertThat(testCase.file(file)).startsWith(base)));
                }
            }
        }
        return tests;
    }

    private static String baseRules(String expected) {
        String last = "add rule ip kube-proxy service-endpoints-check ip daddr . meta l4proto . th dport vmap "
                + "@no-endpoint-services\n";
        return expected.substring(0, expected.indexOf(last) + last.length());
    }

    /**
     * Every per-service chain (kube-proxy's isServiceChainName: the name has a "/") is reachable from a base chain
     * (through jump, goto, numgen vmaps and verdict-map elements), except exactly the chains the case lists as
     * leftovers of earlier syncs; those exist and have no rules. (The fixed helper reject-chain is unreachable while
     * no service lacks endpoints.)
     */
    @TestFactory
    List<DynamicTest> onlyTheListedLeftoverChainsAreUnreachable() {
        List<DynamicTest> tests = new ArrayList<>();
        for (NftCompatCase testCase : NftCompatCase.having(NftCompatCase.EXPECTED)) {
            tests.add(DynamicTest.dynamicTest(testCase.name(), () -> {
                NftFakeTable table = NftFakeTable.fromDump(testCase.expected());
                assertThat(unreachableChains(table)).filteredOn(name -> name.contains("/"))
                        .containsExactlyInAnyOrderElementsOf(testCase.leftoverChains());
                for (String leftover : testCase.leftoverChains()) {
                    assertThat(table.chain(leftover).rules()).as(leftover).isEmpty();
                }
                Set<String> stale = new LinkedHashSet<>(testCase.list("expectedStaleChains"));
                assertThat(testCase.leftoverChains()).containsAll(stale);
            }));
        }
        return tests;
    }

    static Set<String> unreachableChains(NftFakeTable table) {
        Set<String> reached = new LinkedHashSet<>();
        Deque<String> todo = new ArrayDeque<>();
        for (NftFakeTable.Chain chain : table.chains()) {
            if (chain.isBaseChain()) {
                todo.add(chain.name());
            }
        }
        while (!todo.isEmpty()) {
            String name = todo.pop();
            if (!reached.add(name)) {
                continue;
            }
            for (NftFakeTable.Rule rule : table.chain(name).rules()) {
                String[] words = rule.rule().split(" ");
                for (int i = 0; i + 1 < words.length; i++) {
                    if (words[i].equals("jump") || words[i].equals("goto")) {
                        todo.add(words[i + 1]);
                    } else if (words[i].equals("vmap") && words[i + 1].startsWith("@")) {
                        for (NftFakeTable.Element element : table.map(words[i + 1].substring(1)).elements()) {
                            String[] value = element.value().get(0).split(" ");
                            if (value.length == 2 && (value[0].equals("goto") || value[0].equals("jump"))) {
                                todo.add(value[1]);
                            }
                        }
                    }
                }
            }
        }
        Set<String> unreachable = new TreeSet<>();
        for (NftFakeTable.Chain chain : table.chains()) {
            if (!reached.contains(chain.name())) {
                unreachable.add(chain.name());
            }
        }
        return unreachable;
    }

    @Test
    void unreachableChainsAreFound() {
        NftFakeTable table = NftFakeTable.fromDump(NftCompatCase.named("overall-nftables-rules").expected()
                .replace("add element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 : goto "
                        + "service-ULMVA6XW-ns1/svc1/tcp/p80 }\n", ""));
        assertThat(unreachableChains(table)).filteredOn(name -> name.contains("/")).containsExactly(
                "endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80", "service-ULMVA6XW-ns1/svc1/tcp/p80");
    }

    @Test
    void theStartupCasesInitialStateIsAValidParseDumpInItsOwnOrder() {
        NftCompatCase startup = NftCompatCase.named("sync-proxy-rules-startup");
        NftFakeTable fake = NftFakeTable.empty("ip", "kube-proxy");
        // upstream: err := nft.ParseDump(baseRules + ...); the test requires err == nil
        fake.parseDump(startup.file(NftCompatCase.INITIAL_STATE));
        assertThat(NftTransactionSort.diff(startup.file(NftCompatCase.INITIAL_STATE), fake.dump())).isEmpty();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Flows

    @TestFactory
    List<DynamicTest> flowsOfCasesWithAnExpectedRulesetTraceThroughIt() {
        List<DynamicTest> tests = new ArrayList<>();
        for (NftCompatCase testCase : NftCompatCase.having(NftCompatCase.EXPECTED)) {
            List<KubeProxyNftTracer.Flow> flows = allFlows(testCase);
            if (flows.isEmpty()) {
                continue;
            }
            tests.add(DynamicTest.dynamicTest(testCase.name(), () -> {
                NftFakeTable table = NftFakeTable.fromDump(testCase.expected());
                assertThat(KubeProxyNftTracer.runPacketFlowTests(table, testCase.tracerNodeIps(), flows)).isEmpty();

                // and the check is not vacuous: a flipped expectation fails
                KubeProxyNftTracer.Flow first = flows.get(0);
                KubeProxyNftTracer.Flow flipped = new KubeProxyNftTracer.Flow(first.name(), first.sourceIp(),
                        first.protocol(), first.destIp(), first.destPort(), first.output() + "x", !first.masq());
                assertThat(KubeProxyNftTracer.runPacketFlowTests(table, testCase.tracerNodeIps(), List.of(flipped)))
                        .singleElement().asString().contains("wrong output", "wrong masq");
            }));
        }
        assertThat(tests).hasSize(7);
        return tests;
    }

    private static List<KubeProxyNftTracer.Flow> allFlows(NftCompatCase testCase) {
        List<KubeProxyNftTracer.Flow> flows = new ArrayList<>();
        if (testCase.has(NftCompatCase.FLOWS)) {
            flows.addAll(testCase.flows());
        }
        if (testCase.has(NftCompatCase.DERIVED_FLOWS)) {
            flows.addAll(testCase.derivedFlows());
        }
        return flows;
    }

    @TestFactory
    List<DynamicTest> everyFlowIsWellFormedForItsCasesFamily() {
        List<DynamicTest> tests = new ArrayList<>();
        for (NftCompatCase testCase : NftCompatCase.all()) {
            List<KubeProxyNftTracer.Flow> flows = allFlows(testCase);
            if (flows.isEmpty()) {
                continue;
            }
            tests.add(DynamicTest.dynamicTest(testCase.name(), () -> {
                IpFamily family = IpFamily.of(testCase.ipFamily());
                for (KubeProxyNftTracer.Flow flow : flows) {
                    assertThat(flow.protocol()).as(flow.name()).isIn("tcp", "udp", "sctp");
                    assertThat(familyOf(flow.sourceIp())).as(flow.name() + " source").isEqualTo(family);
                    assertThat(familyOf(flow.destIp())).as(flow.name() + " destination").isEqualTo(family);
                    assertThat(flow.destPort()).as(flow.name()).isBetween(1, 65535);
                    String output = flow.output();
                    if (!output.isEmpty() && !output.equals("DROP") && !output.equals("REJECT")) {
                        for (String endpoint : output.split(", ", -1)) {
                            assertThat(endpoint).as(flow.name()).matches(family == IpFamily.V6
                                    ? "\\[[0-9a-f:]+\\]:[0-9]+" : "[0-9.]+:[0-9]+");
                        }
                    }
                }
                assertThat(flows.stream().map(f -> f.name() + "|" + f.protocol()).distinct().count())
                        .as("flows that are exact repeats").isEqualTo(flows.size());
            }));
        }
        return tests;
    }

    private static IpFamily familyOf(String address) {
        IPAddress ip = IpAddresses.parse(address);
        return IpAddresses.familyOf(ip);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Chain names

    record HashRow(String kind, String namespace, String name, String port, String protocol, String endpoint,
            String expected, String source) {
        String recompute() {
            return kind.equals("ep")
                    ? KubeProxyNftChainNames.servicePortEndpointChainNameBase(namespace, name, port, protocol, endpoint)
                    : KubeProxyNftChainNames.servicePortChainNameBase(namespace, name, port, protocol);
        }
    }

    static List<HashRow> hashRows() {
        List<HashRow> rows = new ArrayList<>();
        for (String line : NftCompatCase.shared("chain-name-hashes.tsv").split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\t", -1);
            if (f.length != 8 || !(f[0].equals("svc") || f[0].equals("ep"))) {
                throw new IllegalArgumentException("chain-name-hashes.tsv: bad line: " + line);
            }
            rows.add(new HashRow(f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]));
        }
        return rows;
    }

    @TestFactory
    List<DynamicTest> everyChainNameHashRecomputes() {
        List<HashRow> rows = hashRows();
        assertThat(rows).hasSize(28);
        List<DynamicTest> tests = new ArrayList<>();
        for (HashRow row : rows) {
            tests.add(DynamicTest.dynamicTest(row.expected(),
                    () -> assertThat(row.recompute()).isEqualTo(row.expected())));
        }
        return tests;
    }

    @Test
    void chainNameHashingCanTellNamesApart() {
        assertThat(KubeProxyNftChainNames.base32(new byte[] {'f', 'o', 'o', 'b', 'a', 'r'}))
                .isEqualTo("MZXW6YTBOI======"); // RFC 4648 test vector
        assertThat(KubeProxyNftChainNames.servicePortChainNameBase("ns1", "svc1", "p80", "tcp"))
                .isEqualTo("ULMVA6XW-ns1/svc1/tcp/p80")
                .isNotEqualTo(KubeProxyNftChainNames.servicePortChainNameBase("ns1", "svc1", "p80", "udp"));
        HashRow wrong = new HashRow("svc", "ns1", "svc1", "p81", "tcp", "", "ULMVA6XW-ns1/svc1/tcp/p80", "test");
        assertThat(wrong.recompute()).isNotEqualTo(wrong.expected());
    }

    @Test
    void everyHashedNameInTheExpectationsIsInTheHashTable() {
        Set<String> listed = hashRows().stream().map(HashRow::expected).collect(Collectors.toSet());
        Set<String> seen = new TreeSet<>();
        for (NftCompatCase testCase : NftCompatCase.all()) {
            for (String file : List.of(NftCompatCase.EXPECTED, NftCompatCase.INITIAL_STATE)) {
                if (testCase.has(file)) {
                    Matcher m = HASHED_NAME.matcher(testCase.file(file));
                    while (m.find()) {
                        seen.add(m.group(1));
                    }
                }
            }
        }
        assertThat(seen).hasSize(19);
        assertThat(listed).containsAll(seen);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Sync steps and element expectations

    @Test
    void syncStepsAreNumberedInOrderWithOperationCounts() {
        List<NftCompatCase> steps = NftCompatCase.all().stream()
                .filter(c -> c.name().startsWith("sync-proxy-rules-repeated-")).collect(Collectors.toList());
        assertThat(steps).hasSize(10);
        for (int i = 0; i < steps.size(); i++) {
            NftCompatCase step = steps.get(i);
            assertThat(step.config().getProperty("syncStep")).isEqualTo(String.format("%02d", i + 1));
            if (i > 0) {
                assertThat(step.config().getProperty("expectedOperations")).as(step.name()).matches("[0-9]+");
            }
        }
    }

    @TestFactory
    List<DynamicTest> elementExpectationsAreWellFormed() {
        List<DynamicTest> tests = new ArrayList<>();
        for (NftCompatCase testCase : NftCompatCase.having(NftCompatCase.EXPECTED_ELEMENTS)) {
            tests.add(DynamicTest.dynamicTest(testCase.name(), () -> {
                List<NftCompatCase.ExpectedElement> elements = testCase.expectedElements();
                assertThat(elements).hasSize(1);
                assertThat(elements.get(0).key()).hasSize(3).contains("tcp", "80");
            }));
        }
        assertThat(tests).hasSize(3);
        return tests;
    }
}
