package dev.railyard.proxy.userspace;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A UDP service listener: one {@link UdpSession} per client address, opened by its first datagram, closed after
 * the idle timeout. Every session channel is registered on this listener's event loop, so the session map is
 * a plain HashMap touched by that one thread. Idle sessions are found by one periodic sweep per listener, which
 * runs only while the listener has sessions.
 */
final class UdpFrontendHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(UdpFrontendHandler.class);

    private final ServiceRoute route;
    private final TrafficKind traffic;
    private final UdpSettings settings;
    private final Map<InetSocketAddress, UdpSession> sessions = new HashMap<>();
    private final Runnable countDropped;
    private ScheduledFuture<?> sweep;

    UdpFrontendHandler(ServiceRoute route, TrafficKind traffic, UdpSettings settings) {
        this.route = route;
        this.traffic = traffic;
        this.settings = settings;
        this.countDropped = route.counters().udpDropped::increment;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof DatagramPacket packet)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        long now = settings.nanoTime().getAsLong();
        UdpSession session = sessions.get(packet.sender());
        if (session == null) {
            if (!route.admits(traffic, packet.sender().getAddress())) {
                // Outside spec.loadBalancerSourceRanges: dropped, as iptables mode drops it, and no session.
                route.counters().sourceRangeDenied.increment();
                packet.release();
                return;
            }
            session = open(ctx.channel(), packet.sender(), now);
            if (session == null) {
                packet.release();
                return;
            }
        }
        session.touch(now);
        route.counters().bytesIn.add(packet.content().readableBytes());
        session.forward(packet.content(), countDropped);
    }

    private UdpSession open(Channel listener, InetSocketAddress client, long now) {
        TrafficCounters counters = route.counters();
        if (sessions.size() >= settings.maxSessions()) {
            counters.udpDropped.increment();
            return null;
        }
        InetSocketAddress[] plan = route.plan(traffic, client.getAddress(), 1);
        if (plan.length == 0) {
            counters.rejected.increment();
            return null;
        }
        UdpReplyHandler replies = new UdpReplyHandler(listener, counters, settings);
        ChannelFuture connected = new Bootstrap()
                .group(listener.eventLoop())
                .channel(settings.transport().datagramChannel())
                .handler(replies)
                .connect(plan[0]);
        UdpSession session = new UdpSession(client, connected, now);
        replies.attach(session);
        sessions.put(client, session);
        route.connected(client.getAddress(), plan[0]);
        counters.udpSessionsOpened.increment();
        counters.udpSessionsActive.increment();
        connected.channel().closeFuture().addListener((ChannelFutureListener) closed -> {
            counters.udpSessionsActive.decrement();
            sessions.remove(client, session);
        });
        if (sweep == null) {
            long period = Math.max(settings.idleTimeoutNanos() / 2, TimeUnit.MILLISECONDS.toNanos(10));
            sweep = listener.eventLoop().scheduleAtFixedRate(this::closeIdleSessions, period, period,
                    TimeUnit.NANOSECONDS);
        }
        return session;
    }

    private void closeIdleSessions() {
        long cutoff = settings.nanoTime().getAsLong() - settings.idleTimeoutNanos();
        List<UdpSession> idle = new ArrayList<>();
        for (UdpSession session : sessions.values()) {
            if (session.idleSince(cutoff)) {
                idle.add(session);
            }
        }
        for (UdpSession session : idle) {
            sessions.remove(session.client());
            session.close();
        }
        if (sessions.isEmpty()) {
            sweep.cancel(false);
            sweep = null;
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A failed send of one reply or an ICMP error: the listener itself stays up for every other client.
        log.debug("userspace proxy: {} UDP listener {}: {}", route.service().name(), ctx.channel(), cause.toString());
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        // The listener closed (service removed, or proxier closing): replies could no longer be sent.
        for (UdpSession session : new ArrayList<>(sessions.values())) {
            session.close();
        }
        sessions.clear();
        if (sweep != null) {
            sweep.cancel(false);
            sweep = null;
        }
        ctx.fireChannelInactive();
    }
}
