package dev.railyard.proxy.userspace;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The client and the backend of {@link UserspaceConnectionLoadTest}, in a process of their own so that the proxy's
 * JVM spends its descriptors on the proxy alone (two per connection). Driven by one-line commands on stdin, one
 * answer line each on stdout:
 *
 * <pre>
 * (at start)              -> backend PORT        an echo server on BACKEND_IP:PORT
 * open N IP PORT          -> ok N | error MSG    N connections to IP:PORT, each sends one byte and awaits its echo
 * close                   -> ok                  closes them all
 * </pre>
 *
 * End of stdin exits.
 */
public final class ConnectionLoadPeer {
    static final String BACKEND_IP = "127.78.2.1";

    private final List<SocketChannel> clients = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        System.setOut(System.err); // nothing else may write to the protocol stream
        Transport transport = Transport.detect();
        EventLoopGroup loop = transport.newEventLoopGroup(1);
        try {
            Channel backend = new ServerBootstrap().group(loop).channel(transport.serverSocketChannel())
                    .childHandler(new Echo()).bind(new InetSocketAddress(BACKEND_IP, 0)).sync().channel();
            out.println("backend " + ((InetSocketAddress) backend.localAddress()).getPort());
            ConnectionLoadPeer peer = new ConnectionLoadPeer();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                out.println(peer.handle(line.strip().split("\\s+")));
            }
            peer.closeAll();
        } finally {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5_000);
        }
    }

    private String handle(String[] words) {
        try {
            return switch (words[0]) {
                case "open" -> open(Integer.parseInt(words[1]),
                        new InetSocketAddress(words[2], Integer.parseInt(words[3])));
                case "close" -> {
                    closeAll();
                    yield "ok";
                }
                default -> "error unknown command " + words[0];
            };
        } catch (IOException | RuntimeException e) {
            return "error " + e.toString().replace('\n', ' ');
        }
    }

    private String open(int count, InetSocketAddress address) {
        ByteBuffer one = ByteBuffer.allocate(1);
        int first = clients.size();
        int i = 0;
        try {
            for (; i < count; i++) {
                SocketChannel client = SocketChannel.open(address);
                clients.add(client);
                client.write(one.clear().put((byte) i).flip());
            }
            for (i = 0; i < count; i++) {
                one.clear();
                while (one.hasRemaining()) {
                    if (clients.get(first + i).read(one) < 0) {
                        return "error connection " + i + " closed before its echo";
                    }
                }
                if (one.get(0) != (byte) i) {
                    return "error connection " + i + " echoed " + one.get(0);
                }
            }
        } catch (IOException e) {
            return "error connection " + i + " of " + count + ": " + e;
        }
        return "ok " + count;
    }

    private void closeAll() throws IOException {
        for (SocketChannel client : clients) {
            client.close();
        }
        clients.clear();
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
}
