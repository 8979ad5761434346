package dev.railyard.proxy.inspect;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

/**
 * What the iptables and nftables vector diff tests ask of a {@link RulesetDiff} report, and how they break a
 * vector: both modes must show the same kinds of difference in the same way, so they check them with the same code.
 */
public final class DiffReports {

    private DiffReports() {
    }

    /** The comparison of the frontend described as {@code describe} ("172.30.0.44:80/tcp"); fails if missing. */
    public static RulesetDiff.FrontendComparison frontend(RulesetDiff.Report report, String describe) {
        return report.frontends().stream().filter(f -> f.frontend().describe().equals(describe)).findFirst()
                .orElseThrow(() -> new AssertionError("no frontend " + describe + " in " + report.frontends()));
    }

    /** The first difference in {@code aspect} on a frontend; fails if there is none. */
    public static RulesetDiff.Difference difference(RulesetDiff.Report report, String describe, String aspect) {
        return frontend(report, describe).differences().stream().filter(d -> d.aspect().equals(aspect)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + aspect + " difference on " + describe));
    }

    /** The frontends that differ, as described. */
    public static List<String> frontendsDiffering(RulesetDiff.Report report) {
        return report.differing().stream().map(f -> f.frontend().describe()).toList();
    }

    /** The service ports ("ns4/svc4:p80") whose frontends differ, each once. */
    public static List<String> names(RulesetDiff.Report report) {
        return report.differing().stream().map(f -> f.frontend().name()).distinct().toList();
    }

    /** Both rulesets serve the same frontends, mean the same on each, and every rule could be evaluated. */
    public static void assertSameMeaning(RulesetDiff.Report report) {
        assertThat(report.frontends()).as("frontends").isNotEmpty();
        assertThat(report.frontends()).allSatisfy(f -> assertThat(f.inA() && f.inB()).as(f.toString()).isTrue());
        assertThat(report.differing()).as("differences").isEmpty();
        assertThat(report.notes()).as("notes").noneMatch(n -> n.contains("cannot be evaluated"));
    }

    /**
     * Only ns4/svc4's frontends differ, and the first difference on its cluster IP is where the packets go:
     * {@code a} against B's {@code b}.
     */
    public static void assertSvc4EndpointsDiffer(RulesetDiff.Report report, String a, String b) {
        assertThat(names(report)).containsOnly("ns4/svc4:p80");
        RulesetDiff.Difference difference = frontend(report, "172.30.0.44:80/tcp").differences().get(0);
        assertThat(difference.aspect()).isEqualTo("endpoints");
        assertThat(difference.a()).isEqualTo(a);
        assertThat(difference.b()).isEqualTo(b);
    }

    /**
     * ns4/svc4 lost its endpoint 10.180.0.5 in A: only its frontends differ; on its cluster IP half the packets go
     * to the other endpoint and the other half get {@code verdicts} ("DNAT 0.5, ACCEPT 0.5").
     */
    public static void assertSvc4LostAnEndpoint(RulesetDiff.Report report, String verdicts) {
        assertThat(names(report)).containsOnly("ns4/svc4:p80");
        assertThat(difference(report, "172.30.0.44:80/tcp", "endpoints").a()).isEqualTo("{10.180.0.4:80 0.5}");
        assertThat(difference(report, "172.30.0.44:80/tcp", "verdict").a()).isEqualTo(verdicts);
    }

    /**
     * ns4/svc4's cluster IP lost its masquerade mark in A: only that frontend differs (its external IP marks on
     * its own way), only in masquerade, and only for clients outside the pod network and the node itself.
     */
    public static void assertMasqueradeLostOnSvc4ClusterIp(RulesetDiff.Report report) {
        assertThat(frontendsDiffering(report)).containsExactly("172.30.0.44:80/tcp");
        List<RulesetDiff.Difference> differences = frontend(report, "172.30.0.44:80/tcp").differences();
        assertThat(differences).extracting(RulesetDiff.Difference::aspect).containsOnly("masquerade");
        assertThat(differences).extracting(RulesetDiff.Difference::probe)
                .anyMatch(p -> p.startsWith("from 203.0.113.200"))
                .anyMatch(p -> p.startsWith("from the node"))
                .noneMatch(p -> p.contains("(a pod)") || p.contains("in 10.0.0.0/8"));
        assertThat(differences.get(0).a()).isEqualTo("10.180.0.4:80 no, 10.180.0.5:80 no");
        assertThat(differences.get(0).b()).isEqualTo("10.180.0.4:80 yes, 10.180.0.5:80 yes");
    }

    /**
     * ns5/svc5's load balancer lost the drop for clients outside its source range in A: only it differs, and a
     * client outside every range now gets {@code a} instead of B's drop.
     */
    public static void assertSourceRangeDropLostOnSvc5(RulesetDiff.Report report, String a) {
        assertThat(frontendsDiffering(report)).containsExactly("5.6.7.8:80/tcp");
        assertThat(frontend(report, "5.6.7.8:80/tcp").differences()).anySatisfy(d -> {
            assertThat(d.probe()).startsWith("from 203.0.113.200 (outside every source range)");
            assertThat(d.aspect()).isEqualTo("verdict");
            assertThat(d.a()).isEqualTo(a);
            assertThat(d.b()).isEqualTo("DROP");
        });
    }

    /** {@code text} with its one occurrence of {@code target} replaced; fails unless it occurs exactly once. */
    public static String replaceOnce(String text, String target, String replacement) {
        int at = text.indexOf(target);
        assertThat(at).as("the vector contains %s", target).isNotNegative();
        assertThat(text.indexOf(target, at + 1)).as("%s occurs once", target).isNegative();
        return text.substring(0, at) + replacement + text.substring(at + target.length());
    }
}
