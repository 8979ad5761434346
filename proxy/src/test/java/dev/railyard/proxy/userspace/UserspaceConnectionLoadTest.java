package dev.railyard.proxy.userspace;

import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.testkit.Commands;
import dev.railyard.testkit.PrivilegeDecision;
import dev.railyard.testkit.Prerequisites;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * 10,000 connections held open through the proxy at once, then closed: every one is relayed, and afterwards the
 * proxy's process has no more descriptors open than before. Clients and backend run in a process of their own
 * ({@link ConnectionLoadPeer}), so this JVM needs two descriptors per connection, the proxy's. As root the test
 * first tries to raise the open-file limit with prlimit; where it stays lower (a container without
 * CAP_SYS_RESOURCE: 20,000 here, which two descriptors per connection plus the JVM's own just exceed) it runs as
 * many connections as the limit allows and says so, and skips only below {@value #MIN_CONNECTIONS}.
 */
class UserspaceConnectionLoadTest {
    private static final int CONNECTIONS_WANTED = 10_000;
    private static final int MIN_CONNECTIONS = 1_000;
    /** Descriptors this JVM may open during the run besides the connections (class loading, JIT, GC threads). */
    private static final long SLACK = 64;
    private static final long HEAP_LIMIT = 200L << 20;

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void tenThousandConcurrentConnectionsThenNoDescriptorLeftOpen() throws Exception {
        raiseDescriptorLimitIfRoot();
        UserspaceProxier proxier = new UserspaceProxier(UserspaceConfig.builder(Services.NODE,
                InetAddress.getByName("127.0.0.1"), ListenMode.SERVICE_ADDRESSES).eventLoopThreads(2).build());
        Process peer = startPeer();
        try {
            BufferedReader answers = new BufferedReader(new InputStreamReader(peer.getInputStream(),
                    StandardCharsets.UTF_8));
            PrintStream commands = new PrintStream(peer.getOutputStream(), true, StandardCharsets.UTF_8);
            int backendPort = Integer.parseInt(expect(answers, "backend "));
            ServicePort service = ServicePort.builder(Services.name("load", Protocol.TCP), "127.77.30.1", 8080).build();
            proxier.sync(Services.single(service, Services.endpoints(service.name(),
                    List.of(new InetSocketAddress(ConnectionLoadPeer.BACKEND_IP, backendPort)))));

            long heapBefore = usedHeapAfterGc();
            long baseline = openDescriptors();
            int connections = connectionsTheLimitAllows(baseline);
            commands.println("open " + connections + " 127.77.30.1 8080");
            String answer = answers.readLine();
            assertThat(answer).as("every connection echoed through the proxy (its counters: %s)",
                    proxier.trafficStats().get(0)).isEqualTo("ok " + connections);

            assertThat(proxier.trafficStats().get(0).connectionsActive()).isEqualTo(connections);
            long peak = openDescriptors();
            assertThat(peak - baseline).as("the proxy's two sockets per connection")
                    .isGreaterThanOrEqualTo(2L * connections);
            long heapHeld = usedHeapAfterGc() - heapBefore;
            System.err.printf("UserspaceConnectionLoadTest: %d connections, %d proxy descriptors, %.1f MB heap%n",
                    connections, peak - baseline, heapHeld / 1e6);
            assertThat(heapHeld).as("heap held by %d idle proxied connections", connections)
                    .isLessThan(HEAP_LIMIT * connections / CONNECTIONS_WANTED);

            commands.println("close");
            assertThat(answers.readLine()).isEqualTo("ok");
            Await.until(() -> "connections closed: " + proxier.trafficStats().get(0).connectionsActive()
                            + " still active, " + (openDescriptors() - baseline) + " descriptors above the baseline",
                    Duration.ofSeconds(30),
                    () -> proxier.trafficStats().get(0).connectionsActive() == 0
                            && openDescriptors() <= baseline + SLACK);
        } finally {
            peer.getOutputStream().close();
            if (!peer.waitFor(10, TimeUnit.SECONDS)) {
                peer.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            proxier.close();
        }
    }

    private static Process startPeer() throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                ConnectionLoadPeer.class.getName()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    private static String expect(BufferedReader answers, String prefix) throws IOException {
        String line = answers.readLine();
        assertThat(line).as("the load peer's first line").startsWith(prefix);
        return line.substring(prefix.length()).strip();
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

    /** As root, lifts this JVM's RLIMIT_NOFILE (and so the peer's, started after) where the system lets it. */
    private static void raiseDescriptorLimitIfRoot() throws Exception {
        long needed = 2L * CONNECTIONS_WANTED + 1_000;
        if (descriptorLimit() < needed && Prerequisites.effectiveUid() == 0 && Commands.locate("prlimit").isPresent()) {
            long target = Math.max(needed, 65_536);
            Process prlimit = new ProcessBuilder("prlimit", "--pid", Long.toString(ProcessHandle.current().pid()),
                    "--nofile=" + target + ":" + target).redirectErrorStream(true).start();
            prlimit.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Sizes the run to the limit; skips (or fails in CI) when not even {@value #MIN_CONNECTIONS} fit. */
    private static int connectionsTheLimitAllows(long openNow) throws IOException {
        long limit = descriptorLimit();
        int connections = (int) Math.min(CONNECTIONS_WANTED, (limit - openNow - SLACK) / 2);
        PrivilegeDecision decision = PrivilegeDecision.decide(connections >= MIN_CONNECTIONS ? List.of()
                        : List.of("an open-file limit of at least " + (2L * MIN_CONNECTIONS + openNow + SLACK)
                        + " (ulimit -n is " + limit + ")"),
                PrivilegeDecision.isRequired(System.getProperty(PrivilegeDecision.REQUIRE_PROPERTY)));
        assertThat(decision.verdict()).as(decision.message()).isNotEqualTo(PrivilegeDecision.Verdict.FAIL);
        Assumptions.assumeTrue(decision.verdict() == PrivilegeDecision.Verdict.RUN, decision.message());
        if (connections < CONNECTIONS_WANTED) {
            System.err.printf("UserspaceConnectionLoadTest: open-file limit %d (not raisable here), %d open already:"
                    + " room for %d of %d connections%n", limit, openNow, connections, CONNECTIONS_WANTED);
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
