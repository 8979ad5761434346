package dev.railyard.proxy.userspace;

import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** UDP through the userspace proxier, with real sockets on loopback addresses. */
class UserspaceUdpProxyTest {
    private static final int PORT = 5353;

    private final List<AutoCloseable> closeAfter = new ArrayList<>();
    private UserspaceProxier proxier;

    @AfterEach
    void tearDown() throws Exception {
        Cleanup.close(proxier, closeAfter);
    }

    private UserspaceProxier proxier(Duration idleTimeout) throws IOException {
        proxier = new UserspaceProxier(UserspaceConfig.builder(Services.NODE, InetAddress.getByName("127.0.0.1"),
                ListenMode.SERVICE_ADDRESSES).eventLoopThreads(2).udpIdleTimeout(idleTimeout).build());
        return proxier;
    }

    private UdpTestBackend backend(String name) throws IOException {
        UdpTestBackend backend = new UdpTestBackend(name, "127.78.1.1");
        closeAfter.add(backend);
        return backend;
    }

    private DatagramSocket client() throws IOException {
        DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
        socket.setSoTimeout(Clients.TIMEOUT_MILLIS);
        closeAfter.add(socket);
        return socket;
    }

    private static ServicePort service(String name, String clusterIp) {
        return ServicePort.builder(Services.name(name, Protocol.UDP), clusterIp, PORT).build();
    }

    private static List<Endpoint> endpoints(ServicePort service, UdpTestBackend... backends) {
        List<InetSocketAddress> addresses = new ArrayList<>();
        for (UdpTestBackend backend : backends) {
            addresses.add(backend.address());
        }
        return Services.endpoints(service.name(), addresses);
    }

    /** Sends one datagram and returns the reply; asserts it came from the address sent to. */
    private static String exchange(DatagramSocket client, InetSocketAddress service, String payload) throws IOException {
        byte[] bytes = payload.getBytes(StandardCharsets.US_ASCII);
        client.send(new DatagramPacket(bytes, bytes.length, service));
        DatagramPacket reply = new DatagramPacket(new byte[2048], 2048);
        client.receive(reply);
        assertThat(reply.getSocketAddress()).as("reply source").isEqualTo(service);
        return new String(reply.getData(), 0, reply.getLength(), StandardCharsets.US_ASCII);
    }

    private TrafficStats stats(ServicePortName name) {
        return proxier.trafficStats().stream().filter(s -> s.service().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void roundTripRepliesComeFromTheServiceAddress() throws Exception {
        UdpTestBackend b1 = backend("b1");
        ServicePort service = service("dns", "127.77.20.1");
        proxier(Duration.ofSeconds(30)).sync(Services.single(service, endpoints(service, b1)));
        InetSocketAddress address = new InetSocketAddress("127.77.20.1", PORT);

        DatagramSocket client = client();
        assertThat(exchange(client, address, "ping")).isEqualTo("b1:ping");
        assertThat(exchange(client, address, "again")).isEqualTo("b1:again");

        TrafficStats stats = stats(service.name());
        assertThat(stats.udpSessionsOpened()).isEqualTo(1);
        assertThat(stats.udpSessionsActive()).isEqualTo(1);
        assertThat(stats.bytesIn()).isEqualTo("pingagain".length());
        assertThat(stats.bytesOut()).isEqualTo("b1:pingb1:again".length());
        assertThat(b1.senders).hasSize(1);
    }

    @Test
    void eachClientAddressHasItsOwnSession() throws Exception {
        UdpTestBackend b1 = backend("b1");
        UdpTestBackend b2 = backend("b2");
        ServicePort service = service("sessions", "127.77.21.1");
        proxier(Duration.ofSeconds(30)).sync(Services.single(service, endpoints(service, b1, b2)));
        InetSocketAddress address = new InetSocketAddress("127.77.21.1", PORT);

        DatagramSocket first = client();
        DatagramSocket second = client();
        String firstBackend = exchange(first, address, "a").split(":")[0];
        String secondBackend = exchange(second, address, "b").split(":")[0];
        assertThat(secondBackend).isNotEqualTo(firstBackend);
        for (int i = 0; i < 3; i++) {
            assertThat(exchange(first, address, "x")).startsWith(firstBackend + ":");
            assertThat(exchange(second, address, "y")).startsWith(secondBackend + ":");
        }
        assertThat(stats(service.name()).udpSessionsActive()).isEqualTo(2);
        assertThat(stats(service.name()).udpSessionsOpened()).isEqualTo(2);
    }

    @Test
    void idleSessionsExpireAndTheNextDatagramOpensANewOne() throws Exception {
        UdpTestBackend b1 = backend("b1");
        UdpTestBackend b2 = backend("b2");
        ServicePort service = service("expiry", "127.77.22.1");
        proxier(Duration.ofMillis(200)).sync(Services.single(service, endpoints(service, b1, b2)));
        InetSocketAddress address = new InetSocketAddress("127.77.22.1", PORT);
        DatagramSocket client = client();

        String before = exchange(client, address, "a").split(":")[0];
        Await.until("session expired", Duration.ofSeconds(5), () -> stats(service.name()).udpSessionsActive() == 0);

        String after = exchange(client, address, "b").split(":")[0];
        assertThat(after).as("a new session is a new round-robin pick").isNotEqualTo(before);
        assertThat(stats(service.name()).udpSessionsOpened()).isEqualTo(2);
    }

    @Test
    void removedServiceClosesItsListenerAndSessions() throws Exception {
        UdpTestBackend b1 = backend("b1");
        ServicePort service = service("removed", "127.77.23.1");
        proxier(Duration.ofSeconds(30)).sync(Services.single(service, endpoints(service, b1)));
        InetSocketAddress address = new InetSocketAddress("127.77.23.1", PORT);
        DatagramSocket client = client();
        assertThat(exchange(client, address, "a")).isEqualTo("b1:a");

        proxier.sync(ProxyState.empty(IpFamily.V4));

        assertThat(proxier.listeners()).isEmpty();
        client.setSoTimeout(300);
        byte[] bytes = "b".getBytes(StandardCharsets.US_ASCII);
        client.send(new DatagramPacket(bytes, bytes.length, address));
        assertThatThrownBy(() -> client.receive(new DatagramPacket(new byte[64], 64)))
                .isInstanceOfAny(SocketTimeoutException.class, java.net.PortUnreachableException.class);
    }

    @Test
    void endpointChangesReachNewSessionsOnly() throws Exception {
        UdpTestBackend b1 = backend("b1");
        UdpTestBackend b2 = backend("b2");
        ServicePort service = service("change", "127.77.24.1");
        proxier(Duration.ofSeconds(30)).sync(Services.single(service, endpoints(service, b1)));
        InetSocketAddress address = new InetSocketAddress("127.77.24.1", PORT);
        DatagramSocket established = client();
        assertThat(exchange(established, address, "a")).isEqualTo("b1:a");

        proxier.sync(Services.single(service, endpoints(service, b2)));

        assertThat(exchange(client(), address, "b")).isEqualTo("b2:b");
        assertThat(exchange(established, address, "c")).isEqualTo("b1:c");
    }

    @Test
    void sessionLimitDropsDatagramsFromFurtherClients() throws Exception {
        UdpTestBackend b1 = backend("b1");
        ServicePort service = service("limited", "127.77.25.1");
        proxier = new UserspaceProxier(UserspaceConfig.builder(Services.NODE, InetAddress.getByName("127.0.0.1"),
                ListenMode.SERVICE_ADDRESSES).eventLoopThreads(1).maxUdpSessions(1).udpIdleTimeout(Duration.ofSeconds(30)).build());
        proxier.sync(Services.single(service, endpoints(service, b1)));
        InetSocketAddress address = new InetSocketAddress("127.77.25.1", PORT);
        DatagramSocket first = client();
        assertThat(exchange(first, address, "a")).isEqualTo("b1:a");

        DatagramSocket second = client();
        second.setSoTimeout(300);
        byte[] bytes = "b".getBytes(StandardCharsets.US_ASCII);
        second.send(new DatagramPacket(bytes, bytes.length, address));
        assertThatThrownBy(() -> second.receive(new DatagramPacket(new byte[64], 64)))
                .isInstanceOf(SocketTimeoutException.class);
        assertThat(stats(service.name()).udpDropped()).isEqualTo(1);
    }
}
