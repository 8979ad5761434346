package dev.railyard.benchmarks.overlay;

import dev.railyard.netlink.NetworkNamespaces;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.SocketChannel;

/**
 * TCP sockets that live in a given network namespace. A socket belongs to the namespace of the thread that calls
 * socket(2), and {@code new Socket()} defers that call to the first connect: created on a namespace's thread and
 * connected from ours, it would send from this process's own namespace. {@link SocketChannel#open()} and a bound
 * {@link ServerSocket} call socket(2) at once.
 */
final class NamespaceSockets {
    private NamespaceSockets() {
    }

    /** An unconnected blocking client socket created in {@code netns}. */
    static Socket client(String netns) {
        return NetworkNamespaces.callIn(netns, () -> {
            try {
                return SocketChannel.open().socket();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** A listening socket on {@code address:port} in {@code netns}. */
    static ServerSocket server(String netns, String address, int port, int backlog) {
        return NetworkNamespaces.callIn(netns, () -> {
            try {
                return new ServerSocket(port, backlog, InetAddress.getByName(address));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }
}
