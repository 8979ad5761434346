package dev.railyard.proxy.render.nftables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class UnchangedRunsTest {
    @Test
    void changedServicesAreTakenInThePortsOrderNotTheirKeysText() {
        // Ports sort by namespace, then name: app/* before app-2/*. As text, "app-2/x" sorts before "app/y".
        ProxyState state = state("app/a", "app/y", "app/z", "app-2/b", "app-2/x", "app-2/z");
        ServicePortRules[] before = rulesOf(state);

        List<UnchangedRuns.Run> runs = UnchangedRuns.between(state.entries(), before, Set.of("app-2/x", "app/y"));

        assertThat(runs).as("the runs line up, no port-by-port merge").isNotNull();
        assertThat(runs).extracting(UnchangedRuns.Run::entryStart, UnchangedRuns.Run::length)
                .containsExactly(tuple(0, 1), tuple(2, 2), tuple(5, 1));
    }

    @Test
    void runsThatDoNotLineUpAreRefused() {
        ProxyState before = state("ns/a", "ns/b", "ns/c");
        ProxyState after = state("ns/a", "ns/b", "ns/b2", "ns/c"); // ns/b2 is new but not reported

        assertThat(UnchangedRuns.between(after.entries(), rulesOf(before), Set.of("ns/a"))).isNull();
    }

    private static ProxyState state(String... services) {
        List<ServicePort> ports = new ArrayList<>();
        int i = 0;
        for (String service : services) {
            String[] parts = service.split("/");
            ports.add(ServicePort.builder(ServicePortName.of(parts[0], parts[1], "http", Protocol.TCP),
                    "10.96.0." + ++i, 80).build());
        }
        return ProxyState.of(IpFamily.V4, ports, Map.of());
    }

    private static ServicePortRules[] rulesOf(ProxyState state) {
        return state.entries().stream().map(entry -> new ServicePortRules(entry.service().name(), List.of(),
                List.of(), List.of(), entry)).toArray(ServicePortRules[]::new);
    }
}
