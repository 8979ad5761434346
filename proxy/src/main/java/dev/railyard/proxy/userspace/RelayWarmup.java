package dev.railyard.proxy.userspace;

import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;
import io.netty.channel.Channel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Relays synthetic loopback traffic through a throwaway listener after the proxier's first sync, so that the JIT
 * compiles the relay with connections opening, half-closing, closing and resetting in its profile, before real
 * traffic.
 *
 * <p>Why: C2 leaves out the branches its profile never saw taken. Compiled under a few long-lived connections,
 * the event loop's hot methods lack the accept and close paths; the first new connection after that traps, the
 * whole relay path drops back to the interpreter and is compiled again while it serves traffic. In the capture
 * load run (issue 14) that cost the first round after the run's own 20 s wrk warm-up 1.14x HAProxy's CPU per
 * request and 2.7x its p99, every run, while later rounds were at 0.84-0.99x (epoll; io_uring without this
 * warm-up: 0.97x and 1.01x HAProxy's req/s in the first two rounds, 1.13-1.14x after).
 *
 * <p>The clients and the endpoint are plain blocking JDK sockets on their own threads, so the only Netty code the
 * traffic runs (and profiles) is the proxier's own: accept, dial, relay, close. Bounded by an exchange count and a
 * deadline; {@link #stop()} ends it early.
 */
final class RelayWarmup {
    private static final Logger log = LoggerFactory.getLogger(RelayWarmup.class);
    /** Concurrent client connections: enough that the event loops see several ready sockets per wake-up. */
    private static final int CLIENTS = 4;
    /** Exchanges per connection before it ends, so that connections come and go throughout. */
    private static final int EXCHANGES_PER_CONNECTION = 40;
    private static final int MESSAGE_BYTES = 128;
    private static final int SOCKET_TIMEOUT_MILLIS = 2_000;
    /** A warm-up is not worth a fight: a client gives up after this many failed connections in a row. */
    private static final int MAX_FAILURES_IN_A_ROW = 5;
    private static final long RETRY_PAUSE_MILLIS = 100;

    private final int exchanges;
    private final Duration budget;
    private final AtomicBoolean stopped = new AtomicBoolean();
    private final AtomicInteger exchanged = new AtomicInteger();
    private final AtomicInteger connections = new AtomicInteger();
    private final ExecutorService threads = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "userspace-relay-warmup");
        thread.setDaemon(true);
        return thread;
    });
    private volatile ServerSocket endpoint;
    private volatile Channel listener;

    /**
     * @param exchanges request/response exchanges to relay in all
     * @param budget    the warm-up ends after this long even if the exchanges are not done
     */
    RelayWarmup(int exchanges, Duration budget) {
        this.exchanges = exchanges;
        this.budget = budget;
    }

    /** Opens a listener for a route, as a service port's listener is opened. */
    interface Listen {
        Channel open(ServiceRoute route) throws IOException;
    }

    /** Runs the warm-up on its own threads and returns at once. */
    void start(Listen listen) {
        threads.execute(() -> {
            try {
                run(listen);
            } catch (IOException | RuntimeException e) {
                if (!stopped.get()) {
                    log.warn("userspace proxy: relay warm-up ended early: {}", e.toString());
                }
            } finally {
                stop();
            }
        });
    }

    /** Exchanges relayed so far. */
    int exchanged() {
        return exchanged.get();
    }

    /** Connections opened through the proxier so far. */
    int connections() {
        return connections.get();
    }

    /**
     * Ends the warm-up: closes its listener and endpoint and interrupts its threads; a client leaves at its next
     * exchange, or when the proxier closes the relay's connections.
     */
    void stop() {
        if (!stopped.compareAndSet(false, true)) {
            return;
        }
        Channel channel = listener;
        if (channel != null) {
            channel.close();
        }
        closeQuietly(endpoint);
        threads.shutdownNow();
    }

    /** Whether the warm-up's listener is open (it is closed once the warm-up ends). */
    boolean listening() {
        Channel channel = listener;
        return channel != null && channel.isOpen();
    }

    /** Whether every thread of the warm-up has finished. */
    boolean awaitTermination(Duration timeout) throws InterruptedException {
        return threads.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void run(Listen listen) throws IOException {
        long started = System.nanoTime();
        long deadline = started + budget.toNanos();
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (ServerSocket echo = new ServerSocket(0, CLIENTS * 4, loopback)) {
            endpoint = echo;
            if (stopped.get()) {
                return;
            }
            threads.execute(() -> acceptEchoes(echo));
            ServicePortName name = ServicePortName.of("railyard", "relay-warmup", "tcp", Protocol.TCP);
            ServicePort service = ServicePort.builder(name, loopback.getHostAddress(), echo.getLocalPort()).build();
            Endpoint target = Endpoint.builder(name, loopback.getHostAddress(), echo.getLocalPort()).build();
            ServiceRoute route = new ServiceRoute(IpFamily.V4, service,
                    UsableEndpoints.select(service, List.of(target), ""), 1, System::nanoTime, null);
            Channel channel = listen.open(route);
            listener = channel;
            try {
                if (stopped.get()) {
                    return;
                }
                relay(new InetSocketAddress(loopback, ((InetSocketAddress) channel.localAddress()).getPort()),
                        deadline);
            } finally {
                // Waited for, so that a finished warm-up has no listener left (its close runs on the event loop).
                channel.close().awaitUninterruptibly(SOCKET_TIMEOUT_MILLIS);
            }
        }
        log.info("userspace proxy: relay warm-up: {} exchanges over {} connections in {} ms", exchanged.get(),
                connections.get(), (System.nanoTime() - started) / 1_000_000);
    }

    private void relay(InetSocketAddress address, long deadline) {
        List<Future<?>> clients = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            clients.add(threads.submit(() -> runClient(address, deadline)));
        }
        for (Future<?> client : clients) {
            try {
                client.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (ExecutionException e) {
                log.debug("userspace proxy: relay warm-up client failed: {}", e.getCause().toString());
            }
        }
    }

    private void runClient(InetSocketAddress address, long deadline) {
        byte[] request = new byte[MESSAGE_BYTES];
        byte[] reply = new byte[MESSAGE_BYTES];
        int ending = 0;
        int failuresInARow = 0;
        while (!stopped.get() && exchanged.get() < exchanges && System.nanoTime() < deadline) {
            try (Socket socket = new Socket()) {
                socket.setTcpNoDelay(true);
                socket.setSoTimeout(SOCKET_TIMEOUT_MILLIS);
                socket.connect(address, SOCKET_TIMEOUT_MILLIS);
                connections.incrementAndGet();
                InputStream in = socket.getInputStream();
                OutputStream out = socket.getOutputStream();
                for (int i = 0; i < EXCHANGES_PER_CONNECTION && !stopped.get(); i++) {
                    request[0] = (byte) i;
                    out.write(request);
                    readFully(in, reply);
                    exchanged.incrementAndGet();
                }
                end(socket, in, ending++ % 3);
                failuresInARow = 0;
            } catch (IOException e) {
                if (stopped.get() || ++failuresInARow >= MAX_FAILURES_IN_A_ROW) {
                    return;
                }
                log.debug("userspace proxy: relay warm-up connection failed: {}", e.toString());
                try {
                    Thread.sleep(RETRY_PAUSE_MILLIS);
                } catch (InterruptedException interrupted) {
                    return; // stop() interrupts
                }
            }
        }
    }

    /** Ends connections each of the ways real clients do, so that every way is in the profile. */
    private static void end(Socket socket, InputStream in, int how) throws IOException {
        switch (how) {
            case 0 -> { // half-close, then wait for the endpoint's FIN relayed back
                socket.shutdownOutput();
                in.transferTo(OutputStream.nullOutputStream()); // until the relayed end of input
            }
            case 1 -> socket.setSoLinger(true, 0); // reset on close
            default -> { } // plain close
        }
    }

    private void acceptEchoes(ServerSocket echo) {
        while (!stopped.get()) {
            Socket socket;
            try {
                socket = echo.accept();
            } catch (IOException e) {
                return; // closed by stop()
            }
            try {
                threads.execute(() -> echo(socket));
            } catch (RejectedExecutionException e) {
                closeQuietly(socket);
                return;
            }
        }
    }

    /** The endpoint: sends back what it reads; passes a half-close on; a reset just ends it. */
    private static void echo(Socket socket) {
        try (socket) {
            socket.setSoTimeout(SOCKET_TIMEOUT_MILLIS);
            socket.getInputStream().transferTo(socket.getOutputStream());
            socket.shutdownOutput();
        } catch (IOException e) {
            // the client reset, or the warm-up stopped
        }
    }

    private static void readFully(InputStream in, byte[] into) throws IOException {
        if (in.readNBytes(into, 0, into.length) < into.length) {
            throw new SocketException("relay ended early");
        }
    }

    private static void closeQuietly(AutoCloseable closeable) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (Exception e) {
            // already closed
        }
    }
}
