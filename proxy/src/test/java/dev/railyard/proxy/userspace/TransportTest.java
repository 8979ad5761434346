package dev.railyard.proxy.userspace;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;

import static org.assertj.core.api.Assertions.assertThat;

/** The transport choice: io_uring first, then epoll, then NIO, or what -Drailyard.userspace.transport asks for. */
class TransportTest {
    /** CI's kernel has io_uring: there the relay's main transport must really be the one tested. */
    @Test
    void ioUringIsThereWhereCiNeedsIt() {
        if (Boolean.getBoolean("railyard.requirePrivileged")) {
            assertThat(IoUring.isAvailable()).as("io_uring: %s", IoUring.unavailabilityCause()).isTrue();
        }
    }

    @Test
    void prefersIoUringThenEpollThenNio() {
        Transport.Kind expected = IoUring.isAvailable() ? Transport.Kind.IO_URING
                : Epoll.isAvailable() ? Transport.Kind.EPOLL : Transport.Kind.NIO;
        assertThat(Transport.detect((String) null).kind()).isEqualTo(expected);
        assertThat(Transport.detect("io_uring").kind()).isEqualTo(expected);
    }

    @Test
    void honoursAnExplicitChoiceInAnyCase() {
        Transport.Kind epoll = Epoll.isAvailable() ? Transport.Kind.EPOLL : Transport.Kind.NIO;
        assertThat(Transport.detect("epoll").kind()).isEqualTo(epoll);
        assertThat(Transport.detect(" EPOLL ").kind()).isEqualTo(epoll);
        assertThat(Transport.detect("nio").kind()).isEqualTo(Transport.Kind.NIO);
        assertThat(Transport.detect("NIO").kind()).isEqualTo(Transport.Kind.NIO);
    }

    @Test
    void anUnknownChoiceGetsTheDefault() {
        assertThat(Transport.detect("dpdk\nFAKE LOG LINE").kind()).isEqualTo(Transport.detect((String) null).kind());
    }

    /**
     * The second test execution asks for epoll by system property (proxy/pom.xml): a proxier built there must
     * really relay on it, or that execution would test io_uring twice.
     */
    @Test
    void aProxierRunsOnTheTransportTheExecutionAskedFor() {
        String expected = System.getProperty("railyard.test.expectedTransport",
                IoUring.isAvailable() ? "io_uring" : Epoll.isAvailable() ? "epoll" : "nio");
        UserspaceConfig config = UserspaceConfig.builder(Services.NODE, InetAddress.getLoopbackAddress(),
                ListenMode.SERVICE_ADDRESSES).eventLoopThreads(1).build();
        try (UserspaceProxier proxier = new UserspaceProxier(config)) {
            assertThat(proxier.transportName()).isEqualTo(expected);
        }
    }
}
