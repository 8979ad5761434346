package dev.railyard.proxy.userspace;

import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.testkit.Commands;
import dev.railyard.testkit.PrivilegeDecision;
import dev.railyard.testkit.Prerequisites;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * 10,000 connections held open through the proxy at once, then closed: every one is relayed, and afterwards the
 * process has no more descriptors open than before. Client, proxy and backend share this JVM, so it needs four
 * descriptors per connection; as root the test first tries to raise its own limit with prlimit. Where the limit
 * stays lower (a container without CAP_SYS_RESOURCE, say), it runs as many connections as the limit allows and
 * says so; it skips only below {@value #MIN_CONNECTIONS}.
 */
class UserspaceConnectionLoadTest {
    private static final int CONNECTIONS_WANTED = 10_000;
    private static final int MIN_CONNECTIONS = 1_000;
    /** Descriptors the JVM, Maven's fork and the event loops hold besides the connections. */
    private static final long RESERVE = 2_000;
    /** Descriptors the JVM itself may open meanwhile (class loading, JIT, GC threads). */
    private static final long SLACK = 32;
    private static final long HEAP_LIMIT = 200L << 20;

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void tenThousandConcurrentConnectionsThenNoDescriptorLeftOpen() throws Exception {
        int connections = connectionsTheLimitAllows();
        Transport transport = Transport.detect();
        EventLoopGroup backendLoops = transport.newEventLoopGroup(1);
        UserspaceProxier proxier = new UserspaceProxier(UserspaceConfig.builder(Services.NODE,
                InetAddress.getByName("127.0.0.1"), ListenMode.SERVICE_ADDRESSES).eventLoopThreads(2).build());
        SocketChannel[] clients = new SocketChannel[connections];
        try {
            Channel backend = new ServerBootstrap().group(backendLoops).channel(transport.serverSocketChannel())
                    .childHandler(new Echo()).bind(new InetSocketAddress("127.78.2.1", 0)).sync().channel();
            ServicePort service = ServicePort.builder(Services.name("load", Protocol.TCP), "127.77.30.1", 8080).build();
            proxier.sync(Services.single(service, Services.endpoints(service.name(),
                    List.of((InetSocketAddress) backend.localAddress()))));
            InetSocketAddress address = new InetSocketAddress("127.77.30.1", 8080);

            long heapBefore = usedHeapAfterGc();
            long baseline = openDescriptors();
            ByteBuffer one = ByteBuffer.allocate(1);
            for (int i = 0; i < connections; i++) {
                clients[i] = SocketChannel.open(address);
                clients[i].write(one.clear().put((byte) i).flip());
            }
            for (int i = 0; i < connections; i++) {
                one.clear();
                while (one.hasRemaining()) {
                    assertThat(clients[i].read(one)).as("connection %d echoes", i).isNotNegative();
                }
                assertThat(one.get(0)).isEqualTo((byte) i);
            }
            assertThat(proxier.trafficStats().get(0).connectionsActive()).isEqualTo(connections);
            long peak = openDescriptors();
            assertThat(peak - baseline).as("client, proxy and backend sockets").isGreaterThanOrEqualTo(4L * connections);
            long heapHeld = usedHeapAfterGc() - heapBefore;
            assertThat(heapHeld).as("heap held by %d idle connections, both ends included", connections)
                    .isLessThan(HEAP_LIMIT * connections / CONNECTIONS_WANTED);

            for (SocketChannel client : clients) {
                client.close();
            }
            Await.until(() -> "connections closed: " + proxier.trafficStats().get(0).connectionsActive()
                            + " still active, " + (openDescriptors() - baseline) + " descriptors above the baseline",
                    Duration.ofSeconds(30),
                    () -> proxier.trafficStats().get(0).connectionsActive() == 0
                            && openDescriptors() <= baseline + SLACK);
        } finally {
            for (SocketChannel client : clients) {
                if (client != null) {
                    client.close();
                }
            }
            proxier.close();
            backendLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5_000);
        }
    }

    @ChannelHandler.Sharable
    private static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg, ctx.voidPromise());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private static long openDescriptors() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        } catch (IOException e) {
            throw new AssertionError("cannot list /proc/self/fd", e);
        }
    }

    private static long usedHeapAfterGc() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /**
     * Raises RLIMIT_NOFILE of this JVM when it is too low and we are root, then sizes the run to the limit;
     * skips (or fails in CI) when not even {@value #MIN_CONNECTIONS} connections fit.
     */
    private static int connectionsTheLimitAllows() throws Exception {
        long needed = 4L * CONNECTIONS_WANTED + RESERVE;
        long limit = descriptorLimit();
        if (limit < needed && Prerequisites.effectiveUid() == 0 && Commands.locate("prlimit").isPresent()) {
            long target = Math.max(needed, 65_536);
            Process prlimit = new ProcessBuilder("prlimit", "--pid", Long.toString(ProcessHandle.current().pid()),
                    "--nofile=" + target + ":" + target).redirectErrorStream(true).start();
            prlimit.waitFor(10, TimeUnit.SECONDS);
            limit = descriptorLimit();
        }
        int connections = (int) Math.min(CONNECTIONS_WANTED, (limit - RESERVE) / 4);
        PrivilegeDecision decision = PrivilegeDecision.decide(connections >= MIN_CONNECTIONS ? List.of()
                        : List.of("an open-file limit of at least " + (4L * MIN_CONNECTIONS + RESERVE)
                        + " (ulimit -n is " + limit + ")"),
                PrivilegeDecision.isRequired(System.getProperty(PrivilegeDecision.REQUIRE_PROPERTY)));
        assertThat(decision.verdict()).as(decision.message()).isNotEqualTo(PrivilegeDecision.Verdict.FAIL);
        Assumptions.assumeTrue(decision.verdict() == PrivilegeDecision.Verdict.RUN, decision.message());
        if (connections < CONNECTIONS_WANTED) {
            System.err.printf("UserspaceConnectionLoadTest: open-file limit %d (not raisable here) allows %d of"
                    + " %d connections%n", limit, connections, CONNECTIONS_WANTED);
        }
        return connections;
    }

    /** The soft "Max open files" limit from /proc/self/limits. */
    private static long descriptorLimit() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
            if (line.startsWith("Max open files")) {
                String soft = line.substring("Max open files".length()).strip().split("\\s+")[0];
                return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
            }
        }
        throw new IOException("no 'Max open files' line in /proc/self/limits");
    }
}
