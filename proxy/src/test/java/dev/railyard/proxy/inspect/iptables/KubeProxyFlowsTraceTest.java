package dev.railyard.proxy.inspect.iptables;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.inspect.EndpointShare;
import dev.railyard.proxy.inspect.LocalAddresses;
import dev.railyard.proxy.inspect.Origin;
import dev.railyard.proxy.inspect.Packet;
import dev.railyard.proxy.inspect.Step;
import dev.railyard.proxy.inspect.Trace;
import dev.railyard.proxy.inspect.Verdict;
import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.render.CompatCase;
import dev.railyard.proxy.render.RenderConfig;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * kube-proxy's own packet-flow expectations (src/test/resources/kubeproxy-compat, flows.tsv: 218 packets over 29
 * cases), traced with the evaluator through Railyard's render of each case plus the jump rules the proxy installs.
 * kube-proxy's test tracer only follows nat PREROUTING and four filter chains; this one walks the real hooks, so
 * a packet from a local address starts in OUTPUT. Their answers must still agree: kube-proxy's DNAT list (in rule
 * order) is our endpoint list, its ACCEPT and "no match" are our ACCEPT without DNAT, its DROP and REJECT ours,
 * and its masquerade flag (KUBE-MARK-MASQ reached) is our MASQUERADE in POSTROUTING for packets that get through.
 */
class KubeProxyFlowsTraceTest {

    @TestFactory
    List<DynamicNode> everyKubeProxyFlowTracesToItsExpectedOutcome() throws Exception {
        List<DynamicNode> containers = new ArrayList<>();
        List<CompatCase> cases = CompatCase.having("flows.tsv");
        assertThat(cases).hasSizeGreaterThanOrEqualTo(20);
        int flows = 0;
        for (CompatCase testCase : cases) {
            IptablesServiceRuleset rules = rulesOf(testCase);
            List<DynamicTest> tests = new ArrayList<>();
            for (String line : testCase.file("flows.tsv").split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.split("\t", -1);
                flows++;
                tests.add(DynamicTest.dynamicTest(f[0], () -> check(testCase, rules, f)));
            }
            containers.add(DynamicContainer.dynamicContainer(testCase.name, tests));
        }
        assertThat(flows).isEqualTo(218);
        return containers;
    }

    static IptablesServiceRuleset rulesOf(CompatCase testCase) throws Exception {
        return IptablesServiceRuleset.fromText(testCase.name, testCase.name, testCase.render(),
                localAddresses(testCase));
    }

    /** The fake proxier's node: 127.0.0.1, ::1 and every address of its fake interfaces. */
    static LocalAddresses localAddresses(CompatCase testCase) {
        Set<String> ips = new LinkedHashSet<>(testCase.list("nodeIPs"));
        for (String cidr : testCase.list("nodeInterfaceAddresses")) {
            ips.add(cidr.substring(0, cidr.indexOf('/')));
        }
        return LocalAddresses.of(new ArrayList<>(ips));
    }

    private static void check(CompatCase testCase, IptablesServiceRuleset rules, String[] f) {
        String source = f[1];
        Protocol protocol = f[2].isEmpty() ? Protocol.TCP : Protocol.parse(f[2].toUpperCase(Locale.ROOT));
        String expected = f[5];
        boolean masq = Boolean.parseBoolean(f[6]);
        RenderConfig config = testCase.renderConfig();
        Origin origin = rules.localAddresses().isLocal(IpAddresses.parse(source)) ? Origin.NODE
                : config.clusterCidr() != null && IpAddresses.parseCidr(config.clusterCidr())
                        .contains(IpAddresses.parse(source)) ? Origin.POD : Origin.EXTERNAL;
        Trace trace = rules.trace(Packet.of(source, f[3], Integer.parseInt(f[4]), protocol, origin));

        String description = testCase + ": " + f[0] + "\n" + trace.path().stream()
                .filter(s -> s.result() != Step.Result.NO_MATCH)
                .map(s -> s.table() + " " + s.chain() + " " + s.result() + " " + s.rule() + "  # " + s.why())
                .collect(Collectors.joining("\n"));
        assertThat(trace.unevaluated()).as(description).isEmpty();
        List<String> endpoints = trace.endpoints().stream().map(EndpointShare::address).toList();
        switch (expected) {
            case "", "ACCEPT" -> {
                assertThat(trace.verdicts()).as(description).containsOnlyKeys(Verdict.ACCEPT);
                assertThat(endpoints).as(description).isEmpty();
            }
            case "DROP" -> assertThat(trace.verdicts()).as(description).containsOnlyKeys(Verdict.DROP);
            case "REJECT" -> assertThat(trace.verdicts()).as(description).containsOnlyKeys(Verdict.REJECT);
            default -> {
                assertThat(trace.verdicts()).as(description).containsOnlyKeys(Verdict.DNAT);
                assertThat(endpoints).as(description).containsExactly(expected.split(", "));
                double total = trace.endpoints().stream().mapToDouble(EndpointShare::probability).sum();
                assertThat(total).as(description).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-9));
            }
        }
        if (trace.verdict() == Verdict.DNAT || trace.verdict() == Verdict.ACCEPT) {
            assertThat(trace.masquerade()).as(description + "\nmasquerade").isEqualTo(masq);
        }
    }
}
