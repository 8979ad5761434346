package dev.railyard.proxy.userspace;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A blocking TCP endpoint for behaviour tests: every accepted connection runs a {@link Script} on its own
 * thread. The greeting script names the backend, which tells a client where the proxy sent it.
 */
final class TestBackend implements AutoCloseable {
    /** What the backend does with one accepted connection. */
    interface Script {
        void run(TestBackend backend, Socket socket) throws IOException;
    }

    /** Writes "name\n", then echoes until the client's FIN, then closes. */
    static final Script GREET_AND_ECHO = (backend, socket) -> {
        socket.getOutputStream().write((backend.name + "\n").getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        socket.getInputStream().transferTo(socket.getOutputStream());
        socket.close();
    };

    final String name;
    private final ServerSocket server;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread thread = new Thread(r, "test-backend");
        thread.setDaemon(true);
        return thread;
    });
    private final List<Socket> accepted = new CopyOnWriteArrayList<>();
    private final AtomicInteger acceptCount = new AtomicInteger();
    /** Failures inside scripts, so that a test can assert there were none. */
    final LinkedBlockingQueue<Throwable> errors = new LinkedBlockingQueue<>();

    private TestBackend(String name, ServerSocket server, Script script) {
        this.name = name;
        this.server = server;
        threads.execute(() -> acceptLoop(script));
    }

    static TestBackend start(String name, String ip, Script script) throws IOException {
        ServerSocket server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getByName(ip), 0), 1024);
        return new TestBackend(name, server, script);
    }

    private void acceptLoop(Script script) {
        while (!server.isClosed()) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                return;
            }
            accepted.add(socket);
            acceptCount.incrementAndGet();
            threads.execute(() -> {
                try {
                    script.run(this, socket);
                } catch (IOException | RuntimeException e) {
                    errors.add(e);
                }
            });
        }
    }

    InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    int acceptCount() {
        return acceptCount.get();
    }

    List<Socket> accepted() {
        return accepted;
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket socket : accepted) {
            socket.close();
        }
        threads.shutdownNow();
        try {
            threads.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
