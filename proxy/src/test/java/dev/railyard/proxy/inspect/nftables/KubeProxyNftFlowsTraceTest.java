package dev.railyard.proxy.inspect.nftables;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.inspect.EndpointShare;
import dev.railyard.proxy.inspect.Packet;
import dev.railyard.proxy.inspect.Step;
import dev.railyard.proxy.inspect.Trace;
import dev.railyard.proxy.inspect.Verdict;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.render.nftables.KubeProxyNftTracer;
import dev.railyard.proxy.render.nftables.Layout;
import dev.railyard.proxy.render.nftables.NftCompatCase;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * kube-proxy's own nftables packet-flow expectations (src/test/resources/kubeproxy-nftables-compat: flows.tsv,
 * 193 packets, and the derived flows of the whole-state cases, 31), traced with the evaluator through Railyard's
 * render of each case in both layouts. kube-proxy's test tracer runs four chains of its own table by regular
 * expressions; this one walks every hook as the kernel does (a packet from a local address starts in output).
 * Their answers must still agree: kube-proxy's DNAT list is our endpoint list, its DROP and REJECT ours, its
 * empty output our ACCEPT, and its masquerade flag (mark-for-masquerade reached) our masquerade in postrouting
 * for packets that get through.
 */
class KubeProxyNftFlowsTraceTest {

    @TestFactory
    List<DynamicNode> everyKubeProxyFlowTracesToItsExpectedOutcomeInBothLayouts() throws Exception {
        List<DynamicNode> layouts = new ArrayList<>();
        int total = 0;
        for (Layout layout : Layout.values()) {
            List<DynamicNode> containers = new ArrayList<>();
            for (NftCompatCase testCase : NftCompatCase.all()) {
                List<KubeProxyNftTracer.Flow> flows = new ArrayList<>();
                if (testCase.has(NftCompatCase.FLOWS)) {
                    flows.addAll(testCase.flows());
                }
                if (testCase.has(NftCompatCase.DERIVED_FLOWS)) {
                    flows.addAll(testCase.derivedFlows());
                }
                if (flows.isEmpty()) {
                    continue;
                }
                NftablesServiceRuleset rules = NftCompatRules.render(testCase, layout);
                List<DynamicTest> tests = new ArrayList<>();
                for (KubeProxyNftTracer.Flow flow : flows) {
                    total++;
                    tests.add(DynamicTest.dynamicTest(flow.name(), () -> check(testCase, rules, flow)));
                }
                containers.add(DynamicContainer.dynamicContainer(testCase.name(), tests));
            }
            layouts.add(DynamicContainer.dynamicContainer(layout.name(), containers));
        }
        assertThat(total).isEqualTo(2 * (193 + 31));
        return layouts;
    }

    private static void check(NftCompatCase testCase, NftablesServiceRuleset rules, KubeProxyNftTracer.Flow flow) {
        Protocol protocol = Protocol.parse(flow.protocol().toUpperCase(Locale.ROOT));
        Packet packet = Packet.of(flow.sourceIp(), flow.destIp(), flow.destPort(), protocol,
                NftCompatRules.origin(testCase, rules.localAddresses(), flow.sourceIp()));
        Trace trace = rules.trace(packet);

        String description = testCase + ": " + flow.name() + " (" + packet.describe() + ")\n" + trace.path().stream()
                .filter(s -> s.result() != Step.Result.NO_MATCH)
                .map(s -> s.table() + " " + s.chain() + " " + s.result() + " " + s.rule() + "  # " + s.why())
                .collect(Collectors.joining("\n"));
        assertThat(trace.unevaluated()).as(description).isEmpty();
        List<String> endpoints = trace.endpoints().stream().map(EndpointShare::address).toList();
        switch (flow.output()) {
            case "", "ACCEPT" -> {
                assertThat(trace.verdicts()).as(description).containsOnlyKeys(Verdict.ACCEPT);
                assertThat(endpoints).as(description).isEmpty();
            }
            case "DROP" -> assertThat(trace.verdicts()).as(description).containsOnlyKeys(Verdict.DROP);
            case "REJECT" -> assertThat(trace.verdicts()).as(description).containsOnlyKeys(Verdict.REJECT);
            default -> {
                assertThat(trace.verdicts()).as(description).containsOnlyKeys(Verdict.DNAT);
                assertThat(endpoints).as(description).containsExactlyInAnyOrder(
                        java.util.Arrays.stream(flow.output().split(", ")).distinct().toArray(String[]::new));
                double total = trace.endpoints().stream().mapToDouble(EndpointShare::probability).sum();
                assertThat(total).as(description).isCloseTo(1.0, Offset.offset(1e-9));
            }
        }
        if (trace.verdict() == Verdict.DNAT || trace.verdict() == Verdict.ACCEPT) {
            assertThat(trace.masquerade()).as(description + "\nmasquerade").isEqualTo(flow.masq());
        }
    }
}
