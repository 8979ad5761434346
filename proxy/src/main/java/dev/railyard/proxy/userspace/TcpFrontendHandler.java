package dev.railyard.proxy.userspace;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * The first handler of an accepted connection: connects to an endpoint, trying the next one when a connect
 * fails, up to the configured attempts; then hands the connection to a pair of {@link TcpRelayHandler}s and
 * leaves. The accepted channel does not read (autoRead is off) until then, so nothing is buffered meanwhile.
 * The endpoint connection runs on the accepted channel's event loop, so the relay never crosses threads.
 */
final class TcpFrontendHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(TcpFrontendHandler.class);

    private final ServiceRoute route;
    private final TrafficKind traffic;
    private final TcpSettings settings;
    private InetAddress clientIp;
    private InetSocketAddress[] plan;
    private Channel connecting;

    TcpFrontendHandler(ServiceRoute route, TrafficKind traffic, TcpSettings settings) {
        this.route = route;
        this.traffic = traffic;
        this.settings = settings;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        Channel inbound = ctx.channel();
        TrafficCounters counters = route.counters();
        counters.connectionsOpened.increment();
        counters.connectionsActive.increment();
        inbound.closeFuture().addListener(counters.connectionClosed);
        settings.connections().add(inbound);

        clientIp = ((InetSocketAddress) inbound.remoteAddress()).getAddress();
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
            if (attempt + 1 < plan.length && inbound.isActive()) {
                connect(ctx, attempt + 1);
            } else if (inbound.isActive()) {
                counters.rejected.increment();
                TcpRelayHandler.abort(inbound);
            }
        });
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
        inbound.config().setAutoRead(true);
        backend.config().setAutoRead(true);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        // The client left while an endpoint was still being dialled.
        Channel pending = connecting;
        if (pending != null) {
            pending.close();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("userspace proxy: {}: client error before relaying: {}", route.service().name(), cause.toString());
        ctx.close();
    }
}
