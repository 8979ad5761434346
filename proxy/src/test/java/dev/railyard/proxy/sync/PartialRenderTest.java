package dev.railyard.proxy.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.render.IptablesRenderer;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** What a partial render writes, skips and deletes, compared with full renders of the same state. */
class PartialRenderTest {
    private final IptablesRenderer renderer = new IptablesRenderer(States.config());

    @Test
    void partialRenderAfterOneEndpointChangeWritesThatServiceAndTheDispatchChainsOnly() {
        ProxyState before = States.sample().state();
        ProxyState after = States.sample().endpoint("web", Protocol.TCP, "10.244.3.5", 8080, "node-c").state();
        renderer.render(before, List.of());
        Set<String> activeBefore = renderer.activeNatChains();
        String fullAfter = renderer.render(after, activeBefore).toString();
        int fullNatRules = renderer.natRuleCount();
        int fullNatChains = renderer.natChainCount();

        String partial = renderer.renderPartial(after, Set.of("default/web"), activeBefore).toString();

        String web = States.name("web", Protocol.TCP).hash();
        String db = States.name("db", Protocol.TCP).hash();
        String lb = States.name("lb", Protocol.TCP).hash();
        assertThat(partial).contains(":KUBE-SVC-" + web + " ", ":KUBE-EXT-" + web + " ", "-A KUBE-SVC-" + web + " ")
                .contains("--to-destination 10.244.3.5:8080", "--to-destination 10.244.1.5:8080");
        // Every service's dispatch rules are still there: KUBE-SERVICES and KUBE-NODEPORTS are rewritten whole.
        assertThat(partial).contains("\"default/db cluster IP\"", "\"default/lb loadbalancer IP\"",
                "-A KUBE-NODEPORTS -m comment --comment default/lb", "\"default/empty has no endpoints\"",
                "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports;");
        assertThat(partial).doesNotContain(":KUBE-SVC-" + db, "-A KUBE-SVC-" + db, ":KUBE-FW-" + lb,
                ":KUBE-SVL-" + lb, "--to-destination 10.244.2.7:5432", "--to-destination 10.244.1.53:53");
        assertThat(renderer.natRuleCount() + renderer.skippedNatRuleCount()).isEqualTo(fullNatRules);
        assertThat(renderer.natChainCount() + renderer.skippedNatChainCount()).isEqualTo(fullNatChains);
        assertThat(renderer.skippedNatRuleCount()).isPositive();
        assertThat(renderer.deletedChainCount()).isZero();
        // Skipped chains are still in use: a later render must not delete them.
        assertThat(renderer.activeNatChains()).contains("KUBE-SVC-" + db, "KUBE-FW-" + lb)
                .hasSameSizeAs(chainsDeclaredIn(fullAfter));
    }

    @Test
    void partialRenderWithEveryServiceChangedIsTheFullRender() {
        ProxyState before = States.sample().state();
        ProxyState after = States.sample().remove("gone", Protocol.TCP)
                .withoutEndpoint("web", Protocol.TCP, "10.244.2.5")
                .endpoint("empty", Protocol.TCP, "10.244.1.14", 80, States.NODE).state();
        renderer.render(before, List.of());
        Set<String> existing = renderer.activeNatChains();
        Set<String> everyService = after.entries().stream().map(e -> e.service().name().serviceKey())
                .collect(Collectors.toSet());

        byte[] full = renderer.render(after, existing).toByteArray();
        int deleted = renderer.deletedChainCount();
        Set<String> fullActive = renderer.activeNatChains();
        byte[] partial = renderer.renderPartial(after, everyService, existing).toByteArray();

        assertThat(new String(partial)).isEqualTo(new String(full));
        assertThat(renderer.skippedNatRuleCount()).isZero();
        assertThat(renderer.activeNatChains()).isEqualTo(fullActive);
        assertThat(deleted).as("chains of the removed service and endpoint").isEqualTo(3);
    }

    @Test
    void removedServiceChainsAreDeletedEvenWhenNoServiceIsRewritten() {
        ProxyState before = States.sample().state();
        ProxyState after = States.sample().remove("gone", Protocol.TCP).state();
        renderer.render(before, List.of());
        Set<String> existing = renderer.activeNatChains();

        String partial = renderer.renderPartial(after, Set.of("default/gone"), existing).toString();

        String gone = States.name("gone", Protocol.TCP).hash();
        assertThat(partial).contains(":KUBE-SVC-" + gone + " - [0:0]", "-X KUBE-SVC-" + gone)
                .doesNotContain("default/gone cluster IP");
        assertThat(renderer.deletedChainCount()).isEqualTo(2); // its SVC and SEP chains
        assertThat(renderer.activeNatChains()).doesNotContain("KUBE-SVC-" + gone);
    }

    @Test
    void afterAnAppliedRenderAReplacedEndpointWritesOnlyItsServicesChains() {
        ProxyState before = States.sample().state();
        ProxyState after = States.sample().withoutEndpoint("web", Protocol.TCP, "10.244.2.5")
                .endpoint("web", Protocol.TCP, "10.244.3.5", 8080, "node-c").state();
        String fullAfter = new IptablesRenderer(States.config()).render(after, List.of()).toString();
        IptablesRenderer reference = new IptablesRenderer(States.config());
        reference.render(after, List.of());
        renderer.render(before, List.of());
        // Passing back the very set the renderer handed out says: that render is what the kernel has.
        Set<String> applied = renderer.activeNatChains();

        String partial = renderer.renderPartial(after, Set.of("default/web"), applied).toString();

        String web = States.name("web", Protocol.TCP).hash();
        String goneEndpoint = States.name("web", Protocol.TCP).endpointHash("10.244.2.5:8080");
        assertThat(partial).startsWith("*nat\n").contains(":KUBE-SVC-" + web + " ", "-A KUBE-SVC-" + web + " ",
                "--to-destination 10.244.3.5:8080", "-X KUBE-SEP-" + goneEndpoint);
        // Its dispatch rules did not change, so no top-level chain (and nothing of the filter table) is written.
        assertThat(partial).doesNotContain("*filter", ":KUBE-SERVICES", "-A KUBE-SERVICES", "-A KUBE-NODEPORTS",
                ":KUBE-POSTROUTING", "default/db");
        assertThat(renderer.natRuleCount() + renderer.skippedNatRuleCount())
                .isEqualTo(reference.natRuleCount() + renderer.deletedChainCount());
        assertThat(renderer.natChainCount() + renderer.skippedNatChainCount())
                .isEqualTo(reference.natChainCount() + renderer.deletedChainCount());
        assertThat(renderer.filterRuleCount()).isZero();
        assertThat(renderer.skippedFilterRuleCount()).as("the filter rules left in the kernel")
                .isPositive().isEqualTo(reference.filterRuleCount());
        assertThat(renderer.activeNatChains()).isEqualTo(chainsDeclaredIn(fullAfter));
    }

    @Test
    void afterAnAppliedRenderChangedDispatchRulesRewriteTheTopLevelChains() {
        ProxyState before = States.sample().state();
        ProxyState after = States.sample().endpoint("empty", Protocol.TCP, "10.244.1.14", 80, States.NODE).state();
        byte[] full = new IptablesRenderer(States.config()).render(after, List.of()).toByteArray();
        renderer.render(before, List.of());

        String partial = renderer.renderPartial(after, Set.of("default/empty"), renderer.activeNatChains())
                .toString();

        String db = States.name("db", Protocol.TCP).hash();
        assertThat(partial).startsWith("*filter\n").contains("\"default/empty cluster IP\"",
                "\"default/db cluster IP\"", "-A KUBE-NODEPORTS").doesNotContain("\"default/empty has no endpoints\"",
                ":KUBE-SVC-" + db);
        // Unchanged services' lines are copied from the previous render: the same bytes a full render writes.
        String dispatch = new String(full).lines().filter(l -> l.startsWith("-A KUBE-SERVICES")
                || l.startsWith("-A KUBE-NODEPORTS")).collect(Collectors.joining("\n"));
        assertThat(partial.lines().filter(l -> l.startsWith("-A KUBE-SERVICES") || l.startsWith("-A KUBE-NODEPORTS"))
                .collect(Collectors.joining("\n"))).isEqualTo(dispatch);
    }

    @Test
    void aChangeTheCallerDidNotAnnounceIsWrittenAnyway() {
        ProxyState before = States.sample().state();
        ProxyState after = States.sample().endpoint("web", Protocol.TCP, "10.244.3.5", 8080, "node-c").state();
        renderer.render(before, List.of());

        String partial = renderer.renderPartial(after, Set.of(), renderer.activeNatChains()).toString();

        assertThat(partial).contains("--to-destination 10.244.3.5:8080");
    }

    @Test
    void consecutivePartialRendersKeepTrackOfTheChainsInUse() {
        States states = States.sample();
        renderer.render(states.state(), List.of());
        for (int i = 1; i <= 5; i++) {
            states = states.copy().endpoint("web", Protocol.TCP, "10.244.3." + i, 8080, "node-c");
            if (i > 1) {
                states = states.withoutEndpoint("web", Protocol.TCP, "10.244.3." + (i - 1));
            }
            renderer.renderPartial(states.state(), Set.of("default/web"), renderer.activeNatChains());
            String full = new IptablesRenderer(States.config()).render(states.state(), List.of()).toString();
            assertThat(renderer.activeNatChains()).as("after change " + i).isEqualTo(chainsDeclaredIn(full));
        }
    }

    @Test
    void plainRenderTracksNoChains() {
        renderer.render(States.sample().state());

        assertThat(renderer.activeNatChains()).isEmpty();
    }

    private static Set<String> chainsDeclaredIn(String rules) {
        String nat = rules.substring(rules.indexOf("*nat"));
        return nat.lines().filter(l -> l.startsWith(":KUBE-SVC-") || l.startsWith(":KUBE-SVL-")
                        || l.startsWith(":KUBE-EXT-") || l.startsWith(":KUBE-FW-") || l.startsWith(":KUBE-SEP-"))
                .map(l -> l.substring(1, l.indexOf(' '))).collect(Collectors.toSet());
    }
}
