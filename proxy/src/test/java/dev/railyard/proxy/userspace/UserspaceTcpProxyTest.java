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
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** TCP through the userspace proxier, with real sockets on loopback addresses. */
class UserspaceTcpProxyTest {
    private static final int PORT = 8080;

    private final AtomicLong clock = new AtomicLong();
    private final List<AutoCloseable> closeAfter = new ArrayList<>();
    private UserspaceProxier proxier;

    @AfterEach
    void tearDown() throws Exception {
        Cleanup.close(proxier, closeAfter);
    }

    private UserspaceProxier proxier(ListenMode mode, String bindAddress) throws IOException {
        UserspaceConfig config = UserspaceConfig.builder(Services.NODE, InetAddress.getByName(bindAddress), mode)
                .eventLoopThreads(2)
                .connectTimeout(Duration.ofSeconds(1))
                .maxConnectAttempts(3)
                .build();
        proxier = new UserspaceProxier(config, clock::get);
        return proxier;
    }

    private UserspaceProxier proxier() throws IOException {
        return proxier(ListenMode.SERVICE_ADDRESSES, "127.0.0.1");
    }

    private TestBackend backend(String name, TestBackend.Script script) throws IOException {
        TestBackend backend = TestBackend.start(name, "127.78.0.1", script);
        closeAfter.add(backend);
        return backend;
    }

    private static ServicePort.Builder service(String name, String clusterIp) {
        return ServicePort.builder(Services.name(name, Protocol.TCP), clusterIp, PORT);
    }

    private static List<Endpoint> endpoints(ServicePort service, TestBackend... backends) {
        List<InetSocketAddress> addresses = new ArrayList<>();
        for (TestBackend backend : backends) {
            addresses.add(backend.address());
        }
        return Services.endpoints(service.name(), addresses);
    }

    private static InetSocketAddress at(String ip) {
        return new InetSocketAddress(ip, PORT);
    }

    /** An address on which nothing listens: connecting to it is refused. */
    private static InetSocketAddress refusingAddress() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.78.0.2"))) {
            return (InetSocketAddress) socket.getLocalSocketAddress();
        }
    }

    private TrafficStats stats(ServicePortName name) {
        return proxier.trafficStats().stream().filter(s -> s.service().equals(name)).findFirst().orElseThrow();
    }

    /**
     * The proxy accepts, then resets: the reset may already be there when the client's connect returns (the
     * kernel completes the handshake before the proxy sees the connection), or reach its first read.
     */
    private static void assertResetOnConnectOrFirstRead(InetSocketAddress address) {
        assertThatThrownBy(() -> {
            try (Socket socket = Clients.connect(address)) {
                socket.getInputStream().read();
            }
        }).isInstanceOf(SocketException.class).hasMessageContaining("reset");
    }

    @Test
    void spreadsConnectionsRoundRobinOverThreeBackends() throws Exception {
        TestBackend[] backends = {backend("b1", TestBackend.GREET_AND_ECHO), backend("b2", TestBackend.GREET_AND_ECHO),
                backend("b3", TestBackend.GREET_AND_ECHO)};
        ServicePort service = service("rr", "127.77.1.1").build();
        proxier().sync(Services.single(service, endpoints(service, backends)));

        Map<String, Integer> hits = new TreeMap<>();
        for (int i = 0; i < 9; i++) {
            hits.merge(Clients.greeting(at("127.77.1.1")), 1, Integer::sum);
        }
        assertThat(hits).isEqualTo(Map.of("b1", 3, "b2", 3, "b3", 3));

        try (Socket socket = Clients.connect(at("127.77.1.1"))) {
            Clients.readLine(socket);
            Clients.send(socket, "hello\n");
            assertThat(Clients.readLine(socket)).isEqualTo("hello");
        }
        Await.until("connections counted closed", Duration.ofSeconds(5),
                () -> stats(service.name()).connectionsActive() == 0);
        TrafficStats stats = stats(service.name());
        assertThat(stats.connectionsOpened()).isEqualTo(10);
        assertThat(stats.bytesIn()).isEqualTo("hello\n".length());
        assertThat(stats.bytesOut()).isEqualTo(10 * "bN\n".length() + "hello\n".length());
        assertThat(stats.connectErrors()).isZero();
    }

    @Test
    void clientIpAffinitySticksUntilTheClientIsQuietForTheTimeout() throws Exception {
        TestBackend[] backends = {backend("b1", TestBackend.GREET_AND_ECHO), backend("b2", TestBackend.GREET_AND_ECHO),
                backend("b3", TestBackend.GREET_AND_ECHO)};
        ServicePort service = service("sticky", "127.77.2.1").clientIpAffinity(10).build();
        proxier().sync(Services.single(service, endpoints(service, backends)));

        String first = Clients.greeting(at("127.77.2.1"));
        for (int i = 0; i < 4; i++) {
            assertThat(Clients.greeting(at("127.77.2.1"))).isEqualTo(first);
        }
        // Each new connection restarts the timeout, as iptables' "recent" match does.
        clock.addAndGet(TimeUnit.SECONDS.toNanos(9));
        assertThat(Clients.greeting(at("127.77.2.1"))).isEqualTo(first);
        clock.addAndGet(TimeUnit.SECONDS.toNanos(9));
        assertThat(Clients.greeting(at("127.77.2.1"))).isEqualTo(first);

        clock.addAndGet(TimeUnit.SECONDS.toNanos(11));
        String afterExpiry = Clients.greeting(at("127.77.2.1"));
        assertThat(afterExpiry).isNotEqualTo(first);
        assertThat(Clients.greeting(at("127.77.2.1"))).isEqualTo(afterExpiry);
    }

    @Test
    void affinityMovesWhenItsEndpointIsRemoved() throws Exception {
        TestBackend b1 = backend("b1", TestBackend.GREET_AND_ECHO);
        TestBackend b2 = backend("b2", TestBackend.GREET_AND_ECHO);
        ServicePort service = service("sticky-moved", "127.77.2.2").clientIpAffinity(100).build();
        proxier().sync(Services.single(service, endpoints(service, b1, b2)));
        String first = Clients.greeting(at("127.77.2.2"));
        TestBackend other = first.equals("b1") ? b2 : b1;

        proxier.sync(Services.single(service, endpoints(service, other)));

        assertThat(Clients.greeting(at("127.77.2.2"))).isEqualTo(other.name);
    }

    @Test
    void endpointRemovedDuringAConnectionKeepsItWhileNewConnectionsGoElsewhere() throws Exception {
        TestBackend b1 = backend("b1", TestBackend.GREET_AND_ECHO);
        TestBackend b2 = backend("b2", TestBackend.GREET_AND_ECHO);
        ServicePort service = service("removal", "127.77.3.1").build();
        proxier().sync(Services.single(service, endpoints(service, b1, b2)));

        try (Socket established = Clients.connect(at("127.77.3.1"))) {
            String chosen = Clients.readLine(established);
            TestBackend remaining = chosen.equals("b1") ? b2 : b1;

            proxier.sync(Services.single(service, endpoints(service, remaining)));

            for (int i = 0; i < 3; i++) {
                assertThat(Clients.greeting(at("127.77.3.1"))).isEqualTo(remaining.name);
            }
            Clients.send(established, "still connected\n");
            assertThat(Clients.readLine(established)).isEqualTo("still connected");
        }
    }

    @Test
    void refusingEndpointIsSkippedForTheNextOne() throws Exception {
        TestBackend b1 = backend("b1", TestBackend.GREET_AND_ECHO);
        ServicePort service = service("refusing", "127.77.4.1").build();
        List<Endpoint> endpoints = new ArrayList<>(endpoints(service, b1));
        endpoints.add(Services.endpoint(service.name(), refusingAddress()));
        proxier().sync(Services.single(service, endpoints));

        for (int i = 0; i < 4; i++) {
            assertThat(Clients.greeting(at("127.77.4.1"))).isEqualTo("b1");
        }
        // Round-robin starts every other connection at the refusing endpoint.
        assertThat(stats(service.name()).connectErrors()).isEqualTo(2);
        assertThat(stats(service.name()).rejected()).isZero();
    }

    @Test
    void clientIsResetWhenEveryEndpointRefuses() throws Exception {
        ServicePort service = service("all-refusing", "127.77.4.2").build();
        List<Endpoint> endpoints = List.of(Services.endpoint(service.name(), refusingAddress()),
                Services.endpoint(service.name(), refusingAddress()));
        proxier().sync(Services.single(service, endpoints));

        assertResetOnConnectOrFirstRead(at("127.77.4.2"));
        Await.until("rejection counted", Duration.ofSeconds(5), () -> stats(service.name()).rejected() == 1);
        assertThat(stats(service.name()).connectErrors()).isEqualTo(2);
    }

    @Test
    void connectAttemptsAreBounded() throws Exception {
        ServicePort service = service("bounded", "127.77.4.3").build();
        List<Endpoint> endpoints = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            endpoints.add(Services.endpoint(service.name(), refusingAddress()));
        }
        proxier().sync(Services.single(service, endpoints));

        assertResetOnConnectOrFirstRead(at("127.77.4.3"));
        Await.until("rejection counted", Duration.ofSeconds(5), () -> stats(service.name()).rejected() == 1);
        assertThat(stats(service.name()).connectErrors()).isEqualTo(3); // maxConnectAttempts
    }

    @Test
    void loneEndpointWhoseAcceptQueueIsFullIsDialledAgain() throws Exception {
        proxier = new UserspaceProxier(UserspaceConfig.builder(Services.NODE, InetAddress.getByName("127.0.0.1"),
                        ListenMode.SERVICE_ADDRESSES).eventLoopThreads(2).connectTimeout(Duration.ofMillis(250))
                .maxConnectAttempts(4).build(), clock::get);
        try (ServerSocket backlogged = new ServerSocket(0, 1, InetAddress.getByName("127.78.0.3"))) {
            List<Integer> queuedPorts = fillAcceptQueue((InetSocketAddress) backlogged.getLocalSocketAddress());
            ServicePort service = service("backlogged", "127.77.4.9").build();
            proxier.sync(Services.single(service, List.of(Services.endpoint(service.name(),
                    (InetSocketAddress) backlogged.getLocalSocketAddress()))));

            try (Socket client = Clients.connect(at("127.77.4.9"))) {
                Await.until("the first attempt timed out on the full queue", Duration.ofSeconds(5),
                        () -> stats(service.name()).connectErrors() >= 1);
                backlogged.setSoTimeout(5_000);
                try (Socket fromProxy = acceptSkipping(backlogged, queuedPorts)) {
                    fromProxy.getOutputStream().write("dialled again\n".getBytes(StandardCharsets.UTF_8));
                    assertThat(Clients.readLine(client)).isEqualTo("dialled again");
                }
            }
            assertThat(stats(service.name()).rejected()).isZero();
        }
    }

    /**
     * Connects to the listener until a SYN goes unanswered (its accept queue is full, so the kernel drops SYNs);
     * returns the local ports of those connections. They stay open until the test's cleanup.
     */
    private List<Integer> fillAcceptQueue(InetSocketAddress listener) throws IOException {
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            SocketChannel queued = SocketChannel.open();
            closeAfter.add(queued);
            queued.configureBlocking(false);
            queued.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            ports.add(((InetSocketAddress) queued.getLocalAddress()).getPort());
            if (queued.connect(listener)) {
                continue;
            }
            try (Selector selector = Selector.open()) {
                queued.register(selector, SelectionKey.OP_CONNECT);
                if (selector.select(300) == 0) {
                    return ports;
                }
                queued.finishConnect();
            }
        }
        throw new AssertionError("the accept queue of " + listener + " never filled");
    }

    private static Socket acceptSkipping(ServerSocket listener, List<Integer> skippedPorts) throws IOException {
        while (true) {
            Socket accepted = listener.accept();
            if (!skippedPorts.contains(accepted.getPort())) {
                return accepted;
            }
            accepted.close();
        }
    }

    @Test
    void serviceWithoutEndpointsResetsClients() throws Exception {
        ServicePort service = service("empty", "127.77.4.4").build();
        proxier().sync(Services.single(service, List.of()));

        assertResetOnConnectOrFirstRead(at("127.77.4.4"));
        assertThat(stats(service.name()).rejected()).isEqualTo(1);
    }

    @Test
    void backendResetReachesTheClient() throws Exception {
        TestBackend resetting = backend("resetting", (backend, socket) -> {
            socket.getInputStream().read();
            socket.setSoLinger(true, 0);
            socket.close();
        });
        ServicePort service = service("reset", "127.77.5.1").build();
        proxier().sync(Services.single(service, endpoints(service, resetting)));

        try (Socket socket = Clients.connect(at("127.77.5.1"))) {
            Clients.send(socket, "x");
            assertThatThrownBy(() -> socket.getInputStream().read())
                    .isInstanceOf(SocketException.class).hasMessageContaining("reset");
        }
        Await.until("reset counted", Duration.ofSeconds(5), () -> stats(service.name()).resets() == 1);
    }

    @Test
    void clientResetReachesTheBackend() throws Exception {
        BlockingQueue<Object> outcome = new LinkedBlockingQueue<>();
        TestBackend reading = backend("reading", (backend, socket) -> {
            socket.getOutputStream().write('!');
            try {
                outcome.add(socket.getInputStream().read());
            } catch (IOException e) {
                outcome.add(e);
            }
        });
        ServicePort service = service("client-reset", "127.77.5.2").build();
        proxier().sync(Services.single(service, endpoints(service, reading)));

        Socket socket = Clients.connect(at("127.77.5.2"));
        assertThat(socket.getInputStream().read()).isEqualTo('!');
        socket.setSoLinger(true, 0);
        socket.close();

        assertThat(outcome.poll(5, TimeUnit.SECONDS))
                .isInstanceOf(SocketException.class)
                .asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.THROWABLE)
                .hasMessageContaining("reset");
    }

    @Test
    void stalledBackendStopsTheProxyReadingFromTheClient() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        BlockingQueue<Long> drained = new LinkedBlockingQueue<>();
        TestBackend stalling = backend("stalling", (backend, socket) -> {
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                return;
            }
            socket.setSoTimeout(10_000);
            drained.add(socket.getInputStream().transferTo(OutputSink.INSTANCE));
        });
        ServicePort service = service("stall", "127.77.6.1").build();
        proxier().sync(Services.single(service, endpoints(service, stalling)));

        long limit = 256L << 20;
        long written = 0;
        try (SocketChannel client = SocketChannel.open(at("127.77.6.1"));
             Selector selector = Selector.open()) {
            client.configureBlocking(false);
            client.register(selector, SelectionKey.OP_WRITE);
            ByteBuffer chunk = ByteBuffer.allocateDirect(64 << 10);
            boolean stalled = false;
            while (written < limit) {
                chunk.clear();
                int n = client.write(chunk);
                written += n;
                if (n == 0) {
                    selector.selectedKeys().clear();
                    // Nothing more can be written for half a second: the proxy has stopped reading.
                    if (selector.select(500) == 0) {
                        stalled = true;
                        break;
                    }
                }
            }
            assertThat(stalled).as("client writes stopped progressing (wrote %d bytes)", written).isTrue();
            // Kernel socket buffers on loopback hold some megabytes; the proxy itself holds about one write
            // buffer: the high water mark plus one read.
            assertThat(written).isLessThan(64L << 20);
            assertThat(proxier.pendingOutboundBytes()).isLessThanOrEqualTo(
                    (long) RelayTuning.DEFAULT.writeHighWaterMark() + RelayTuning.DEFAULT.recvBufferMax());

            release.countDown();
            client.shutdownOutput();
            assertThat(drained.poll(20, TimeUnit.SECONDS)).isEqualTo(written);
        }
    }

    @Test
    void clientHalfCloseReachesTheBackendWhichCanStillAnswer() throws Exception {
        TestBackend counting = backend("counting", (backend, socket) -> {
            long count = socket.getInputStream().transferTo(OutputSink.INSTANCE);
            Clients.send(socket, "got " + count + "\n");
            socket.close();
        });
        ServicePort service = service("half-close-in", "127.77.7.1").build();
        proxier().sync(Services.single(service, endpoints(service, counting)));

        try (Socket socket = Clients.connect(at("127.77.7.1"))) {
            Clients.send(socket, "abc");
            socket.shutdownOutput();
            assertThat(Clients.readLine(socket)).isEqualTo("got 3");
            assertThat(socket.getInputStream().read()).isEqualTo(-1);
        }
    }

    @Test
    void backendHalfCloseReachesTheClientWhichCanStillSend() throws Exception {
        BlockingQueue<String> heard = new LinkedBlockingQueue<>();
        TestBackend closingFirst = backend("closing-first", (backend, socket) -> {
            Clients.send(socket, "bye\n");
            socket.shutdownOutput();
            heard.add(String.valueOf(Clients.readLine(socket)));
            socket.close();
        });
        ServicePort service = service("half-close-out", "127.77.7.2").build();
        proxier().sync(Services.single(service, endpoints(service, closingFirst)));

        try (Socket socket = Clients.connect(at("127.77.7.2"))) {
            assertThat(Clients.readLine(socket)).isEqualTo("bye");
            assertThat(socket.getInputStream().read()).isEqualTo(-1);
            Clients.send(socket, "still here\n");
            assertThat(heard.poll(5, TimeUnit.SECONDS)).isEqualTo("still here");
            assertThat(socket.getInputStream().read()).isEqualTo(-1);
        }
        Await.until("connection closed on both sides", Duration.ofSeconds(5),
                () -> stats(service.name()).connectionsActive() == 0);
    }

    @Test
    void removedServiceClosesItsListenerButNotItsConnections() throws Exception {
        TestBackend b1 = backend("b1", TestBackend.GREET_AND_ECHO);
        ServicePort service = service("removed", "127.77.8.1").build();
        proxier().sync(Services.single(service, endpoints(service, b1)));
        assertThat(proxier.listeners()).extracting(Listener::local).containsExactly(at("127.77.8.1"));

        try (Socket established = Clients.connect(at("127.77.8.1"))) {
            assertThat(Clients.readLine(established)).isEqualTo("b1");

            proxier.sync(ProxyState.empty(IpFamily.V4));

            assertThat(proxier.listeners()).isEmpty();
            assertThat(proxier.trafficStats()).isEmpty();
            assertThatThrownBy(() -> Clients.connect(at("127.77.8.1"))).isInstanceOf(ConnectException.class);
            Clients.send(established, "ping\n");
            assertThat(Clients.readLine(established)).isEqualTo("ping");
        }
    }

    @Test
    void aListenerThatCannotBindDoesNotStopTheOthersAndIsRetriedNextSync() throws Exception {
        TestBackend b1 = backend("b1", TestBackend.GREET_AND_ECHO);
        ServicePort blocked = service("blocked", "127.77.9.1").build();
        ServicePort fine = service("fine", "127.77.9.2").build();
        try (ServerSocket squatter = new ServerSocket(PORT, 1, InetAddress.getByName("127.77.9.1"))) {
            proxier().sync(new Services().add(blocked, endpoints(blocked, b1)).add(fine, endpoints(fine, b1)).state());

            assertThat(proxier.listeners()).extracting(Listener::local).containsExactly(at("127.77.9.2"));
            assertThat(Clients.greeting(at("127.77.9.2"))).isEqualTo("b1");
        }
        // The address is free now: the next sync binds it.
        proxier.sync(new Services().add(blocked, endpoints(blocked, b1)).add(fine, endpoints(fine, b1)).state());
        assertThat(proxier.listeners()).extracting(Listener::local)
                .containsExactlyInAnyOrder(at("127.77.9.1"), at("127.77.9.2"));
        assertThat(Clients.greeting(at("127.77.9.1"))).isEqualTo("b1");
    }

    @Test
    void changedClusterIpMovesTheListener() throws Exception {
        TestBackend b1 = backend("b1", TestBackend.GREET_AND_ECHO);
        ServicePort before = service("moving", "127.77.10.1").build();
        proxier().sync(Services.single(before, endpoints(before, b1)));
        ServicePort after = service("moving", "127.77.10.2").build();

        proxier.sync(Services.single(after, endpoints(after, b1)));

        assertThat(proxier.listeners()).containsExactly(new Listener(after, at("127.77.10.2"), TrafficKind.INTERNAL));
        assertThat(Clients.greeting(at("127.77.10.2"))).isEqualTo("b1");
        assertThatThrownBy(() -> Clients.connect(at("127.77.10.1"))).isInstanceOf(ConnectException.class);
    }

    @Test
    void externalTrafficPolicyLocalSendsNodePortAndExternalIpTrafficOnlyToLocalEndpoints() throws Exception {
        TestBackend local = backend("local", TestBackend.GREET_AND_ECHO);
        TestBackend remote = backend("remote", TestBackend.GREET_AND_ECHO);
        ServicePort service = service("etp-local", "127.77.11.1")
                .nodePort(30080)
                .externalIps(List.of("127.77.11.2"))
                .externalPolicyLocal(true)
                .build();
        List<Endpoint> endpoints = List.of(
                Endpoint.builder(service.name(), "127.78.0.1", local.address().getPort()).nodeName(Services.NODE).build(),
                Endpoint.builder(service.name(), "127.78.0.1", remote.address().getPort()).nodeName("node-b").build());
        proxier(ListenMode.SERVICE_ADDRESSES, "127.77.11.3").sync(Services.single(service, endpoints));

        assertThat(proxier.listeners()).containsExactlyInAnyOrder(
                new Listener(service, at("127.77.11.1"), TrafficKind.INTERNAL),
                new Listener(service, at("127.77.11.2"), TrafficKind.EXTERNAL),
                new Listener(service, new InetSocketAddress("127.77.11.3", 30080), TrafficKind.EXTERNAL));
        for (int i = 0; i < 3; i++) {
            assertThat(Clients.greeting(new InetSocketAddress("127.77.11.3", 30080))).isEqualTo("local");
            assertThat(Clients.greeting(at("127.77.11.2"))).isEqualTo("local");
        }
        List<String> internal = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            internal.add(Clients.greeting(at("127.77.11.1")));
        }
        assertThat(internal).containsOnly("local", "remote").contains("local", "remote");
    }

    @Test
    void captureModeListensOnEphemeralPortsOfTheBindAddressPerKindOfTraffic() throws Exception {
        TestBackend b1 = backend("b1", TestBackend.GREET_AND_ECHO);
        ServicePort clusterOnly = service("cluster-only", "10.96.0.10").build();
        ServicePort withNodePort = service("with-node-port", "10.96.0.11").nodePort(30081).build();
        proxier(ListenMode.CAPTURE, "127.77.12.1").sync(new Services()
                .add(clusterOnly, endpoints(clusterOnly, b1))
                .add(withNodePort, endpoints(withNodePort, b1)).state());

        List<Listener> listeners = proxier.listeners();
        assertThat(listeners).hasSize(3);
        assertThat(listeners).allSatisfy(listener -> {
            assertThat(listener.local().getAddress()).isEqualTo(InetAddress.getByName("127.77.12.1"));
            assertThat(listener.local().getPort()).isPositive();
        });
        assertThat(listeners).extracting(l -> l.service().name().name() + "/" + l.traffic())
                .containsExactlyInAnyOrder("cluster-only/INTERNAL", "with-node-port/INTERNAL",
                        "with-node-port/EXTERNAL");
        for (Listener listener : listeners) {
            assertThat(Clients.greeting(listener.local())).isEqualTo("b1");
        }
        // A later sync keeps the ports the capture rules point at.
        proxier.sync(new Services()
                .add(clusterOnly, endpoints(clusterOnly, b1))
                .add(withNodePort, endpoints(withNodePort, b1)).state());
        assertThat(proxier.listeners()).containsExactlyInAnyOrderElementsOf(listeners);
    }

    @Test
    void captureModeListensOnTheBindAddressForItsFamilyAndOnTheWildcardForTheOther() throws Exception {
        TestBackend v4Backend = backend("b4", TestBackend.GREET_AND_ECHO);
        TestBackend v6Backend = TestBackend.start("b6", "::1", TestBackend.GREET_AND_ECHO);
        closeAfter.add(v6Backend);
        ServicePort v4 = service("web4", "10.96.0.12").build();
        ServicePort v6 = ServicePort.builder(Services.name("web6", Protocol.TCP), "fd00:96::12", PORT).nodePort(30082)
                .build();
        proxier(ListenMode.CAPTURE, "127.77.14.1");
        proxier.sync(new Services().add(v4, endpoints(v4, v4Backend)).state(IpFamily.V4));
        proxier.sync(new Services().add(v6, endpoints(v6, v6Backend)).state(IpFamily.V6));

        assertThat(proxier.listeners()).filteredOn(l -> l.service().equals(v4)).singleElement()
                .satisfies(l -> assertThat(l.local().getAddress()).isEqualTo(InetAddress.getByName("127.77.14.1")));
        List<Listener> ipv6 = proxier.listeners().stream().filter(l -> l.service().equals(v6)).toList();
        assertThat(ipv6).extracting(Listener::traffic)
                .containsExactlyInAnyOrder(TrafficKind.INTERNAL, TrafficKind.EXTERNAL);
        for (Listener listener : ipv6) {
            assertThat(listener.local().getAddress()).as("IPv6 redirects need an IPv6 listener")
                    .isEqualTo(InetAddress.getByName("::"));
            assertThat(Clients.greeting(new InetSocketAddress("::1", listener.local().getPort())))
                    .as("%s over IPv6", listener.traffic()).isEqualTo("b6");
        }
        assertThat(Clients.greeting(proxier.listeners().stream().filter(l -> l.service().equals(v4))
                .findFirst().orElseThrow().local())).isEqualTo("b4");

        UserspaceConfig ipv6Bind = UserspaceConfig.builder("n", InetAddress.getByName("::"), ListenMode.CAPTURE)
                .build();
        assertThat(ipv6Bind.captureAddress(IpFamily.V6)).isEqualTo(InetAddress.getByName("::"));
        assertThat(ipv6Bind.captureAddress(IpFamily.V4)).isEqualTo(InetAddress.getByName("0.0.0.0"));
    }

    @Test
    void sctpPortsAreSkipped() throws Exception {
        ServicePort sctp = ServicePort.builder(Services.name("sctp", Protocol.SCTP), "127.77.13.1", PORT).build();
        proxier().sync(Services.single(sctp, List.of()));
        assertThat(proxier.listeners()).isEmpty();
        assertThat(proxier.trafficStats()).isEmpty();
    }

    /** Discards what is written to it. */
    private static final class OutputSink extends java.io.OutputStream {
        static final OutputSink INSTANCE = new OutputSink();

        @Override
        public void write(int b) {
        }

        @Override
        public void write(byte[] b, int off, int len) {
        }
    }

}
