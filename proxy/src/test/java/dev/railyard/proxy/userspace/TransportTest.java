package dev.railyard.proxy.userspace;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import org.junit.jupiter.api.Test;

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
    void prefersIoUringThenEpoll() {
        Transport.Kind expected = IoUring.isAvailable() ? Transport.Kind.IO_URING
                : Epoll.isAvailable() ? Transport.Kind.EPOLL : Transport.Kind.NIO;
        assertThat(Transport.detect("io_uring").kind()).isEqualTo(expected);
    }

    @Test
    void honoursAnExplicitChoice() {
        assertThat(Transport.detect("epoll").kind())
                .isEqualTo(Epoll.isAvailable() ? Transport.Kind.EPOLL : Transport.Kind.NIO);
        assertThat(Transport.detect("nio").kind()).isEqualTo(Transport.Kind.NIO);
    }

    @Test
    void anUnknownChoiceFallsBackToTheDefaultOrder() {
        assertThat(Transport.detect("dpdk; rm -rf /").kind()).isEqualTo(Transport.detect("io_uring").kind());
    }

    /** The test executions pick the transport by system property: make sure the proxier really runs on it. */
    @Test
    void theProxierRunsOnTheConfiguredTransport() {
        String wanted = System.getProperty("railyard.userspace.transport", "io_uring");
        assertThat(Transport.detect().kind()).isEqualTo(Transport.detect(wanted).kind());
        if ("epoll".equals(wanted) && Epoll.isAvailable()) {
            assertThat(Transport.detect().kind()).isEqualTo(Transport.Kind.EPOLL);
        }
    }
}
