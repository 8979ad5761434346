package dev.railyard.proxy.inspect.iptables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.railyard.proxy.inspect.Affinity;
import dev.railyard.proxy.inspect.EndpointShare;
import dev.railyard.proxy.inspect.LocalAddresses;
import dev.railyard.proxy.inspect.Origin;
import dev.railyard.proxy.inspect.Packet;
import dev.railyard.proxy.inspect.Step;
import dev.railyard.proxy.inspect.Trace;
import dev.railyard.proxy.inspect.Verdict;
import dev.railyard.proxy.model.Protocol;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The evaluator's semantics, each on a small hand-written iptables-save dump. */
class IptablesEvaluatorTest {
    private static final String NODE_IP = "192.168.1.10";
    private static final LocalAddresses LOCAL = LocalAddresses.of(List.of(NODE_IP));

    @Test
    void aThreeEndpointCascadeGivesEachEndpointTheProductOfItsChoices() {
        Trace trace = trace(nat("""
                :PREROUTING ACCEPT [0:0]
                :SVC - [0:0]
                -A PREROUTING -d 10.96.0.1/32 -p tcp -m tcp --dport 80 -j SVC
                -A SVC -m statistic --mode random --probability 0.33333333349 -j DNAT --to-destination 10.1.0.1:8080
                -A SVC -m statistic --mode random --probability 0.50000000000 -j DNAT --to-destination 10.1.0.2:8080
                -A SVC -j DNAT --to-destination 10.1.0.3:8080
                """), external("10.96.0.1", 80));

        assertThat(trace.verdict()).isEqualTo(Verdict.DNAT);
        assertThat(trace.endpoints()).extracting(EndpointShare::address)
                .containsExactly("10.1.0.1:8080", "10.1.0.2:8080", "10.1.0.3:8080");
        assertThat(trace.endpoints().get(0).probability()).isCloseTo(0.33333333349, within(1e-12));
        assertThat(trace.endpoints().get(1).probability()).isCloseTo((1 - 0.33333333349) * 0.5, within(1e-12));
        assertThat(trace.endpoints().get(2).probability()).isCloseTo((1 - 0.33333333349) * 0.5, within(1e-12));
        assertThat(trace.outcomes()).hasSize(3);
        // The taken branch is followed to its end before the other side continues.
        List<String> order = trace.path().stream().filter(s -> s.chain().equals("SVC") || s.result() == Step.Result.END)
                .map(s -> s.result() + " " + s.rule()).collect(Collectors.toList());
        assertThat(order.get(0)).startsWith("MATCH -A SVC -m statistic --mode random --probability 0.33333333349");
        assertThat(order.get(1)).startsWith("END DNAT to 10.1.0.1:8080");
        assertThat(order.get(2)).startsWith("NO_MATCH -A SVC -m statistic --mode random --probability 0.33333333349");
    }

    @Test
    void aGotoChainReturnsToTheCallerOfTheChainThatWentThere() {
        Trace trace = trace(filter("""
                :INPUT ACCEPT [0:0]
                :FORWARD ACCEPT [0:0]
                :OUTPUT ACCEPT [0:0]
                :A - [0:0]
                :B - [0:0]
                -A FORWARD -j A
                -A FORWARD -j DROP
                -A A -g B
                -A A -j ACCEPT
                """), external("10.96.0.1", 80));

        // B is empty: its end returns to FORWARD (A's caller), not to A, so A's ACCEPT is never reached.
        assertThat(trace.verdict()).isEqualTo(Verdict.DROP);
        assertThat(trace.path()).noneMatch(s -> s.rule().equals("-A A -j ACCEPT"));
    }

    @Test
    void returnFromABaseChainAppliesItsPolicy() {
        Trace trace = trace(filter("""
                :INPUT ACCEPT [0:0]
                :FORWARD DROP [0:0]
                :OUTPUT ACCEPT [0:0]
                -A FORWARD -p udp -j ACCEPT
                -A FORWARD -j RETURN
                -A FORWARD -j ACCEPT
                """), external("10.96.0.1", 80));

        assertThat(trace.verdict()).isEqualTo(Verdict.DROP);
        assertThat(trace.outcomes().get(0).decidedBy()).isEqualTo("filter FORWARD policy DROP");
        assertThat(trace.path()).anyMatch(s -> s.result() == Step.Result.POLICY && s.rule().equals(":FORWARD DROP"));
    }

    @Test
    void marksFollowTheMarkTargetsAsTheKernelAppliesThem() {
        Trace trace = trace(nat("""
                :PREROUTING ACCEPT [0:0]
                :POSTROUTING ACCEPT [0:0]
                -A PREROUTING -j MARK --set-xmark 0x4000/0x4000
                -A PREROUTING -j MARK --or-mark 0x1
                -A PREROUTING -m mark --mark 0x4001 -j DNAT --to-destination 10.1.0.1:80
                -A POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
                -A POSTROUTING -j MARK --xor-mark 0x4000
                -A POSTROUTING -m mark --mark 0x1 -j MASQUERADE
                """), external("10.96.0.1", 80));

        assertThat(trace.endpoints()).extracting(EndpointShare::address).containsExactly("10.1.0.1:80");
        assertThat(trace.masquerade()).isTrue();
        assertThat(trace.path()).filteredOn(s -> s.rule().contains("--xor-mark")).first()
                .satisfies(s -> assertThat(s.why()).isEqualTo("mark is now 0x1"));
    }

    @Test
    void clientIpAffinityIsReportedAndTheTraceFollowsANewClient() {
        Trace trace = trace(nat("""
                :PREROUTING ACCEPT [0:0]
                :SVC - [0:0]
                :SEP1 - [0:0]
                :SEP2 - [0:0]
                -A PREROUTING -d 10.96.0.1/32 -p tcp -m tcp --dport 80 -j SVC
                -A SVC -m recent --rcheck --seconds 10800 --reap --name SEP1 --mask 255.255.255.255 --rsource -j SEP1
                -A SVC -m recent --rcheck --seconds 10800 --reap --name SEP2 --mask 255.255.255.255 --rsource -j SEP2
                -A SVC -m statistic --mode random --probability 0.50000000000 -j SEP1
                -A SVC -j SEP2
                -A SEP1 -p tcp -m recent --set --name SEP1 --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.1.0.1:80
                -A SEP2 -p tcp -m recent --set --name SEP2 --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.1.0.2:80
                """), external("10.96.0.1", 80));

        assertThat(trace.endpoints()).extracting(EndpointShare::address).containsExactly("10.1.0.1:80", "10.1.0.2:80");
        assertThat(trace.affinity()).containsExactly(new Affinity("SEP1", 10800, "SEP1", "10.1.0.1:80"),
                new Affinity("SEP2", 10800, "SEP2", "10.1.0.2:80"));
        assertThat(trace.path()).filteredOn(s -> s.rule().contains("--rcheck")).allSatisfy(s -> {
            assertThat(s.result()).isEqualTo(Step.Result.NO_MATCH);
            assertThat(s.why()).startsWith("session affinity: assuming this client has no entry in SEP");
        });
    }

    @Test
    void aRuleWithAnUnmodelledMatchIsReportedAndTreatedAsNotMatching() {
        Trace trace = trace(filter("""
                :INPUT ACCEPT [0:0]
                :FORWARD ACCEPT [0:0]
                :OUTPUT ACCEPT [0:0]
                -A FORWARD -p udp -m physdev --physdev-is-bridged -j DROP
                -A FORWARD -m physdev --physdev-is-bridged -j DROP
                -A FORWARD -m limit --limit 5/min -j LOG --log-prefix "dropped: "
                -A FORWARD -j CILIUM_FORWARD_TARGET
                """), external("10.96.0.1", 80));

        assertThat(trace.verdict()).isEqualTo(Verdict.ACCEPT);
        List<Step> steps = trace.path().stream().filter(s -> s.chain().equals("FORWARD")
                && s.result() != Step.Result.POLICY).toList();
        // A condition that fails decides the rule even next to one that cannot be evaluated.
        assertThat(steps.get(0).result()).isEqualTo(Step.Result.NO_MATCH);
        assertThat(steps.get(0).why()).isEqualTo("protocol tcp is not udp");
        assertThat(steps.get(1).result()).isEqualTo(Step.Result.CANNOT_EVALUATE);
        assertThat(steps.get(1).why()).contains("-m physdev --physdev-is-bridged is not modelled");
        assertThat(steps.get(2).result()).isEqualTo(Step.Result.CANNOT_EVALUATE);
        assertThat(steps.get(3).result()).isEqualTo(Step.Result.CANNOT_EVALUATE);
        assertThat(steps.get(3).why()).contains("target CILIUM_FORWARD_TARGET is not a chain of this table");
        assertThat(trace.unevaluated()).hasSize(3);
        assertThat(trace.outcomes().get(0).unevaluated()).isEqualTo(3);
    }

    @Test
    void interfacesAreEvaluatedOnlyWhenKnown() {
        String rules = filter("""
                :INPUT ACCEPT [0:0]
                :FORWARD ACCEPT [0:0]
                :OUTPUT ACCEPT [0:0]
                -A FORWARD -i eth+ -j DROP
                """);
        Trace unknown = trace(rules, external("10.96.0.1", 80));
        Trace onEth0 = trace(rules, new Packet("203.0.113.9", 0, "10.96.0.1", 80, Protocol.TCP, Origin.EXTERNAL,
                "eth0"));
        Trace onCni0 = trace(rules, new Packet("203.0.113.9", 0, "10.96.0.1", 80, Protocol.TCP, Origin.EXTERNAL,
                "cni0"));

        assertThat(unknown.verdict()).isEqualTo(Verdict.ACCEPT);
        assertThat(unknown.unevaluated()).singleElement().extracting(Step::why).asString()
                .contains("the incoming interface is unknown");
        assertThat(onEth0.verdict()).isEqualTo(Verdict.DROP);
        assertThat(onCni0.verdict()).isEqualTo(Verdict.ACCEPT);
        assertThat(onCni0.unevaluated()).isEmpty();
    }

    @Test
    void kubeletsLocalnetRuleDropsOutsideTrafficToLoopbackButNotWhatWasDnatedFromIt() {
        String rules = nat("""
                :PREROUTING ACCEPT [0:0]
                :OUTPUT ACCEPT [0:0]
                -A PREROUTING -d 127.0.0.0/8 -p tcp -m tcp --dport 30080 -j DNAT --to-destination 10.1.0.1:80
                -A OUTPUT -d 127.0.0.0/8 -p tcp -m tcp --dport 30080 -j DNAT --to-destination 10.1.0.1:80
                """) + filter("""
                :INPUT ACCEPT [0:0]
                :FORWARD ACCEPT [0:0]
                :OUTPUT ACCEPT [0:0]
                -A INPUT ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
                -A OUTPUT ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
                """);

        assertThat(trace(rules, external("127.0.0.1", 9999)).verdict()).isEqualTo(Verdict.DROP);
        assertThat(trace(rules, external("127.0.0.1", 30080)).verdict()).isEqualTo(Verdict.DNAT);
        Trace fromNode = trace(rules, Packet.of(NODE_IP, "127.0.0.1", 9999, Protocol.TCP, Origin.NODE));
        assertThat(fromNode.verdict()).isEqualTo(Verdict.DROP);
        assertThat(fromNode.outcomes().get(0).decidedBy()).startsWith("filter OUTPUT");
    }

    @Test
    void packetsToALocalAddressAreDeliveredThroughInputAndNeverReachPostrouting() {
        String rules = nat("""
                :PREROUTING ACCEPT [0:0]
                :POSTROUTING ACCEPT [0:0]
                -A PREROUTING -d 10.96.0.1/32 -j DNAT --to-destination 192.168.1.10:6443
                -A POSTROUTING -j MASQUERADE
                """) + filter("""
                :INPUT ACCEPT [0:0]
                :FORWARD DROP [0:0]
                :OUTPUT ACCEPT [0:0]
                """);

        Trace toNode = trace(rules, external("10.96.0.1", 443));
        Trace forwarded = trace(rules, external("10.96.0.2", 443));

        assertThat(toNode.verdict()).isEqualTo(Verdict.DNAT);
        assertThat(toNode.masquerade()).isFalse();
        assertThat(toNode.outcomes().get(0).decidedBy()).isEqualTo("delivered to a local socket");
        assertThat(toNode.path()).anyMatch(s -> s.result() == Step.Result.ROUTE
                && s.why().equals("192.168.1.10 is a local address: delivered (INPUT)"));
        assertThat(forwarded.verdict()).isEqualTo(Verdict.DROP);
    }

    @Test
    void theNodesOwnPacketsStartInOutputAndComeBackOverLoopbackWithoutNatAgain() {
        String rules = nat("""
                :PREROUTING ACCEPT [0:0]
                :OUTPUT ACCEPT [0:0]
                :POSTROUTING ACCEPT [0:0]
                -A PREROUTING -j DNAT --to-destination 10.9.9.9:1
                -A OUTPUT -d 10.96.0.1/32 -j DNAT --to-destination 192.168.1.10:6443
                """) + filter("""
                :INPUT ACCEPT [0:0]
                :FORWARD ACCEPT [0:0]
                :OUTPUT ACCEPT [0:0]
                -A INPUT -i lo -p tcp -m tcp --dport 6443 -j REJECT
                """);

        Trace trace = trace(rules, Packet.of(NODE_IP, "10.96.0.1", 443, Protocol.TCP, Origin.NODE));

        assertThat(trace.verdict()).isEqualTo(Verdict.REJECT);
        assertThat(trace.path()).noneMatch(s -> s.chain().equals("PREROUTING"));
        assertThat(trace.path()).extracting(s -> s.table() + " " + s.chain()).containsSubsequence("nat OUTPUT",
                " routing", "filter INPUT");
    }

    @Test
    void notrackInRawSkipsNat() {
        String rules = "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -p udp -j NOTRACK\n"
                + "-A PREROUTING -p tcp -m tcp --dport 53 -j CT --notrack\nCOMMIT\n" + nat("""
                :PREROUTING ACCEPT [0:0]
                -A PREROUTING -j DNAT --to-destination 10.1.0.1
                """);

        assertThat(trace(rules, external("10.96.0.1", 80)).endpoints()).extracting(EndpointShare::address)
                .containsExactly("10.1.0.1:80");
        assertThat(trace(rules, external("10.96.0.1", 53)).verdict()).isEqualTo(Verdict.ACCEPT);
    }

    @Test
    void addressTypesFollowTheLocalAddresses() {
        String rules = nat("""
                :PREROUTING ACCEPT [0:0]
                -A PREROUTING -m addrtype --dst-type LOCAL -p tcp -m tcp --dport 30080 -j DNAT --to-destination 10.1.0.1:80
                """);

        assertThat(trace(rules, external(NODE_IP, 30080)).verdict()).isEqualTo(Verdict.DNAT);
        assertThat(trace(rules, external("127.0.0.5", 30080)).verdict()).isEqualTo(Verdict.DNAT);
        Trace other = trace(rules, external("192.168.1.11", 30080));
        assertThat(other.verdict()).isEqualTo(Verdict.ACCEPT);
        assertThat(other.path().get(0).why()).isEqualTo("destination 192.168.1.11 is UNICAST, not LOCAL");
    }

    @Test
    void ipv6RulesAreTracedLikeIpv4() {
        Trace trace = trace(nat("""
                :PREROUTING ACCEPT [0:0]
                :SEP - [0:0]
                -A PREROUTING -d fd00:10::1/128 -p udp -m udp --dport 53 -j SEP
                -A SEP -s fd00:20::5/128 -j MARK --set-xmark 0x4000/0x4000
                -A SEP -p udp -m udp -j DNAT --to-destination [fd00:20::5]:5353
                """), Packet.of("2001:db8::9", "fd00:10::1", 53, Protocol.UDP, Origin.EXTERNAL));

        assertThat(trace.endpoints()).extracting(EndpointShare::address).containsExactly("[fd00:20::5]:5353");
    }

    @Test
    void aJumpLoopIsReportedInsteadOfRunningForever() {
        Trace trace = trace(filter("""
                :INPUT ACCEPT [0:0]
                :FORWARD ACCEPT [0:0]
                :OUTPUT ACCEPT [0:0]
                :A - [0:0]
                :B - [0:0]
                -A FORWARD -j A
                -A A -j B
                -A B -j A
                """), external("10.96.0.1", 80));

        assertThat(trace.verdict()).isEqualTo(Verdict.ACCEPT);
        assertThat(trace.unevaluated()).singleElement().extracting(Step::why).asString().contains("a loop?");
    }

    // ---------------------------------------------------------------------------------------------------------

    private static Packet external(String destination, int port) {
        return Packet.of("203.0.113.9", destination, port, Protocol.TCP, Origin.EXTERNAL);
    }

    private static String nat(String body) {
        return "*nat\n" + body + "COMMIT\n";
    }

    private static String filter(String body) {
        return "*filter\n" + body + "COMMIT\n";
    }

    private static Trace trace(String rules, Packet packet) {
        try {
            return IptablesServiceRuleset.fromText("test", "test", rules, LOCAL).trace(packet);
        } catch (dev.railyard.proxy.inspect.RulesetInputException e) {
            throw new AssertionError(e);
        }
    }
}
