package dev.railyard.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A tiny traffic agent that runs inside a network namespace ({@code ip netns exec NS java -cp ... NetnsAgent})
 * and is driven by one-line commands on stdin, answering exactly one line per command on stdout. It lets a
 * test act as clients and servers in several namespaces without one JVM having to enter namespaces itself
 * (a JVM cannot setns(2) its threads).
 *
 * <pre>
 * ping                                  -> pong
 * tcp-serve PORT NAME [BIND_IP]         -> ok PORT          (each connection gets "NAME CLIENT_IP:CLIENT_PORT\n", then close)
 * udp-serve PORT NAME [BIND_IP]         -> ok PORT          (each datagram is answered with "NAME SRC_IP:SRC_PORT")
 * tcp-stop PORT | udp-stop PORT         -> ok | error ...
 * tcp-get IP PORT TIMEOUT_MS [SRC_IP]   -> ok LINE | refused | timeout | unreachable | error MSG
 * udp-get IP PORT TIMEOUT_MS [SRC_IP]   -> ok REPLY | refused | timeout | unreachable | error MSG
 * sctp-listen                           -> ok               (from now on, records every SCTP INIT that arrives)
 * sctp-seen                             -> ok [SRC_IP SRC_PORT DST_PORT[,...]] (the INITs recorded since, then forgets them)
 * sctp-init IP PORT                     -> ok SRC_PORT      (sends one SCTP INIT, from a random source port)
 * quit                                  -> bye              (then exits; end of stdin also exits)
 * </pre>
 *
 * IPv6 addresses are written without brackets in commands and as {@code [fd00::2]:5000} in replies. PORT 0
 * for a server picks a free port, reported in the answer. Diagnostics go to stderr, never stdout. SCTP goes
 * through raw sockets ({@link RawSctp}), so it works on kernels without SCTP sockets: nothing answers an INIT,
 * but where it arrives, from whom, shows what NAT did to it.
 */
public final class NetnsAgent {

    static final String READY = "ready";

    private static final long STOP_WAIT_MS = 5_000;

    private final PrintStream out;
    private final Map<Integer, Serving> tcpServers = new ConcurrentHashMap<>();
    private final Map<Integer, Serving> udpServers = new ConcurrentHashMap<>();
    private final Queue<RawSctp.Seen> sctpSeen = new ConcurrentLinkedQueue<>();
    private final List<Thread> sctpListeners = new CopyOnWriteArrayList<>();
    private volatile boolean stopping;

    /**
     * A server socket and the thread that serves it. Stopping waits for the thread: a thread blocked in
     * accept(2) holds the kernel socket open after close() until it wakes, and a connection arriving in that
     * window would still be accepted and answered.
     */
    private record Serving(AutoCloseable socket, Thread loop) {}

    NetnsAgent(OutputStream out) {
        this.out = new PrintStream(out, true, StandardCharsets.UTF_8);
    }

    public static void main(String[] args) throws IOException {
        NetnsAgent agent = new NetnsAgent(System.out);
        // Anything else that prints (JVM warnings, stray library output) must not corrupt the protocol.
        System.setOut(System.err);
        agent.out.println(READY);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String answer = agent.handle(line.strip());
            agent.out.println(answer);
            if ("bye".equals(answer)) {
                break;
            }
        }
        agent.stopAll();
        System.exit(0);
    }

    /** Executes one command and returns its single-line answer. */
    String handle(String line) {
        String[] words = line.isEmpty() ? new String[0] : line.split("\\s+");
        if (words.length == 0) {
            return "error empty command";
        }
        try {
            return switch (words[0]) {
                case "ping" -> "pong";
                case "tcp-serve" -> tcpServe(words);
                case "udp-serve" -> udpServe(words);
                case "tcp-stop" -> stop(tcpServers.remove(port(words, 1)));
                case "udp-stop" -> stop(udpServers.remove(port(words, 1)));
                case "tcp-get" -> tcpGet(words);
                case "udp-get" -> udpGet(words);
                case "sctp-listen" -> sctpListen();
                case "sctp-seen" -> sctpSeen();
                case "sctp-init" -> "ok " + RawSctp.sendInit(AddressText.parse(words[1]), port(words, 2));
                case "quit" -> "bye";
                default -> "error unknown command '" + words[0] + "'";
            };
        } catch (IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
            return "error bad arguments for " + words[0] + ": " + oneLine(e.getMessage());
        } catch (IOException | RuntimeException e) {
            return "error " + oneLine(e.toString());
        }
    }

    private String tcpServe(String[] words) throws IOException {
        int port = port(words, 1);
        String name = words[2];
        ServerSocket server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(bindAddress(words, 3), port), 128);
        int bound = server.getLocalPort();
        Serving serving = new Serving(server, daemon("tcp-serve " + bound, () -> acceptLoop(server, name)));
        if (tcpServers.putIfAbsent(bound, serving) != null) {
            server.close();
            return "error already serving tcp " + bound;
        }
        serving.loop().start();
        return "ok " + bound;
    }

    private static void acceptLoop(ServerSocket server, String name) {
        while (!server.isClosed()) {
            try (Socket client = server.accept()) {
                String peer = AddressText.format((InetSocketAddress) client.getRemoteSocketAddress());
                client.getOutputStream().write((name + " " + peer + "\n").getBytes(StandardCharsets.UTF_8));
                client.getOutputStream().flush();
            } catch (IOException e) {
                if (!server.isClosed()) {
                    System.err.println("tcp-serve " + server.getLocalPort() + ": " + e);
                }
            }
        }
    }

    private String udpServe(String[] words) throws IOException {
        int port = port(words, 1);
        String name = words[2];
        DatagramSocket socket = new DatagramSocket(null);
        socket.setReuseAddress(true);
        socket.bind(new InetSocketAddress(bindAddress(words, 3), port));
        int bound = socket.getLocalPort();
        Serving serving = new Serving(socket, daemon("udp-serve " + bound, () -> answerLoop(socket, name)));
        if (udpServers.putIfAbsent(bound, serving) != null) {
            socket.close();
            return "error already serving udp " + bound;
        }
        serving.loop().start();
        return "ok " + bound;
    }

    private static void answerLoop(DatagramSocket socket, String name) {
        byte[] buffer = new byte[2048];
        while (!socket.isClosed()) {
            try {
                DatagramPacket request = new DatagramPacket(buffer, buffer.length);
                socket.receive(request);
                InetSocketAddress source = (InetSocketAddress) request.getSocketAddress();
                byte[] reply = (name + " " + AddressText.format(source)).getBytes(StandardCharsets.UTF_8);
                socket.send(new DatagramPacket(reply, reply.length, source));
            } catch (IOException e) {
                if (!socket.isClosed()) {
                    System.err.println("udp-serve " + socket.getLocalPort() + ": " + e);
                }
            }
        }
    }

    private static String tcpGet(String[] words) {
        InetAddress target = AddressText.parse(words[1]);
        int port = port(words, 2);
        int timeoutMs = timeout(words[3]);
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        try (Socket socket = new Socket()) {
            if (words.length > 4) {
                socket.bind(new InetSocketAddress(AddressText.parse(words[4]), 0));
            }
            socket.connect(new InetSocketAddress(target, port), timeoutMs);
            int remaining = (int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000L);
            socket.setSoTimeout(remaining);
            BufferedReader reader = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            String received = reader.readLine();
            return received == null ? "error connection closed without data" : "ok " + oneLine(received);
        } catch (SocketTimeoutException e) {
            return "timeout";
        } catch (IOException e) {
            return classify(e);
        }
    }

    private static String udpGet(String[] words) {
        InetAddress target = AddressText.parse(words[1]);
        int port = port(words, 2);
        int timeoutMs = timeout(words[3]);
        InetSocketAddress local = new InetSocketAddress(words.length > 4 ? AddressText.parse(words[4]) : null, 0);
        try (DatagramSocket socket = new DatagramSocket(local)) {
            // Connected, so that an ICMP port-unreachable comes back as PortUnreachableException ("refused"),
            // and so that, like a real client, only answers from the address we sent to are accepted.
            socket.connect(new InetSocketAddress(target, port));
            socket.setSoTimeout(timeoutMs);
            byte[] ping = "ping".getBytes(StandardCharsets.UTF_8);
            socket.send(new DatagramPacket(ping, ping.length));
            byte[] buffer = new byte[2048];
            DatagramPacket reply = new DatagramPacket(buffer, buffer.length);
            socket.receive(reply);
            return "ok " + oneLine(new String(buffer, 0, reply.getLength(), StandardCharsets.UTF_8));
        } catch (SocketTimeoutException e) {
            return "timeout";
        } catch (IOException e) {
            return classify(e);
        }
    }

    private String sctpListen() {
        if (!sctpListeners.isEmpty()) {
            return "ok";
        }
        for (boolean ipv6 : new boolean[] {false, true}) {
            RawSctp socket = RawSctp.open(ipv6);
            Thread listener = daemon("sctp-listen " + (ipv6 ? "ipv6" : "ipv4"), () -> {
                try (socket) {
                    while (!stopping) {
                        RawSctp.Seen seen = socket.receiveInit(200);
                        if (seen != null) {
                            sctpSeen.add(seen);
                        }
                    }
                } catch (RuntimeException e) {
                    System.err.println("sctp-listen: " + e);
                }
            });
            sctpListeners.add(listener);
            listener.start();
        }
        return "ok";
    }

    private String sctpSeen() {
        StringBuilder answer = new StringBuilder("ok");
        RawSctp.Seen seen;
        String separator = " ";
        while ((seen = sctpSeen.poll()) != null) {
            answer.append(separator).append(seen);
            separator = ",";
        }
        return answer.toString();
    }

    private static String classify(IOException e) {
        String message = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        if (e instanceof PortUnreachableException || message.contains("connection refused")) {
            return "refused";
        }
        if (e instanceof NoRouteToHostException || message.contains("unreachable") || message.contains("no route to host")) {
            return "unreachable";
        }
        if (e instanceof ConnectException && message.contains("timed out")) {
            return "timeout";
        }
        if (e instanceof SocketException && message.contains("timed out")) {
            return "timeout";
        }
        return "error " + oneLine(e.toString());
    }

    private static String stop(Serving serving) throws IOException {
        if (serving == null) {
            return "error not serving on that port";
        }
        try {
            serving.socket().close();
        } catch (IOException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
        try {
            serving.loop().join(STOP_WAIT_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (serving.loop().isAlive()) {
            return "error " + serving.loop().getName() + " did not stop within " + STOP_WAIT_MS + " ms";
        }
        return "ok";
    }

    private void stopAll() {
        stopping = true;
        tcpServers.values().forEach(serving -> closeQuietly(serving.socket()));
        udpServers.values().forEach(serving -> closeQuietly(serving.socket()));
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception ignored) {
            // Exiting anyway.
        }
    }

    private static InetAddress bindAddress(String[] words, int index) {
        return words.length > index ? AddressText.parse(words[index]) : null;
    }

    private static int port(String[] words, int index) {
        int port = Integer.parseInt(words[index]);
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        return port;
    }

    private static int timeout(String text) {
        int timeout = Integer.parseInt(text);
        if (timeout <= 0 || timeout > 600_000) {
            throw new IllegalArgumentException("TIMEOUT_MS must be 1..600000: " + timeout);
        }
        return timeout;
    }

    private static Thread daemon(String name, Runnable body) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        return thread;
    }

    private static String oneLine(String text) {
        return String.valueOf(text).replace('\n', ' ').replace('\r', ' ');
    }
}
