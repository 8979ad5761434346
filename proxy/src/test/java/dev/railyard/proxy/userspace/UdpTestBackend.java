package dev.railyard.proxy.userspace;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** A UDP endpoint that answers each datagram with "name:payload" and remembers which addresses sent. */
final class UdpTestBackend implements AutoCloseable {
    final String name;
    private final DatagramSocket socket;
    private final Thread thread;
    final Set<InetSocketAddress> senders = ConcurrentHashMap.newKeySet();

    UdpTestBackend(String name, String ip) throws IOException {
        this.name = name;
        this.socket = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(ip), 0));
        this.thread = new Thread(this::serve, "udp-backend-" + name);
        thread.setDaemon(true);
        thread.start();
    }

    private void serve() {
        byte[] buffer = new byte[2048];
        while (!socket.isClosed()) {
            DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
            try {
                socket.receive(packet);
                senders.add((InetSocketAddress) packet.getSocketAddress());
                byte[] reply = (name + ":" + new String(packet.getData(), 0, packet.getLength(),
                        StandardCharsets.US_ASCII)).getBytes(StandardCharsets.US_ASCII);
                socket.send(new DatagramPacket(reply, reply.length, packet.getSocketAddress()));
            } catch (IOException e) {
                return;
            }
        }
    }

    InetSocketAddress address() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    @Override
    public void close() throws InterruptedException {
        socket.close();
        thread.join(5_000);
    }
}
