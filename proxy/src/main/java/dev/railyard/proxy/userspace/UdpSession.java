package dev.railyard.proxy.userspace;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;

import java.net.InetSocketAddress;

/**
 * One client address's UDP "connection" through a service: a datagram channel of its own, connected to the
 * endpoint chosen for the client, so the endpoint's replies arrive on it and can be told apart from other
 * clients'. Lives on its listener's event loop; only that thread touches it.
 */
final class UdpSession {
    private final InetSocketAddress client;
    private final ChannelFuture connected;
    private long lastActive;

    UdpSession(InetSocketAddress client, ChannelFuture connected, long now) {
        this.client = client;
        this.connected = connected;
        this.lastActive = now;
    }

    InetSocketAddress client() {
        return client;
    }

    Channel channel() {
        return connected.channel();
    }

    void touch(long now) {
        lastActive = now;
    }

    boolean idleSince(long cutoff) {
        return lastActive - cutoff < 0;
    }

    /**
     * Sends a client's datagram to the endpoint; takes ownership of the payload. Datagrams that arrive before the
     * endpoint socket is connected (one event-loop turn) wait for it.
     */
    void forward(ByteBuf payload, Runnable dropped) {
        Channel channel = connected.channel();
        if (connected.isSuccess()) {
            if (channel.isWritable()) {
                channel.writeAndFlush(payload, channel.voidPromise());
            } else {
                payload.release();
                dropped.run();
            }
        } else if (!connected.isDone()) {
            connected.addListener((ChannelFutureListener) done -> {
                if (done.isSuccess()) {
                    channel.writeAndFlush(payload, channel.voidPromise());
                } else {
                    payload.release();
                }
            });
        } else {
            payload.release();
            dropped.run();
        }
    }

    void close() {
        connected.channel().close();
    }
}
