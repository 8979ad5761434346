package dev.railyard.proxy.userspace;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.LongAdder;

/**
 * Copies one direction of a proxied TCP connection: what this channel reads is written to its peer. Both
 * channels of a connection have one, and both live on the same event loop, so nothing here needs a lock.
 *
 * <ul>
 *   <li>Buffers are passed on as read (pooled, never copied); writes carry the void promise and are flushed
 *       once per read burst, on channelReadComplete.</li>
 *   <li>Backpressure: when this channel stops being writable its peer stops reading (autoRead off) until it
 *       drains below the low water mark, so at most a write-buffer's worth waits in the proxy.</li>
 *   <li>Half-close: a FIN on this channel becomes shutdownOutput on the peer once everything read before it
 *       has been written; the connection closes when both directions are finished.</li>
 *   <li>Resets: an error on this channel (a reset, or a failed write to it) aborts the peer with SO_LINGER 0,
 *       so the other party sees a reset too rather than a clean end.</li>
 * </ul>
 */
final class TcpRelayHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(TcpRelayHandler.class);

    private final Channel peer;
    private final LongAdder bytesRelayed;
    private final LongAdder resets;

    /**
     * @param bytesRelayed counts what this channel reads
     * @param resets       counts aborted connections (only the channel that sees the error counts it)
     */
    TcpRelayHandler(Channel peer, LongAdder bytesRelayed, LongAdder resets) {
        this.peer = peer;
        this.bytesRelayed = bytesRelayed;
        this.resets = resets;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!peer.isActive()) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof ByteBuf buf) {
            bytesRelayed.add(buf.readableBytes());
        }
        peer.write(msg, peer.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        peer.flush();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        peer.config().setAutoRead(ctx.channel().isWritable());
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ChannelInputShutdownEvent.INSTANCE) {
            finishDirection(ctx.channel());
        }
        ReferenceCountUtil.release(evt);
    }

    /**
     * This channel's sender is done: pass its FIN on after the data before it. shutdownOutput would fail writes
     * still queued, hence the empty write whose completion says everything before it is out.
     */
    private void finishDirection(Channel channel) {
        peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) written -> {
            if (!written.isSuccess()) {
                return; // the write failure already went to the peer's exceptionCaught
            }
            ((DuplexChannel) peer).shutdownOutput().addListener((ChannelFutureListener) shut -> {
                if (((DuplexChannel) channel).isOutputShutdown() || !shut.isSuccess()) {
                    // The other direction finished first (or the peer is gone): nothing is left to relay.
                    channel.close();
                    peer.close();
                }
            });
        });
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (peer.isActive()) {
            peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("userspace proxy: {} aborted: {}", ctx.channel(), cause.toString());
        if (ctx.channel().isOpen() || peer.isOpen()) {
            resets.increment();
        }
        abort(peer);
        abort(ctx.channel());
    }

    /** Close with SO_LINGER 0: the kernel drops unsent data and sends a reset. */
    static void abort(Channel channel) {
        if (channel.isOpen()) {
            try {
                channel.config().setOption(ChannelOption.SO_LINGER, 0);
            } catch (RuntimeException e) {
                // Already torn down underneath; a plain close is all that is left.
            }
            channel.close();
        }
    }
}
