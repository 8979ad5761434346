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
