package dev.railyard.proxy.conntrack;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which flows the reconciler calls stale, from {@code conntrack -L} text, as kube-proxy's CleanStaleEntries. */
class ConntrackReconcilerTest {
    private static final ServicePortName UDP = ServicePortName.of("ns", "dns", "dns", Protocol.UDP);
    private static final ServicePortName TCP = ServicePortName.of("ns", "web", "http", Protocol.TCP);

    private static final String LISTING = """
            udp      17 25 src=10.244.1.5 dst=10.96.0.10 sport=40000 dport=53 src=10.244.2.7 dst=10.244.1.5 sport=53 dport=40000 [ASSURED] mark=0 use=1
            udp      17 25 src=10.244.1.5 dst=10.96.0.10 sport=40001 dport=53 src=10.244.3.9 dst=10.244.1.5 sport=53 dport=40001 mark=0 use=1
            udp      17 25 src=192.0.2.9 dst=198.51.100.10 sport=40002 dport=53 [UNREPLIED] src=10.244.9.9 dst=192.0.2.9 sport=53 dport=40002 mark=0 use=1
            udp      17 25 src=192.0.2.9 dst=192.0.2.1 sport=40003 dport=30053 src=10.244.9.9 dst=192.0.2.1 sport=53 dport=40003 mark=0 use=1
            udp      17 25 src=192.0.2.9 dst=10.96.0.99 sport=40004 dport=53 src=10.244.9.9 dst=192.0.2.9 sport=53 dport=40004 mark=0 use=1
            tcp      6 431999 ESTABLISHED src=10.244.1.5 dst=10.96.0.20 sport=40005 dport=80 src=10.244.9.9 dst=10.244.1.5 sport=80 dport=40005 [ASSURED] mark=0 use=1
            conntrack v1.4.7 (conntrack-tools): 6 flow entries have been shown.
            """;

    @Test
    void flowsWhoseReplySourceIsNotAServingEndpointOfAUdpFrontendAreStale() {
        ServicePort dns = ServicePort.builder(UDP, "10.96.0.10", 53).nodePort(30053)
                .externalIps(List.of("198.51.100.10")).build();
        ServicePort web = ServicePort.builder(TCP, "10.96.0.20", 80).build();
        ProxyState state = ProxyState.of(IpFamily.V4, List.of(dns, web), Map.of(
                UDP, List.of(Endpoint.builder(UDP, "10.244.2.7", 53).build(),
                        Endpoint.builder(UDP, "10.244.4.4", 53).ready(false).serving(true).terminating(true).build()),
                TCP, List.of()));
        List<ConntrackReconciler.Flow> flows = ConntrackReconciler.Flow.parseAll(LISTING);
        assertThat(flows).as("the TCP flow and the summary are not UDP flows").hasSize(5);

        assertThat(ConntrackReconciler.staleFilters(state, flows)).containsExactly(
                List.of("--orig-dst", "10.96.0.10", "--orig-port-dst", "53", "--reply-src", "10.244.3.9"),
                List.of("--orig-dst", "198.51.100.10", "--orig-port-dst", "53", "--reply-src", "10.244.9.9"),
                List.of("--orig-port-dst", "30053", "--reply-src", "10.244.9.9"));
    }

    @Test
    void aUdpServiceWithoutServingEndpointsHasEveryFlowStale() {
        ServicePort dns = ServicePort.builder(UDP, "10.96.0.10", 53).build();
        ProxyState state = ProxyState.of(IpFamily.V4, List.of(dns), Map.of(UDP,
                List.of(Endpoint.builder(UDP, "10.244.2.7", 53).ready(false).serving(false).build())));
        assertThat(ConntrackReconciler.staleFilters(state, ConntrackReconciler.Flow.parseAll(LISTING))).containsExactly(
                List.of("--orig-dst", "10.96.0.10", "--orig-port-dst", "53", "--reply-src", "10.244.2.7"),
                List.of("--orig-dst", "10.96.0.10", "--orig-port-dst", "53", "--reply-src", "10.244.3.9"));
    }

    @Test
    void aMissingConntrackToolIsReportedNotThrown() throws Exception {
        ConntrackReconciler reconciler = new ConntrackReconciler(IpFamily.V4, List.of("/nonexistent/prefix"),
                Duration.ofSeconds(5));
        ConntrackReconciler.Report report = reconciler.reconcile(ProxyState.empty(IpFamily.V4));
        assertThat(report.errors()).hasSize(1);
        assertThat(report.deletedEntries()).isZero();
    }
}
