package dev.railyard.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Two namespaces joined by a veth pair, an agent in each: the kit's core promise. */
@RequiresPrivileges(commands = "iptables")
class TwoNamespaceTrafficTest {

    private static final Duration PROBE = Duration.ofSeconds(3);

    private static NetworkNamespace serverNs;
    private static NetworkNamespace clientNs;
    private static VethLink link;
    private static AgentHandle server;
    private static AgentHandle client;

    @BeforeAll
    static void setUp() {
        serverNs = NetworkNamespace.create();
        clientNs = NetworkNamespace.create();
        link = VethLink.between(serverNs, clientNs)
                .names("eth-srv", "eth-cli")
                .ipv4("10.77.0.1/24", "10.77.0.2/24")
                .ipv6("fd77::1/64", "fd77::2/64")
                .create();
        server = serverNs.startAgent();
        client = clientNs.startAgent();
    }

    @AfterAll
    static void tearDown() {
        // Namespaces kill their agents; closing in reverse order of creation.
        if (clientNs != null) {
            clientNs.close();
        }
        if (serverNs != null) {
            serverNs.close();
        }
    }

    @Test
    void linkEndsHaveTheRequestedNamesAndAddresses() {
        assertThat(link.a().ipv4()).isEqualTo("10.77.0.1");
        assertThat(link.b().ipv6()).isEqualTo("fd77::2");
        assertThat(serverNs.execChecked("ip", "-o", "addr", "show", "dev", "eth-srv").stdout())
                .contains("10.77.0.1/24").contains("fd77::1/64");
        assertThat(clientNs.execChecked("ip", "-o", "link", "show", "eth-cli").stdout()).contains("state UP");
    }

    @Test
    void tcpServerSeesTheClientsAddress() {
        int port = server.tcpServe(8080, "web");

        ProbeResult result = client.tcpGet("10.77.0.1", port, PROBE);

        assertThat(result.outcome()).as(result.toString()).isEqualTo(ProbeResult.Outcome.OK);
        assertThat(result.serverReply().serverName()).isEqualTo("web");
        assertThat(result.serverReply().clientIp()).isEqualTo("10.77.0.2");
        assertThat(result.serverReply().clientPort()).isBetween(1024, 65535);
    }

    @Test
    void tcpOverIpv6() {
        int port = server.tcpServe(8086, "web6");

        ProbeResult result = client.tcpGet("fd77::1", port, PROBE);

        assertThat(result.serverReply()).satisfies(reply -> {
            assertThat(reply.serverName()).isEqualTo("web6");
            assertThat(reply.clientIp()).isEqualTo("fd77::2");
        });
    }

    @Test
    void udpServerRepliesWithTheSourceItSaw() {
        int port = server.udpServe(5353, "dns");

        ServerReply v4 = client.udpGet("10.77.0.1", port, PROBE).serverReply();
        assertThat(v4.serverName()).isEqualTo("dns");
        assertThat(v4.clientIp()).isEqualTo("10.77.0.2");
        assertThat(client.udpGet("fd77::1", port, PROBE).serverReply().clientIp()).isEqualTo("fd77::2");
    }

    @Test
    void chosenSourceAddressIsWhatTheServerSees() {
        link.b().addAddress("10.77.0.3/24");
        int port = server.tcpServe(0, "src");

        ProbeResult result = client.tcpGet("10.77.0.1", port, PROBE, "10.77.0.3");

        assertThat(result.serverReply().clientIp()).isEqualTo("10.77.0.3");
    }

    @Test
    void closedPortIsRefusedForTcpAndUdp() {
        int port = server.tcpServe(0, "temporary");
        server.stopTcp(port);

        assertThat(client.tcpGet("10.77.0.1", port, PROBE).outcome()).isEqualTo(ProbeResult.Outcome.REFUSED);
        assertThat(client.udpGet("10.77.0.1", 9, PROBE).outcome()).isEqualTo(ProbeResult.Outcome.REFUSED);
    }

    @Test
    void droppedTrafficTimesOut() {
        int port = server.tcpServe(0, "blackholed");
        serverNs.execChecked("iptables", "-w", "5", "-I", "INPUT", "-p", "tcp", "--dport", Integer.toString(port), "-j", "DROP");
        try {
            ProbeResult result = client.tcpGet("10.77.0.1", port, Duration.ofMillis(500));

            assertThat(result.outcome()).as(result.toString()).isEqualTo(ProbeResult.Outcome.TIMEOUT);
        } finally {
            serverNs.execChecked("iptables", "-w", "5", "-D", "INPUT", "-p", "tcp", "--dport", Integer.toString(port), "-j", "DROP");
        }
    }

    @Test
    void addressWithoutARouteIsUnreachable() {
        // The client namespace has no default route, so nothing leaves it: connect fails locally.
        assertThat(client.tcpGet("10.99.0.1", 80, PROBE).outcome()).isEqualTo(ProbeResult.Outcome.UNREACHABLE);
    }

    @Test
    void routesCanBeAddedThroughThePeer() {
        serverNs.execChecked("ip", "addr", "add", "10.88.0.1/32", "dev", "lo");
        link.b().addRoute("10.88.0.0/24", link.a().ipv4());
        int port = server.tcpServe(0, "routed");

        ProbeResult result = client.tcpGet("10.88.0.1", port, PROBE);

        assertThat(result.serverReply().clientIp()).isEqualTo("10.77.0.2");
    }
}
