package dev.railyard.proxy.userspace;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends an endpoint's replies back to the client through the service's own listener socket, so they come from
 * the address the client sent to. A reply that finds the listener not writable is dropped, as a full socket
 * buffer would drop it, rather than queued without bound.
 */
final class UdpReplyHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(UdpReplyHandler.class);

    private final Channel listener;
    private final TrafficCounters counters;
    private final UdpSettings settings;
    private UdpSession session;

    UdpReplyHandler(Channel listener, TrafficCounters counters, UdpSettings settings) {
        this.listener = listener;
        this.counters = counters;
        this.settings = settings;
    }

    /** Set once the session exists (the handler is created with its channel, before the session object). */
    void attach(UdpSession value) {
        this.session = value;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof DatagramPacket reply)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!listener.isWritable() || session == null) {
            reply.release();
            counters.udpDropped.increment();
            return;
        }
        session.touch(settings.nanoTime().getAsLong());
        counters.bytesOut.add(reply.content().readableBytes());
        listener.write(new DatagramPacket(reply.content(), session.client()), listener.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        listener.flush();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Typically ICMP port unreachable on the connected socket: the endpoint is gone. Ending the session lets
        // the client's next datagram pick an endpoint afresh.
        log.debug("userspace proxy: UDP session {} ended: {}", ctx.channel(), cause.toString());
        counters.connectErrors.increment();
        ctx.close();
    }
}
