package dev.railyard.proxy.userspace;

import dev.railyard.proxy.model.Cidr;
import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * spec.loadBalancerSourceRanges in userspace mode, with real sockets: every 127.0.0.0/8 address is local, so a
 * client bound to 127.0.0.2 and one bound to 127.0.0.3 are two different sources. Only traffic to a load-balancer
 * IP is filtered; a client outside the ranges is reset before any endpoint is dialled (TCP) or dropped before a
 * session exists (UDP), and counted.
 */
class UserspaceSourceRangesTest {
    private static final int PORT = 8080;
    private static final String ALLOWED = "127.0.0.2";
    private static final String DENIED = "127.0.0.3";
    private static final List<Cidr> ONLY_ALLOWED = List.of(Cidr.parse(ALLOWED + "/32"));

    private final List<AutoCloseable> closeAfter = new ArrayList<>();
    private UserspaceProxier proxier;

    @AfterEach
    void tearDown() throws Exception {
        Cleanup.close(proxier, closeAfter);
    }

    private UserspaceProxier proxier(ListenMode mode, String bindAddress, String... nodeIps) throws IOException {
        List<InetAddress> addresses = new ArrayList<>();
        for (String ip : nodeIps) {
            addresses.add(InetAddress.getByName(ip));
        }
        proxier = new UserspaceProxier(UserspaceConfig.builder(Services.NODE, InetAddress.getByName(bindAddress), mode)
                .nodeIps(addresses).eventLoopThreads(2).udpIdleTimeout(Duration.ofSeconds(30)).build());
        return proxier;
    }

    private UserspaceProxier proxier(String... nodeIps) throws IOException {
        return proxier(ListenMode.SERVICE_ADDRESSES, "127.0.0.1", nodeIps);
    }

    private TestBackend backend(String name, String ip) throws IOException {
        TestBackend backend = TestBackend.start(name, ip, TestBackend.GREET_AND_ECHO);
        closeAfter.add(backend);
        return backend;
    }

    private TestBackend backend(String name) throws IOException {
        return backend(name, "127.78.0.1");
    }

    private static ServicePort.Builder loadBalancer(String name, Protocol protocol, String clusterIp, String lbIp) {
        return ServicePort.builder(Services.name(name, protocol), clusterIp, PORT).loadBalancerIps(List.of(lbIp));
    }

    private static List<Endpoint> endpoints(ServicePort service, InetSocketAddress... addresses) {
        return Services.endpoints(service.name(), Arrays.asList(addresses));
    }

    private static InetSocketAddress at(String ip) {
        return new InetSocketAddress(ip, PORT);
    }

    private TrafficStats stats(ServicePortName name) {
        return proxier.trafficStats().stream().filter(s -> s.service().equals(name)).findFirst().orElseThrow();
    }

    private static Socket connectFrom(String source, InetSocketAddress target) throws IOException {
        Socket socket = new Socket();
        try {
            socket.setSoTimeout(Clients.TIMEOUT_MILLIS);
            socket.bind(new InetSocketAddress(source, 0));
            socket.connect(target, Clients.TIMEOUT_MILLIS);
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /** The backend's greeting, through the proxy, for a client with this source address. */
    private static String greetingFrom(String source, InetSocketAddress target) throws IOException {
        try (Socket socket = connectFrom(source, target)) {
            return Clients.readLine(socket);
        }
    }

    /**
     * The kernel completes the handshake before the proxy sees the connection, so the client's connect succeeds;
     * its first read then meets the reset. A read timeout would mean the proxy had kept the connection.
     */
    private static void assertResetFrom(String source, InetSocketAddress target) {
        long start = System.nanoTime();
        assertThatThrownBy(() -> {
            try (Socket socket = connectFrom(source, target)) {
                socket.getInputStream().read();
            }
        }).isInstanceOf(SocketException.class).hasMessageContaining("reset");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("closed at once").isLessThan(Duration.ofSeconds(2));
    }

    /** A port nothing listens on now, for a node port on the loopback bind address. */
    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }

    @Test
    void tcpToTheLoadBalancerIpIsRelayedFromInsideTheRangesAndResetFromOutsideWithoutReachingAnEndpoint()
            throws Exception {
        TestBackend b1 = backend("b1");
        int nodePort = freePort();
        ServicePort service = loadBalancer("lb", Protocol.TCP, "127.79.1.1", "127.79.1.2").nodePort(nodePort)
                .loadBalancerSourceRanges(ONLY_ALLOWED).build();
        proxier().sync(Services.single(service, endpoints(service, b1.address())));
        assertThat(proxier.listeners()).extracting(Listener::traffic).containsExactlyInAnyOrder(
                TrafficKind.INTERNAL, TrafficKind.LOAD_BALANCER, TrafficKind.EXTERNAL);

        try (Socket allowed = connectFrom(ALLOWED, at("127.79.1.2"))) {
            assertThat(Clients.readLine(allowed)).isEqualTo("b1");
            Clients.send(allowed, "hello\n");
            assertThat(Clients.readLine(allowed)).isEqualTo("hello");
        }
        assertThat(b1.acceptCount()).isEqualTo(1);

        assertResetFrom(DENIED, at("127.79.1.2"));
        assertThat(b1.acceptCount()).as("the endpoint never saw the denied client").isEqualTo(1);

        // As in kube-proxy, the ranges guard the load-balancer IP only: the cluster IP and the node port are open.
        assertThat(greetingFrom(DENIED, at("127.79.1.1"))).isEqualTo("b1");
        assertThat(greetingFrom(DENIED, new InetSocketAddress("127.0.0.1", nodePort))).isEqualTo("b1");

        Await.until("connections counted closed", Duration.ofSeconds(5),
                () -> stats(service.name()).connectionsActive() == 0);
        TrafficStats stats = stats(service.name());
        assertThat(stats.sourceRangeDenied()).isEqualTo(1);
        assertThat(stats.connectionsOpened()).as("a denied connection is not counted as opened").isEqualTo(3);
        assertThat(stats.connectErrors()).isZero();
        assertThat(stats.rejected()).isZero();
    }

    @Test
    void aRangeHoldingTheNodeIpAlsoAdmitsTheLoadBalancerIpsThemselves() throws Exception {
        TestBackend b1 = backend("b1");
        // kube-proxy's allowFromNode: a VIP that is a local address of the node is the source of the node's own
        // requests to it, so it is let in when a range holds the node IP.
        ServicePort holdsNode = loadBalancer("holds-node", Protocol.TCP, "127.79.2.1", "127.79.2.2")
                .loadBalancerSourceRanges(List.of(Cidr.parse("127.0.0.8/30"))).build();
        ServicePort otherRange = loadBalancer("other-range", Protocol.TCP, "127.79.2.3", "127.79.2.4")
                .loadBalancerSourceRanges(List.of(Cidr.parse("127.0.0.16/30"))).build();
        proxier("127.0.0.9").sync(new Services()
                .add(holdsNode, endpoints(holdsNode, b1.address()))
                .add(otherRange, endpoints(otherRange, b1.address())).state());

        assertThat(greetingFrom("127.79.2.2", at("127.79.2.2"))).isEqualTo("b1");
        assertThat(greetingFrom("127.0.0.10", at("127.79.2.2"))).as("in the range").isEqualTo("b1");
        assertResetFrom(DENIED, at("127.79.2.2"));

        assertResetFrom("127.79.2.4", at("127.79.2.4"));
        assertThat(greetingFrom("127.0.0.17", at("127.79.2.4"))).isEqualTo("b1");

        assertThat(stats(holdsNode.name()).sourceRangeDenied()).isEqualTo(1);
        assertThat(stats(otherRange.name()).sourceRangeDenied()).isEqualTo(1);
    }

    @Test
    void changedRangesApplyToNewConnectionsAndLeaveEstablishedOnesAlone() throws Exception {
        TestBackend b1 = backend("b1");
        ServicePort.Builder builder = loadBalancer("changing", Protocol.TCP, "127.79.3.1", "127.79.3.2");
        ServicePort narrow = builder.loadBalancerSourceRanges(ONLY_ALLOWED).build();
        proxier().sync(Services.single(narrow, endpoints(narrow, b1.address())));
        assertResetFrom(DENIED, at("127.79.3.2"));

        try (Socket established = connectFrom(ALLOWED, at("127.79.3.2"))) {
            assertThat(Clients.readLine(established)).isEqualTo("b1");

            ServicePort moved = builder.loadBalancerSourceRanges(List.of(Cidr.parse(DENIED + "/32"))).build();
            proxier.sync(Services.single(moved, endpoints(moved, b1.address())));

            assertThat(greetingFrom(DENIED, at("127.79.3.2"))).isEqualTo("b1");
            assertResetFrom(ALLOWED, at("127.79.3.2"));
            Clients.send(established, "still here\n");
            assertThat(Clients.readLine(established)).as("established before the change").isEqualTo("still here");
        }

        ServicePort open = builder.loadBalancerSourceRanges(List.of()).build();
        proxier.sync(Services.single(open, endpoints(open, b1.address())));
        assertThat(greetingFrom(ALLOWED, at("127.79.3.2"))).isEqualTo("b1");
        assertThat(greetingFrom("127.0.0.4", at("127.79.3.2"))).isEqualTo("b1");
        assertThat(stats(narrow.name()).sourceRangeDenied()).isEqualTo(2);
    }

    @Test
    void udpFromOutsideTheRangesIsDroppedWithoutASession() throws Exception {
        UdpTestBackend b1 = new UdpTestBackend("b1", "127.78.1.1");
        closeAfter.add(b1);
        ServicePort service = loadBalancer("dns", Protocol.UDP, "127.79.4.1", "127.79.4.2")
                .loadBalancerSourceRanges(ONLY_ALLOWED).build();
        proxier().sync(Services.single(service, endpoints(service, b1.address())));

        DatagramSocket allowed = udpClient(ALLOWED);
        assertThat(exchange(allowed, at("127.79.4.2"), "ping")).isEqualTo("b1:ping");

        DatagramSocket denied = udpClient(DENIED);
        denied.setSoTimeout(300);
        for (int i = 0; i < 3; i++) {
            send(denied, at("127.79.4.2"), "let me in " + i);
        }
        DatagramPacket reply = new DatagramPacket(new byte[2048], 2048);
        assertThatThrownBy(() -> denied.receive(reply)).isInstanceOf(SocketTimeoutException.class);
        Await.until("three datagrams denied", Duration.ofSeconds(5),
                () -> stats(service.name()).sourceRangeDenied() == 3);

        denied.setSoTimeout(Clients.TIMEOUT_MILLIS);
        assertThat(exchange(denied, at("127.79.4.1"), "cluster ip")).as("cluster IP traffic is not filtered")
                .isEqualTo("b1:cluster ip");

        TrafficStats stats = stats(service.name());
        assertThat(stats.udpSessionsOpened()).as("one session each for the allowed LB client and the cluster-IP one")
                .isEqualTo(2);
        assertThat(stats.bytesIn()).isEqualTo("ping".length() + "cluster ip".length());
        assertThat(b1.senders).as("the endpoint got no datagram of the denied client's").hasSize(2);
    }

    @Test
    void captureModeGivesFilteredLoadBalancerTrafficAListenerOfItsOwn() throws Exception {
        TestBackend b1 = backend("b1");
        ServicePort filtered = loadBalancer("filtered", Protocol.TCP, "10.96.0.21", "203.0.113.21").nodePort(30021)
                .loadBalancerSourceRanges(ONLY_ALLOWED).build();
        ServicePort open = loadBalancer("open", Protocol.TCP, "10.96.0.22", "203.0.113.22").nodePort(30022).build();
        ServicePort lbOnly = loadBalancer("lb-only", Protocol.TCP, "10.96.0.23", "203.0.113.23")
                .loadBalancerSourceRanges(ONLY_ALLOWED).build();
        proxier(ListenMode.CAPTURE, "127.79.5.1").sync(new Services()
                .add(filtered, endpoints(filtered, b1.address()))
                .add(open, endpoints(open, b1.address()))
                .add(lbOnly, endpoints(lbOnly, b1.address())).state());

        assertThat(kinds(filtered)).containsExactlyInAnyOrder(TrafficKind.INTERNAL, TrafficKind.EXTERNAL,
                TrafficKind.LOAD_BALANCER);
        assertThat(kinds(open)).as("unfiltered LB traffic shares the external listener")
                .containsExactlyInAnyOrder(TrafficKind.INTERNAL, TrafficKind.EXTERNAL);
        assertThat(kinds(lbOnly)).as("no node port or external IP: no external listener")
                .containsExactlyInAnyOrder(TrafficKind.INTERNAL, TrafficKind.LOAD_BALANCER);
        assertThat(proxier.listeners()).extracting(l -> l.local().getPort()).doesNotHaveDuplicates();

        // A REDIRECT keeps the client's address, so connecting to the listeners directly is what captured
        // traffic looks like to the proxy.
        InetSocketAddress loadBalancerPort = listener(filtered, TrafficKind.LOAD_BALANCER).local();
        assertThat(greetingFrom(ALLOWED, loadBalancerPort)).isEqualTo("b1");
        assertResetFrom(DENIED, loadBalancerPort);
        assertThat(greetingFrom(DENIED, listener(filtered, TrafficKind.EXTERNAL).local())).as("node port")
                .isEqualTo("b1");
        assertThat(greetingFrom(DENIED, listener(filtered, TrafficKind.INTERNAL).local())).as("cluster IP")
                .isEqualTo("b1");
        assertThat(b1.acceptCount()).isEqualTo(3);
        assertThat(stats(filtered.name()).sourceRangeDenied()).isEqualTo(1);

        // Ranges added later: a filtering listener joins, the ports the capture rules already use stay.
        List<Listener> before = proxier.listeners().stream().filter(l -> l.service().equals(open)).toList();
        ServicePort restricted = loadBalancer("open", Protocol.TCP, "10.96.0.22", "203.0.113.22").nodePort(30022)
                .loadBalancerSourceRanges(ONLY_ALLOWED).build();
        proxier.sync(new Services()
                .add(filtered, endpoints(filtered, b1.address()))
                .add(restricted, endpoints(restricted, b1.address()))
                .add(lbOnly, endpoints(lbOnly, b1.address())).state());
        for (Listener kept : before) {
            assertThat(listener(restricted, kept.traffic()).local()).as("%s listener kept", kept.traffic())
                    .isEqualTo(kept.local());
        }
        assertResetFrom(DENIED, listener(restricted, TrafficKind.LOAD_BALANCER).local());
    }

    private List<TrafficKind> kinds(ServicePort service) {
        return proxier.listeners().stream().filter(l -> l.service().name().equals(service.name()))
                .map(Listener::traffic).toList();
    }

    private Listener listener(ServicePort service, TrafficKind kind) {
        return proxier.listeners().stream()
                .filter(l -> l.service().name().equals(service.name()) && l.traffic() == kind)
                .findFirst().orElseThrow();
    }

    private DatagramSocket udpClient(String source) throws IOException {
        DatagramSocket socket = new DatagramSocket(new InetSocketAddress(source, 0));
        socket.setSoTimeout(Clients.TIMEOUT_MILLIS);
        closeAfter.add(socket);
        return socket;
    }

    private static void send(DatagramSocket client, InetSocketAddress service, String payload) throws IOException {
        byte[] bytes = payload.getBytes(StandardCharsets.US_ASCII);
        client.send(new DatagramPacket(bytes, bytes.length, service));
    }

    private static String exchange(DatagramSocket client, InetSocketAddress service, String payload)
            throws IOException {
        send(client, service, payload);
        DatagramPacket reply = new DatagramPacket(new byte[2048], 2048);
        client.receive(reply);
        assertThat(reply.getSocketAddress()).as("reply source").isEqualTo(service);
        return new String(reply.getData(), 0, reply.getLength(), StandardCharsets.US_ASCII);
    }
}
