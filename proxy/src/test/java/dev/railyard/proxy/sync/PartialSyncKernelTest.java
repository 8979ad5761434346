package dev.railyard.proxy.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.apply.IptablesRestore;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.render.IptablesRenderer;
import dev.railyard.proxy.render.LineBuffer;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.RequiresPrivileges;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The correctness proof of partial syncs: a sequence of partial restores on top of a full one leaves the kernel
 * with exactly the ruleset a full restore of the final state gives in a fresh namespace, step after step,
 * through added and removed endpoints, services appearing and disappearing, and policy outcomes flipping.
 */
@RequiresPrivileges(commands = {"iptables-restore", "iptables-save", "ip"})
class PartialSyncKernelTest {

    private record Step(String description, States cluster, Set<String> changed) {
    }

    @Test
    void partialRestoresOnTopOfAFullOneMatchAFullRestoreOfTheSameState() throws Exception {
        States s0 = States.sample();
        States s1 = s0.copy().endpoint("web", Protocol.TCP, "10.244.3.5", 8080, "node-c");
        States s2 = s1.copy().remove("gone", Protocol.TCP).endpoint("empty", Protocol.TCP, "10.244.1.14", 80,
                States.NODE);
        States s3 = s2.copy().clusterIp("fresh", Protocol.TCP, "10.96.0.15", 80)
                .endpoint("fresh", Protocol.TCP, "10.244.2.15", 80, "node-b")
                .withoutEndpoint("lb", Protocol.TCP, "10.244.1.9"); // lb has no local endpoint any more
        States s4 = s3.copy().withoutEndpoint("dns", Protocol.UDP, "10.244.1.53")
                .withoutEndpoint("dns", Protocol.UDP, "10.244.2.53")
                .add(ServicePort.builder(States.name("db", Protocol.TCP), "10.96.0.11", 5432).nodePort(30432)
                        .build());
        States s5 = s4.copy().withoutEndpoint("web", Protocol.TCP, "10.244.3.5")
                .endpoint("web", Protocol.TCP, "10.244.3.6", 8080, "node-c"); // a replaced pod: top level unchanged
        List<Step> steps = List.of(
                new Step("an endpoint added to web", s1, Set.of("default/web")),
                new Step("gone deleted, empty got an endpoint", s2, Set.of("default/gone", "default/empty")),
                new Step("fresh added, lb lost its local endpoint", s3, Set.of("default/fresh", "default/lb")),
                new Step("dns lost every endpoint, db became a NodePort", s4, Set.of("default/dns", "default/db")),
                new Step("a web pod replaced", s5, Set.of("default/web")));

        IptablesRenderer renderer = new IptablesRenderer(States.config());
        try (NetworkNamespace node = NetworkNamespace.create()) {
            IptablesRestore restore = IptablesRestore.of(IpFamily.V4).withCommandPrefix(node.commandPrefix());
            restore(restore, renderer.render(s0.state(), List.of()));
            Set<String> active = renderer.activeNatChains();
            assertThat(SavedRuleset.of(node)).isEqualTo(fullRestoreInFreshNamespace(s0.state()));

            for (Step step : steps) {
                LineBuffer partial = renderer.renderPartial(step.cluster().state(), step.changed(), active);
                assertThat(renderer.skippedNatRuleCount()).as(step.description()).isPositive();
                restore(restore, partial);
                active = renderer.activeNatChains();

                assertThat(SavedRuleset.of(node)).as("kernel after partial restore: " + step.description())
                        .isEqualTo(fullRestoreInFreshNamespace(step.cluster().state()));
            }
        }
    }

    private static String fullRestoreInFreshNamespace(ProxyState state) throws Exception {
        try (NetworkNamespace reference = NetworkNamespace.create()) {
            IptablesRestore restore = IptablesRestore.of(IpFamily.V4).withCommandPrefix(reference.commandPrefix());
            restore(restore, new IptablesRenderer(States.config()).render(state));
            return SavedRuleset.of(reference);
        }
    }

    private static void restore(IptablesRestore restore, LineBuffer rules) throws Exception {
        restore.restore(rules::writeTo);
    }
}
