package dev.railyard.proxy.userspace;

import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ServicePort;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Megabytes both ways through every relay path (copying, and spliced under epoll), checked byte for byte by
 * length and CRC; each side's FIN follows its data, and the backend starts reading late, so that the client's FIN
 * reaches the proxy while data is still queued in front of it.
 */
class UserspaceBulkTransferTest {
    private static final int PORT = 8080;
    private static final long UP = 48L << 20;
    private static final long DOWN = 32L << 20;

    private UserspaceProxier proxier;
    private TestBackend backend;

    static List<RelayTuning> tunings() {
        return List.of(RelayTuning.DEFAULT, RelayTuning.NETTY_DEFAULTS);
    }

    @AfterEach
    void tearDown() throws IOException {
        if (proxier != null) {
            proxier.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    /** Reads to EOF, answers with length and CRC of what it read, then sends DOWN bytes and its FIN. */
    private static final TestBackend.Script COUNT_THEN_SEND = (b, socket) -> {
        try {
            Thread.sleep(300); // let the client's data and FIN pile up in front of the proxy
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long[] got = drain(socket.getInputStream());
        DataOutputStream out = new DataOutputStream(socket.getOutputStream());
        out.writeLong(got[0]);
        out.writeLong(got[1]);
        send(out, DOWN, 2);
        socket.shutdownOutput();
        socket.getInputStream().read(); // the client closes after reading everything
        socket.close();
    };

    @ParameterizedTest
    @MethodSource("tunings")
    void megabytesBothWaysArriveIntactAndFinsFollowTheData(RelayTuning tuning) throws Exception {
        backend = TestBackend.start("bulk", "127.78.0.1", COUNT_THEN_SEND);
        ServicePort service = ServicePort.builder(Services.name("bulk", Protocol.TCP), "127.77.9.1", PORT).build();
        UserspaceConfig config = UserspaceConfig.builder(Services.NODE, InetAddress.getByName("127.0.0.1"),
                ListenMode.SERVICE_ADDRESSES).eventLoopThreads(2).connectTimeout(Duration.ofSeconds(1)).build();
        proxier = new UserspaceProxier(config, System::nanoTime, tuning);
        proxier.sync(Services.single(service, Services.endpoints(service.name(),
                List.of(backend.address()))));

        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.77.9.1", PORT), 5_000);
            socket.setSoTimeout(20_000);
            CompletableFuture<Long> sent = CompletableFuture.supplyAsync(() -> {
                try {
                    long crc = send(socket.getOutputStream(), UP, 1);
                    socket.shutdownOutput();
                    return crc;
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            DataInputStream in = new DataInputStream(socket.getInputStream());
            long backendGot = in.readLong();
            long backendCrc = in.readLong();
            long downCrc = send(OutputStream.nullOutputStream(), DOWN, 2);
            long[] down = drain(in); // to the backend's FIN
            assertThat(backendGot).as("bytes the backend received").isEqualTo(UP);
            assertThat(backendCrc).isEqualTo(sent.get(20, TimeUnit.SECONDS));
            assertThat(down[0]).as("bytes the client received").isEqualTo(DOWN);
            assertThat(down[1]).isEqualTo(downCrc);
        }
        assertThat(backend.errors).isEmpty();
        Await.until("connection closed", Duration.ofSeconds(5), () -> proxier.trafficStats().get(0).connectionsActive() == 0);
    }

    /** Writes {@code total} pseudo-random bytes; returns their CRC. */
    private static long send(OutputStream out, long total, long seed) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        CRC32 crc = new CRC32();
        byte[] chunk = new byte[64 * 1024];
        for (long left = total; left > 0; ) {
            int n = (int) Math.min(chunk.length, left);
            random.nextBytes(chunk);
            crc.update(chunk, 0, n);
            out.write(chunk, 0, n);
            left -= n;
        }
        out.flush();
        return crc.getValue();
    }

    /** Reads to EOF: {length, CRC}. */
    private static long[] drain(InputStream in) throws IOException {
        CRC32 crc = new CRC32();
        byte[] buf = new byte[64 * 1024];
        long total = 0;
        for (int n; (n = in.read(buf)) >= 0; ) {
            crc.update(buf, 0, n);
            total += n;
        }
        return new long[] {total, crc.getValue()};
    }
}
