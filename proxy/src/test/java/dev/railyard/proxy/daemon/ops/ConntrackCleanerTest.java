package dev.railyard.proxy.daemon.ops;

import static dev.railyard.proxy.daemon.ops.TestSupport.udpResult;
import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;
import dev.railyard.proxy.sync.StaleUdpEndpoint;
import dev.railyard.proxy.sync.SyncResult;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.RequiresPrivileges;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Real conntrack entries, inserted with {@code conntrack -I} into a fresh namespace's own table. */
@RequiresPrivileges(commands = {"conntrack", "ip"})
class ConntrackCleanerTest {
    private static final ServicePortName DNS = ServicePortName.of("kube-system", "dns", "dns", Protocol.UDP);
    private static final ServicePortName METRICS = ServicePortName.of("kube-system", "dns", "metrics", Protocol.UDP);
    private static final ServicePortName SYSLOG = ServicePortName.of("infra", "syslog", "", Protocol.UDP);
    private static final ServicePort DNS_PORT = ServicePort.builder(DNS, "10.96.0.10", 53).nodePort(30053)
            .externalIps(List.of("192.0.2.10")).build();
    private static final ServicePort METRICS_PORT = ServicePort.builder(METRICS, "10.96.0.10", 9153).build();
    private static final ServicePort SYSLOG_PORT = ServicePort.builder(SYSLOG, "10.96.0.20", 514).build();
    private static final String OLD_POD = "10.244.1.7";
    private static final String NEW_POD = "10.244.1.8";

    private NetworkNamespace ns;
    private ConntrackCleaner cleaner;

    @BeforeEach
    void setUp() {
        ns = NetworkNamespace.create();
        cleaner = new ConntrackCleaner(ns.commandPrefix(), Duration.ofSeconds(10));
    }

    @AfterEach
    void tearDown() {
        ns.close();
    }

    @Test
    void goneEndpointLosesItsFlowsToEveryFrontendAndNothingElse() {
        insert("10.0.0.5", 40000, "10.96.0.10", 53, OLD_POD, 5353);   // cluster IP -> gone pod: stale
        insert("10.0.0.5", 40001, "192.0.2.10", 53, OLD_POD, 5353);   // external IP -> gone pod: stale
        insert("10.0.0.5", 40002, "172.18.0.2", 30053, OLD_POD, 5353); // node port -> gone pod: stale
        insert("10.0.0.5", 40003, "10.96.0.10", 53, NEW_POD, 5353);   // same service, serving pod: keep
        insert("10.0.0.5", 40004, "10.96.0.10", 9153, OLD_POD, 9153); // other port, pod still serves it: keep
        insert("10.0.0.5", 40005, "10.96.0.20", 514, "10.244.3.3", 514); // unrelated service: keep
        ProxyState state = state(Map.of(DNS, List.of(endpoint(DNS, NEW_POD, 5353)),
                METRICS, List.of(endpoint(METRICS, OLD_POD, 9153))));
        SyncResult sync = udpResult(IpFamily.V4, List.of(new StaleUdpEndpoint(DNS, endpoint(DNS, OLD_POD, 5353))),
                Set.of());

        ConntrackCleaner.Report report = cleaner.clean(sync, state);

        assertThat(report.errors()).isEmpty();
        assertThat(report.deletedEntries()).isEqualTo(3);
        assertThat(flows()).containsExactlyInAnyOrder("10.96.0.10:53>" + NEW_POD, "10.96.0.10:9153>" + OLD_POD,
                "10.96.0.20:514>10.244.3.3");
    }

    @Test
    void firstEndpointFlushesTheFlowsThatWereRejected() {
        // While the service had no endpoint, the flow was answered by REJECT and stayed un-NATed.
        insert("10.0.0.5", 40000, "10.96.0.20", 514, "10.96.0.20", 514);
        insert("10.0.0.6", 40000, "10.96.0.20", 515, "10.96.0.20", 515); // another port of that IP: keep
        insert("10.0.0.5", 40001, "10.96.0.10", 53, OLD_POD, 5353);     // another service: keep
        ProxyState state = state(Map.of(SYSLOG, List.of(endpoint(SYSLOG, NEW_POD, 514))));

        ConntrackCleaner.Report report = cleaner.clean(udpResult(IpFamily.V4, List.of(), Set.of(SYSLOG)), state);

        assertThat(report.errors()).isEmpty();
        assertThat(report.deletedEntries()).isEqualTo(1);
        assertThat(flows()).containsExactlyInAnyOrder("10.96.0.20:515>10.96.0.20", "10.96.0.10:53>" + OLD_POD);
    }

    @Test
    void endpointsOfADeletedServiceAreCleanedWithItsLastKnownFrontends() {
        ProxyState before = state(Map.of(SYSLOG, List.of(endpoint(SYSLOG, OLD_POD, 514))));
        cleaner.clean(udpResult(IpFamily.V4, List.of(), Set.of()), before);
        insert("10.0.0.5", 40000, "10.96.0.20", 514, OLD_POD, 514);
        ProxyState after = ProxyState.of(IpFamily.V4, List.of(DNS_PORT), Map.of());

        ConntrackCleaner.Report report = cleaner.clean(udpResult(IpFamily.V4,
                List.of(new StaleUdpEndpoint(SYSLOG, endpoint(SYSLOG, OLD_POD, 514))), Set.of()), after);

        assertThat(report.errors()).isEmpty();
        assertThat(report.deletedEntries()).isEqualTo(1);
        assertThat(flows()).isEmpty();
    }

    @Test
    void nothingToDeleteIsNotAnError() {
        ProxyState state = state(Map.of());

        ConntrackCleaner.Report report = cleaner.clean(udpResult(IpFamily.V4,
                List.of(new StaleUdpEndpoint(DNS, endpoint(DNS, OLD_POD, 5353))), Set.of(SYSLOG)), state);

        assertThat(report.commands()).isEqualTo(4); // cluster IP, external IP, node port; syslog's cluster IP
        assertThat(report.errors()).isEmpty();
        assertThat(report.deletedEntries()).isZero();
    }

    @Test
    void aFailingConntrackIsReportedNotThrown() {
        ConntrackCleaner broken = new ConntrackCleaner(List.of("ip", "netns", "exec", "ry-does-not-exist"),
                Duration.ofSeconds(10));

        ConntrackCleaner.Report report = broken.clean(udpResult(IpFamily.V4, List.of(), Set.of(SYSLOG)),
                state(Map.of()));

        assertThat(report.errors()).hasSize(1);
        assertThat(report.errors().get(0)).contains("ry-does-not-exist");
    }

    @Test
    void ipv6CommandsNameTheFamily() {
        ServicePortName v6 = ServicePortName.of("ns", "dns6", "", Protocol.UDP);
        ServicePort port = ServicePort.builder(v6, "fd00:96::a", 53).build();
        SyncResult sync = udpResult(IpFamily.V6,
                List.of(new StaleUdpEndpoint(v6, Endpoint.builder(v6, "fd00:244::7", 53).build())), Set.of());

        assertThat(ConntrackCleaner.commands(sync, Map.of(v6, port))).containsExactly(List.of("conntrack", "-D",
                "-f", "ipv6", "-p", "udp", "--orig-dst", "fd00:96::a", "--orig-port-dst", "53",
                "--reply-src", "fd00:244::7"));
    }

    @Test
    void failedSyncsCleanNothing() {
        SyncResult failed = new SyncResult(IpFamily.V4, SyncResult.Kind.FULL, TestSupport.T0, "boom", Duration.ZERO,
                Duration.ZERO, 0, 0, 0, 0, 0, 0, 0, 0, 0, Set.of(), List.of(), Set.of(), Map.of(), null);

        assertThat(cleaner.clean(failed, state(Map.of())).commands()).isZero();
    }

    @Test
    void inTheBackgroundEverySubmittedSyncOfTheFamilyIsCleanedAfter() throws Exception {
        insert("10.0.0.5", 40000, "10.96.0.20", 514, "10.96.0.20", 514); // rejected while syslog had no endpoint
        insert("10.0.0.5", 40001, "10.96.0.10", 53, OLD_POD, 5353);     // to a DNS pod that goes away
        insert("10.0.0.5", 40002, "10.96.0.10", 53, NEW_POD, 5353);     // to the one that stays
        ProxyState first = state(Map.of(SYSLOG, List.of(endpoint(SYSLOG, NEW_POD, 514)),
                DNS, List.of(endpoint(DNS, OLD_POD, 5353), endpoint(DNS, NEW_POD, 5353))));
        ProxyState second = state(Map.of(SYSLOG, List.of(endpoint(SYSLOG, NEW_POD, 514)),
                DNS, List.of(endpoint(DNS, NEW_POD, 5353))));

        try (BackgroundConntrackCleanup background = new BackgroundConntrackCleanup(IpFamily.V4, cleaner)) {
            background.submit(udpResult(IpFamily.V4, List.of(), Set.of(SYSLOG), first));
            background.submit(udpResult(IpFamily.V4,
                    List.of(new StaleUdpEndpoint(DNS, endpoint(DNS, OLD_POD, 5353))), Set.of(), second));
            background.submit(udpResult(IpFamily.V6, List.of(), Set.of(SYSLOG), second)); // another family's

            ConntrackCleaner.Report last = background.awaitIdle(30_000);

            assertThat(last).isNotNull();
            assertThat(last.errors()).isEmpty();
        }
        assertThat(flows()).containsExactly("10.96.0.10:53>" + NEW_POD);
    }

    private static ProxyState state(Map<ServicePortName, List<Endpoint>> endpoints) {
        return ProxyState.of(IpFamily.V4, List.of(DNS_PORT, METRICS_PORT, SYSLOG_PORT), endpoints);
    }

    private static Endpoint endpoint(ServicePortName port, String ip, int portNumber) {
        return Endpoint.builder(port, ip, portNumber).build();
    }

    /** A UDP flow client → frontend, DNATed to (or, when the reply source is the frontend, not NATed to) a backend. */
    private void insert(String client, int clientPort, String frontend, int frontendPort, String backend,
                        int backendPort) {
        ns.execChecked("conntrack", "-I", "-p", "udp", "-s", client, "-d", frontend, "--sport",
                Integer.toString(clientPort), "--dport", Integer.toString(frontendPort), "-r", backend, "-q", client,
                "--reply-port-src", Integer.toString(backendPort), "--reply-port-dst", Integer.toString(clientPort),
                "-t", "300");
    }

    /** The namespace's UDP flows as "frontend:port>replySource". */
    private List<String> flows() {
        String out = ns.execChecked("conntrack", "-L", "-p", "udp").stdout();
        return out.lines().filter(line -> line.startsWith("udp")).map(line -> {
            String[] f = line.split("\\s+");
            String dst = null;
            String dport = null;
            String replySrc = null;
            for (String field : f) {
                if (field.startsWith("dst=") && dst == null) {
                    dst = field.substring(4);
                } else if (field.startsWith("dport=") && dport == null) {
                    dport = field.substring(6);
                } else if (field.startsWith("src=") && dst != null && replySrc == null) {
                    replySrc = field.substring(4);
                }
            }
            return dst + ":" + dport + ">" + replySrc;
        }).toList();
    }
}
