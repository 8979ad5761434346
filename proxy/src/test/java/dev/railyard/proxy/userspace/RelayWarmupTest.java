package dev.railyard.proxy.userspace;

import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The start-up warm-up relays its exchanges through the proxier's own relay, then leaves nothing behind. */
class RelayWarmupTest {
    private final List<AutoCloseable> closeAfter = new ArrayList<>();
    private UserspaceProxier proxier;

    @AfterEach
    void tearDown() throws Exception {
        Cleanup.close(proxier, closeAfter);
    }

    private UserspaceProxier proxier(int exchanges) {
        UserspaceConfig config = UserspaceConfig.builder(Services.NODE, InetAddress.getLoopbackAddress(),
                        ListenMode.SERVICE_ADDRESSES)
                .eventLoopThreads(2)
                .relayWarmupExchanges(exchanges)
                .build();
        proxier = new UserspaceProxier(config);
        return proxier;
    }

    @Test
    void startsAfterTheFirstSyncAndRelaysItsExchangesOverManyConnections() throws Exception {
        UserspaceProxier proxier = proxier(2_000);
        RelayWarmup warmup = proxier.warmup();
        assertThat(warmup.awaitTermination(Duration.ofMillis(300))).as("not started before a sync").isFalse();
        assertThat(warmup.exchanged()).isZero();

        proxier.sync(ProxyState.empty(IpFamily.V4));

        assertThat(warmup.awaitTermination(Duration.ofSeconds(30))).isTrue();
        assertThat(warmup.exchanged()).isGreaterThanOrEqualTo(2_000);
        // Connections come and go throughout: 40 exchanges each.
        assertThat(warmup.connections()).isGreaterThanOrEqualTo(2_000 / 40);
        // Nothing of it is left: its listener is closed and so is every connection it made through the relay.
        assertThat(warmup.listening()).isFalse();
        Await.until("the warm-up's relayed connections closed", Duration.ofSeconds(5),
                () -> proxier.openConnections() == 0);
    }

    @Test
    void realServicesAreServedMeanwhile() throws Exception {
        UserspaceProxier proxier = proxier(1_000_000);
        TestBackend backend = TestBackend.start("web", "127.78.0.1", TestBackend.GREET_AND_ECHO);
        closeAfter.add(backend);
        ServicePort service = ServicePort.builder(Services.name("web", Protocol.TCP), "127.78.1.1", 8080).build();
        proxier.sync(Services.single(service, Services.endpoints(service.name(), List.of(backend.address()))));
        Await.until("the warm-up under way", Duration.ofSeconds(15), () -> proxier.warmup().exchanged() > 0);

        assertThat(Clients.greeting(new InetSocketAddress("127.78.1.1", 8080))).isEqualTo("web");
        assertThat(proxier.warmup().listening()).as("still warming up").isTrue();
        // The warm-up's traffic is not counted as the service's.
        assertThat(proxier.trafficStats()).singleElement()
                .satisfies(stats -> assertThat(stats.connectionsOpened()).isEqualTo(1));
    }

    @Test
    void closingTheProxierStopsAWarmupUnderWay() throws Exception {
        UserspaceProxier proxier = proxier(10_000_000);
        proxier.sync(ProxyState.empty(IpFamily.V4));
        Await.until("100 exchanges", Duration.ofSeconds(15), () -> proxier.warmup().exchanged() > 100);

        proxier.close();

        assertThat(proxier.warmup().awaitTermination(Duration.ofSeconds(10))).isTrue();
        assertThat(proxier.warmup().listening()).isFalse();
        int exchanged = proxier.warmup().exchanged();
        Thread.sleep(200);
        assertThat(proxier.warmup().exchanged()).as("no exchange after the close").isEqualTo(exchanged);
    }
}
