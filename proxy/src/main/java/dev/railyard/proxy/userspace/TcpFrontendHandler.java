package dev.railyard.proxy.userspace;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The first handler of an accepted connection: connects to an endpoint, trying the next one in the plan when a
 * connect fails, up to the configured attempts; then hands the connection to a pair of {@link TcpRelayHandler}s and
 * leaves. An endpoint that refused (or is unreachable) is not dialled again for this connection; one that timed
 * out is, since its SYN may only have met a full accept queue. The accepted channel does not read (autoRead is off) until then, so nothing is buffered meanwhile.
 * The endpoint connection runs on the accepted channel's event loop, so the relay never crosses threads.
 *
 * <p>One exception to "nothing is read": epoll reads what is left in the socket when the client's FIN arrives
 * (EPOLLRDHUP), autoRead or not (io_uring may too, with a read already queued). Those reads and the end of input
 * are kept and replayed into the relay.
 */
final class TcpFrontendHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(TcpFrontendHandler.class);

    private final ServiceRoute route;
    private final TrafficKind traffic;
    private final TcpSettings settings;
    private InetAddress clientIp;
    private InetSocketAddress[] plan;
    private Channel connecting;
    private List<Object> early;
    private boolean earlyInputShutdown;

    TcpFrontendHandler(ServiceRoute route, TrafficKind traffic, TcpSettings settings) {
        this.route = route;
        this.traffic = traffic;
        this.settings = settings;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        Channel inbound = ctx.channel();
        TrafficCounters counters = route.counters();
        clientIp = ((InetSocketAddress) inbound.remoteAddress()).getAddress();
        if (!route.admits(traffic, clientIp)) {
            // Outside spec.loadBalancerSourceRanges. iptables mode drops the SYN; a userspace proxy only learns
            // of the connection once the kernel has completed it, so the nearest it can do is reset it at once,
            // before reading a byte or dialling an endpoint.
            counters.sourceRangeDenied.increment();
            TcpRelayHandler.abort(inbound);
            return;
        }
        counters.connectionsOpened.increment();
        counters.connectionsActive.increment();
        inbound.closeFuture().addListener(counters.connectionClosed);
        settings.connections().add(inbound);

        plan = route.plan(traffic, clientIp, settings.maxConnectAttempts());
        if (plan.length == 0) {
            // As iptables mode REJECTs a service without endpoints: the client sees a reset at once.
            counters.rejected.increment();
            TcpRelayHandler.abort(inbound);
            return;
        }
        connect(ctx, 0);
    }

    private void connect(ChannelHandlerContext ctx, int attempt) {
        Channel inbound = ctx.channel();
        TrafficCounters counters = route.counters();
        InetSocketAddress endpoint = plan[attempt];
        Bootstrap bootstrap = new Bootstrap()
                .group(inbound.eventLoop())
                .channel(settings.transport().socketChannel())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, settings.connectTimeoutMillis())
                .handler(new TcpRelayHandler(inbound, counters.bytesOut, counters.resets));
        ChannelFuture connected = bootstrap.connect(endpoint);
        connecting = connected.channel();
        connected.addListener((ChannelFutureListener) future -> {
            connecting = null;
            if (future.isSuccess()) {
                relay(ctx, future.channel(), endpoint);
                return;
            }
            counters.connectErrors.increment();
            log.debug("userspace proxy: {}: cannot connect to {}: {}", route.service().name(), endpoint,
                    future.cause().toString());
            if (!(future.cause() instanceof ConnectTimeoutException)) {
                dropLaterAttempts(endpoint, attempt);
            }
            int next = nextAttempt(attempt);
            if (next >= 0 && inbound.isActive()) {
                connect(ctx, next);
            } else if (inbound.isActive()) {
                counters.rejected.increment();
                TcpRelayHandler.abort(inbound);
            }
        });
    }

    private void dropLaterAttempts(InetSocketAddress endpoint, int attempt) {
        for (int i = attempt + 1; i < plan.length; i++) {
            if (endpoint.equals(plan[i])) {
                plan[i] = null;
            }
        }
    }

    private int nextAttempt(int attempt) {
        for (int i = attempt + 1; i < plan.length; i++) {
            if (plan[i] != null) {
                return i;
            }
        }
        return -1;
    }

    private void relay(ChannelHandlerContext ctx, Channel backend, InetSocketAddress endpoint) {
        Channel inbound = ctx.channel();
        if (!inbound.isActive()) {
            backend.close();
            return;
        }
        settings.connections().add(backend);
        route.connected(clientIp, endpoint);
        TrafficCounters counters = route.counters();
        ctx.pipeline().replace(this, "relay", new TcpRelayHandler(backend, counters.bytesIn, counters.resets));
        RelayTuning tuning = settings.tuning();
        tune(inbound, tuning);
        tune(backend, tuning);
        replayEarlyInput(inbound);
        if (!earlyInputShutdown) {
            // (Asking epoll to read a socket whose input has ended fails: its registration is gone. Not asking is
            // right on every transport: nothing more can come.)
            inbound.config().setAutoRead(true);
        }
        backend.config().setAutoRead(true);
    }

    private static void tune(Channel channel, RelayTuning tuning) {
        if (tuning.recvBufferMax() > 0) {
            channel.config().setRecvByteBufAllocator(new AdaptiveRecvByteBufAllocator(64, 2048, tuning.recvBufferMax()));
        }
        if (tuning.writeHighWaterMark() > 0) {
            channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(
                    Math.min(tuning.writeLowWaterMark(), tuning.writeHighWaterMark()), tuning.writeHighWaterMark()));
        }
        if (tuning.socketBuffer() > 0) {
            channel.config().setOption(ChannelOption.SO_SNDBUF, tuning.socketBuffer());
            channel.config().setOption(ChannelOption.SO_RCVBUF, tuning.socketBuffer());
        }
    }

    private void replayEarlyInput(Channel inbound) {
        if (early != null) {
            for (Object msg : early) {
                inbound.pipeline().fireChannelRead(msg);
            }
            early = null;
            inbound.pipeline().fireChannelReadComplete();
        }
        if (earlyInputShutdown) {
            inbound.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (early == null) {
            early = new ArrayList<>(2);
        }
        early.add(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ChannelInputShutdownEvent.INSTANCE) {
            earlyInputShutdown = true;
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        // The client left while an endpoint was still being dialled.
        Channel pending = connecting;
        if (pending != null) {
            pending.close();
        }
        if (early != null) {
            early.forEach(ReferenceCountUtil::release);
            early = null;
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("userspace proxy: {}: client error before relaying: {}", route.service().name(), cause.toString());
        ctx.close();
    }
}
