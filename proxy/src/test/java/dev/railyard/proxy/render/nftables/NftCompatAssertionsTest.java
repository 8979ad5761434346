package dev.railyard.proxy.render.nftables;

import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The comparison the renderer will face, run on the expectations themselves: kube-proxy's expected text, dumped the
 * way the knftables Fake prints it, must pass; a dump that differs in one element or one rule must not.
 */
class NftCompatAssertionsTest {

    /** What a perfect renderer would hand over: the Fake's dump of the expected state. */
    private static String perfectDump(NftCompatCase testCase) {
        return NftFakeTable.fromDump(testCase.expected()).dump();
    }

    @TestFactory
    List<DynamicTest> theExpectedStateDumpedLikeTheFakeMatches() {
        List<DynamicTest> tests = new ArrayList<>();
        for (NftCompatCase testCase : NftCompatCase.having(NftCompatCase.EXPECTED)) {
            tests.add(DynamicTest.dynamicTest(testCase.name(), () -> {
                assertThat(NftCompatAssertions.differences(testCase, perfectDump(testCase))).isEmpty();
                // a renderer that knows nothing of earlier syncs leaves the leftover chains out, which also passes
                String fresh = NftFakeTable.fromDump(testCase.expectedWithoutLeftoverChains()).dump();
                assertThat(NftCompatAssertions.differences(testCase, fresh)).isEmpty();
            }));
        }
        return tests;
    }

    @Test
    void lineOrderDoesNotMatterExceptForRulesOfOneChain() {
        NftCompatCase overall = NftCompatCase.named("overall-nftables-rules");
        List<String> lines = new ArrayList<>(List.of(perfectDump(overall).split("\n")));
        List<String> shuffled = new ArrayList<>(lines);
        Collections.shuffle(shuffled, new Random(7));
        // keep each chain's rules in their order: put the rule lines back where they were, relative to each other
        List<String> rules = lines.stream().filter(l -> l.startsWith("add rule ")).toList();
        int next = 0;
        for (int i = 0; i < shuffled.size(); i++) {
            if (shuffled.get(i).startsWith("add rule ")) {
                shuffled.set(i, rules.get(next++));
            }
        }
        assertThat(NftCompatAssertions.differences(overall, String.join("\n", shuffled))).isEmpty();

        String swapped = perfectDump(overall).replace(
                "add rule ip kube-proxy masquerading mark set mark xor 0x4000\n"
                        + "add rule ip kube-proxy masquerading masquerade fully-random\n",
                "add rule ip kube-proxy masquerading masquerade fully-random\n"
                        + "add rule ip kube-proxy masquerading mark set mark xor 0x4000\n");
        assertThat(NftCompatAssertions.differences(overall, swapped)).singleElement().asString()
                .contains("same lines, different order");
    }

    @Test
    void aMissingElementFailsTheRulesetAndTheFlowsThatNeedIt() {
        NftCompatCase overall = NftCompatCase.named("overall-nftables-rules");
        String dump = perfectDump(overall).replace(
                "add element ip kube-proxy service-nodeports { tcp . 3003 : goto external-4AT6LBPK-ns3/svc3/tcp/p80 }\n",
                "");
        List<String> problems = NftCompatAssertions.differences(overall, dump);
        assertThat(problems).hasSize(2);
        assertThat(problems.get(0)).contains("expected.nft differs", "- missing",
                "add element ip kube-proxy service-nodeports { tcp . 3003");
        assertThat(problems.get(1)).contains("derived-flows.tsv", "external to svc3 NodePort",
                "wrong output: expected \"10.180.0.3:80\" got \"\"");
    }

    @Test
    void aWrongMasqueradeRuleIsFoundByTheFlows() {
        NftCompatCase badIps = NftCompatCase.named("bad-ips");
        String dump = perfectDump(badIps).replace(
                "add rule ip kube-proxy external-ULMVA6XW-ns1/svc1/tcp/p80 jump mark-for-masquerade\n", "");
        List<String> problems = NftCompatAssertions.differences(badIps, dump);
        assertThat(problems).anyMatch(p -> p.startsWith("expected.nft differs"));
        assertThat(problems).anyMatch(p -> p.contains("external to LB IP") && p.contains("wrong masq"));
    }

    @Test
    void anInconsistentDumpIsReportedNotThrown() {
        NftCompatCase overall = NftCompatCase.named("overall-nftables-rules");
        String dangling = perfectDump(overall).replace("add chain ip kube-proxy reject-chain { comment "
                + "\"helper for @no-endpoint-services / @no-endpoint-nodeports\" ; }\n", "");
        assertThat(NftCompatAssertions.differences(overall, dangling))
                .anyMatch(p -> p.contains("not a consistent knftables state") && p.contains("reject-chain"));
        assertThat(NftCompatAssertions.differences(overall, "")).isNotEmpty();

        NftCompatCase v6 = NftCompatCase.named("nodeports-ipv6");
        assertThat(NftCompatAssertions.differences(v6, "add table ip kube-proxy\n"))
                .containsExactly("the dump is for table ip kube-proxy, not ip6 kube-proxy");
    }

    @Test
    void flowOnlyCasesTraceTheDump() {
        // the empty table has every base chain missing: the tracer reports it and every flow fails
        NftCompatCase reject = NftCompatCase.named("no-endpoints-reject");
        List<String> problems = NftCompatAssertions.differences(reject, "add table ip kube-proxy\n");
        assertThat(problems).hasSize(reject.flows().size())
                .allMatch(p -> p.contains("unknown chain \"filter-prerouting-pre-dnat\""));
    }

    @Test
    void elementExpectationsAreChecked() {
        NftCompatCase proxy = NftCompatCase.named("load-balancer-ingress-ip-mode-proxy");
        String table = "add table ip kube-proxy\n"
                + "add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; }\n";
        assertThat(NftCompatAssertions.differences(proxy, table)).isEmpty();
        String withElement = table + "add chain ip kube-proxy x\n"
                + "add element ip kube-proxy service-ips { 1.2.3.4 . tcp . 80 : goto x }\n";
        assertThat(NftCompatAssertions.differences(proxy, withElement))
                .containsExactly("expected-elements.tsv: map service-ips has an element with key 1.2.3.4 . tcp . 80");
        NftCompatCase vip = NftCompatCase.named("load-balancer-ingress-ip-mode-vip");
        assertThat(NftCompatAssertions.differences(vip, table))
                .containsExactly("expected-elements.tsv: map service-ips lacks an element with key 1.2.3.5 . tcp . 80");
    }

    @Test
    void theDynamicTestsRunTheSameChecksAndRenderEachCaseOnce() throws Throwable {
        List<String> rendered = new ArrayList<>();
        List<DynamicNode> nodes = NftCompatAssertions.tests(testCase -> {
            rendered.add(testCase.name());
            return testCase.has(NftCompatCase.EXPECTED) ? perfectDump(testCase) : "add table ip kube-proxy\n";
        });
        assertThat(nodes).hasSize(NftCompatCase.all().size());
        DynamicContainer overall = (DynamicContainer) nodes.stream()
                .filter(n -> n.getDisplayName().equals("overall-nftables-rules")).findFirst().orElseThrow();
        for (DynamicNode node : overall.getChildren().toList()) {
            ((DynamicTest) node).getExecutable().execute();
        }
        assertThat(rendered).containsExactly("overall-nftables-rules");

        DynamicContainer reject = (DynamicContainer) nodes.stream()
                .filter(n -> n.getDisplayName().equals("no-endpoints-reject")).findFirst().orElseThrow();
        DynamicTest firstFlow = (DynamicTest) reject.getChildren().findFirst().orElseThrow();
        assertThat(firstFlow.getDisplayName()).isEqualTo("flows.tsv: pod to cluster IP with no endpoints");
        assertThatThrownBy(() -> firstFlow.getExecutable().execute()).isInstanceOf(AssertionError.class)
                .hasMessageContaining("wrong output: expected \"REJECT\"");
    }
}
