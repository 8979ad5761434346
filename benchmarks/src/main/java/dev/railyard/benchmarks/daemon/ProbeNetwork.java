package dev.railyard.benchmarks.daemon;

import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.VethLink;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The node and one pod, for measuring when a change reaches real traffic:
 * <ul>
 *   <li>a fresh network namespace "node", which the daemon programs, and a fresh "pod" namespace, joined by a veth
 *       pair: node {@value #NODE_ADDRESS}/24, pod {@value #POD_PRIMARY}/24 plus a pool of further addresses on the
 *       same interface (added up front, so a new endpoint is served the moment the rules point at it); the node's
 *       default route goes to the pod, so a cluster IP has a route before the nat output hook rewrites it;</li>
 *   <li>in the pod, one TCP server bound to the wildcard address that answers each connection with the address it
 *       was reached at and closes (a thread of this JVM inside the pod's namespace);</li>
 *   <li>in the node, the client: a thread of this JVM inside the node's namespace, so its connections go through
 *       the daemon's nat output rules (the path with the least in between: no forwarding, no second client
 *       process, and its timestamps are {@link System#nanoTime()} of the JVM whose sync hook stamps "applied").</li>
 * </ul>
 * The pool is 10.244.250.0/24 of the generator's pod CIDR, which the generator never hands out (its node slices
 * end below 10.244.240.0); the client's source, {@value #NODE_ADDRESS}, is inside the cluster CIDR, so no rule
 * masquerades it.
 */
final class ProbeNetwork implements AutoCloseable {
    static final String NODE_ADDRESS = "10.244.250.254";
    static final String POD_PRIMARY = "10.244.250.1";
    private static final String POOL_PREFIX = "10.244.250.";
    private static final int POOL_FIRST = 10;

    private final NetworkNamespace node;
    private final NetworkNamespace pod;
    private final List<String> pool;
    private final NamespaceThread serverThread;
    private final NamespaceThread client;
    private final ServerSocket server;
    private final Future<Void> serving;

    private ProbeNetwork(NetworkNamespace node, NetworkNamespace pod, List<String> pool, NamespaceThread serverThread,
                         NamespaceThread client, ServerSocket server, Future<Void> serving) {
        this.node = node;
        this.pod = pod;
        this.pool = pool;
        this.serverThread = serverThread;
        this.client = client;
        this.server = server;
        this.serving = serving;
    }

    /** Creates both namespaces, the link, {@code poolSize} endpoint addresses and the server on {@code port}. */
    static ProbeNetwork create(int poolSize, int port) throws Exception {
        if (poolSize < 2 || poolSize > 240) {
            throw new IllegalArgumentException("pool size must be within 2-240, not " + poolSize);
        }
        NetworkNamespace node = NetworkNamespace.create();
        NetworkNamespace pod = null;
        NamespaceThread serverThread = null;
        NamespaceThread client = null;
        try {
            pod = NetworkNamespace.create();
            VethLink link = VethLink.between(node, pod).names("veth-pod", "eth0")
                    .ipv4(NODE_ADDRESS + "/24", POD_PRIMARY + "/24").create();
            link.a().addRoute("default", POD_PRIMARY);
            List<String> pool = new ArrayList<>(poolSize);
            StringBuilder batch = new StringBuilder();
            for (int i = 0; i < poolSize; i++) {
                String address = POOL_PREFIX + (POOL_FIRST + i);
                pool.add(address);
                batch.append("address add ").append(address).append("/24 dev eth0\n");
            }
            pod.exec(List.of("ip", "-batch", "-"), Duration.ofSeconds(30), batch.toString().getBytes(
                    StandardCharsets.US_ASCII)).requireSuccess();
            serverThread = NamespaceThread.enter(pod.name(), "probe-server");
            ServerSocket server = serverThread.call(() -> {
                ServerSocket socket = new ServerSocket();
                socket.setReuseAddress(true);
                socket.bind(new InetSocketAddress(InetAddress.getByName("0.0.0.0"), port), 4096);
                return socket;
            }, 10_000);
            Future<Void> serving = serverThread.submit(() -> serve(server));
            client = NamespaceThread.enter(node.name(), "probe-client");
            return new ProbeNetwork(node, pod, List.copyOf(pool), serverThread, client, server, serving);
        } catch (Exception | Error e) {
            closeQuietly(client);
            closeQuietly(serverThread);
            if (pod != null) {
                pod.close();
            }
            node.close();
            throw e;
        }
    }

    /** Answers every connection with the 4 bytes of the address it reached, then closes; until the socket closes. */
    private static Void serve(ServerSocket server) {
        byte[] none = new byte[0];
        while (!server.isClosed()) {
            try (Socket connection = server.accept()) {
                byte[] address = connection.getLocalAddress().getAddress();
                OutputStream out = connection.getOutputStream();
                out.write(address.length == 4 ? address : none);
                out.flush();
            } catch (IOException e) {
                // A client that gave up (reset) or the server closed: go on, or the loop ends.
            }
        }
        return null;
    }

    NetworkNamespace node() {
        return node;
    }

    NetworkNamespace pod() {
        return pod;
    }

    /** The pod's endpoint addresses, all served. */
    List<String> pool() {
        return pool;
    }

    NamespaceThread client() {
        return client;
    }

    /**
     * From the client thread only: one connection to {@code ip:port}; the address that answered, or null if none
     * did within the timeouts.
     */
    static String ask(InetSocketAddress target, int timeoutMillis) {
        try (Socket socket = new Socket()) {
            socket.setTcpNoDelay(true);
            // Reset on close: neither end keeps a TIME_WAIT socket, so thousands of probes leave nothing behind.
            socket.setSoLinger(true, 0);
            socket.connect(target, timeoutMillis);
            socket.setSoTimeout(timeoutMillis);
            InputStream in = socket.getInputStream();
            byte[] address = in.readNBytes(4);
            return address.length == 4 ? InetAddress.getByAddress(address).getHostAddress() : null;
        } catch (SocketTimeoutException e) {
            return null;
        } catch (IOException e) {
            return null;
        }
    }

    /** What {@link #awaitAnswerFrom} saw. */
    record Outcome(long answeredAt, int attempts, int unanswered, String lastAnswer) {
        boolean answered() {
            return answeredAt != 0;
        }
    }

    /**
     * From the client thread only: new connections to {@code target}, one after the other, until one is answered
     * by {@code wanted} or {@code deadline} (nanoTime) passes. The first 20 ms back to back (at most
     * {@code minGapNanos} apart); after that the gap grows with the time waited (1/200 of it), so the resolution
     * stays within 0.5 % while a slow path does not get thousands of connections a second.
     */
    static Outcome awaitAnswerFrom(InetSocketAddress target, String wanted, long startedAt, long deadline,
                                   int timeoutMillis, long minGapNanos) {
        int attempts = 0;
        int unanswered = 0;
        String last = null;
        while (System.nanoTime() < deadline && attempts < 1_000_000) {
            String answer = ask(target, timeoutMillis);
            long now = System.nanoTime();
            attempts++;
            if (answer == null) {
                unanswered++;
            } else {
                last = answer;
                if (answer.equals(wanted)) {
                    return new Outcome(now, attempts, unanswered, answer);
                }
            }
            long waited = now - startedAt;
            long gap = waited < 20_000_000L ? minGapNanos : Math.max(minGapNanos, waited / 200);
            if (gap > 0) {
                LockSupport.parkNanos(gap);
            }
        }
        return new Outcome(0, attempts, unanswered, last);
    }

    /** Deletes both namespaces (and the link), after stopping the client and the server. */
    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        try {
            serving.get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            // the namespaces go in any case
        }
        closeQuietly(client);
        closeQuietly(serverThread);
        try {
            pod.close();
        } finally {
            node.close();
        }
    }

    private static void closeQuietly(NamespaceThread thread) {
        if (thread == null) {
            return;
        }
        try {
            thread.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
