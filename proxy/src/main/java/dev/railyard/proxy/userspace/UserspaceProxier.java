package dev.railyard.proxy.userspace;

import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;
import io.netty.bootstrap.AbstractBootstrap;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * kube-proxy's userspace mode on Netty: for every service port a listener whose connections (TCP) or client
 * sessions (UDP) are relayed to the service's endpoints. {@link #sync} reconciles the listeners with a
 * {@link ProxyState}; endpoint changes reach new connections at once and never cut established ones.
 *
 * <p>One instance serves both IP families: a sync replaces only the services of its state's family.
 * Thread-safe; sync and close are serialized, the data path runs on the event loops.
 */
public final class UserspaceProxier implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(UserspaceProxier.class);
    private static final long BIND_TIMEOUT_MILLIS = 5_000;
    /** The warm-up gives up after this long, e.g. on a node whose CPUs are taken by others. */
    private static final Duration WARMUP_BUDGET = Duration.ofSeconds(15);

    private final UserspaceConfig config;
    private final LongSupplier nanoTime;
    private final Transport transport;
    private final EventLoopGroup eventLoops;
    private final ChannelGroup connections;
    private final TcpSettings tcp;
    private final UdpSettings udp;
    private final Map<RouteKey, ServiceEntry> services = new HashMap<>();
    private final Set<ServicePortName> skippedSctp = new HashSet<>();
    private volatile List<Listener> listeners = List.of();
    private final RelayWarmup warmup;
    private boolean warmupStarted;
    private boolean closed;

    public UserspaceProxier(UserspaceConfig config) {
        this(config, System::nanoTime);
    }

    /** @param nanoTime the clock of affinity and UDP idle timeouts (tests move it by hand) */
    UserspaceProxier(UserspaceConfig config, LongSupplier nanoTime) {
        this(config, nanoTime, RelayTuning.fromSystemProperties(RelayTuning.DEFAULT));
    }

    /** @param tuning buffer and socket settings of established TCP relays (tests compare them) */
    UserspaceProxier(UserspaceConfig config, LongSupplier nanoTime, RelayTuning tuning) {
        this.config = config;
        this.nanoTime = nanoTime;
        this.transport = Transport.detect();
        this.eventLoops = transport.newEventLoopGroup(config.eventLoopThreads());
        this.connections = new DefaultChannelGroup("userspace-proxy", GlobalEventExecutor.INSTANCE);
        this.tcp = new TcpSettings(transport, (int) Math.min(Integer.MAX_VALUE, config.connectTimeout().toMillis()),
                config.maxConnectAttempts(), connections, tuning);
        log.debug("userspace proxy: relay tuning {}", tcp.tuning());
        this.udp = new UdpSettings(transport, config.udpIdleTimeout().toNanos(), config.maxUdpSessions(), nanoTime);
        this.warmup = config.relayWarmupExchanges() == 0 ? null
                : new RelayWarmup(config.relayWarmupExchanges(), WARMUP_BUDGET);
    }

    /** The warm-up's listener, opened as a service's would be, on loopback. */
    private Channel warmupListener(ServiceRoute route) throws IOException {
        ChannelFuture bound = bind(route, new BindTarget(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                TrafficKind.INTERNAL, "relay warm-up"));
        String failure = awaitBound(bound);
        if (failure != null) {
            throw new IOException("cannot listen on loopback: " + failure);
        }
        return bound.channel();
    }

    /** Waits for a bind; null once bound, else why not (the channel is then closed). */
    private static String awaitBound(ChannelFuture future) {
        if (future.awaitUninterruptibly(BIND_TIMEOUT_MILLIS) && future.isSuccess()) {
            return null;
        }
        future.channel().close();
        return future.cause() == null ? "timed out" : future.cause().toString();
    }

    private record RouteKey(IpFamily family, ServicePortName name) {
    }

    /** Where one listener of a service port should be; {@code field} names its origin in log lines. */
    private record BindTarget(InetSocketAddress address, TrafficKind traffic, String field) {
    }

    private record Bound(BindTarget target, Channel channel) {
    }

    private record PendingBind(ServiceEntry entry, BindTarget target, ChannelFuture future) {
    }

    /** A service port's route and the sockets listening for it. Guarded by the proxier's lock. */
    private static final class ServiceEntry {
        final ServiceRoute route;
        ServicePort service;
        final List<Bound> bound = new ArrayList<>();
        /** A listener failed to bind: the next sync tries again (the address may have appeared meanwhile). */
        boolean incomplete;

        ServiceEntry(ServiceRoute route) {
            this.route = route;
        }
    }

    /**
     * Makes the listeners match the state's service ports of its family: opens listeners of new ports (SCTP is
     * skipped), closes those of removed ports and of addresses a port no longer has, and gives every port its
     * current endpoints. Returns once every new listener is bound or has failed; a listener that cannot bind is
     * logged, the others are unaffected, and the next sync tries it again.
     */
    public synchronized void sync(ProxyState state) {
        if (closed) {
            throw new IllegalStateException("userspace proxier is closed");
        }
        IpFamily family = state.family();
        Set<RouteKey> present = new HashSet<>();
        List<ChannelFuture> closing = new ArrayList<>();
        List<Map.Entry<ServiceEntry, BindTarget>> toBind = new ArrayList<>();

        for (ProxyState.Entry item : state.entries()) {
            ServicePort service = item.service();
            if (service.protocol() == Protocol.SCTP) {
                if (skippedSctp.add(service.name())) {
                    log.info("userspace proxy: skipping {}: SCTP is not proxied in userspace mode", service.name());
                }
                continue;
            }
            RouteKey key = new RouteKey(family, service.name());
            present.add(key);
            UsableEndpoints endpoints = UsableEndpoints.select(service, item.endpoints(), config.nodeName());
            ServiceEntry entry = services.get(key);
            if (entry == null) {
                entry = new ServiceEntry(new ServiceRoute(family, service, endpoints, config.maxAffinityEntries(),
                        nanoTime, config.primaryNodeIp(family)));
                services.put(key, entry);
            } else {
                entry.route.update(service, endpoints);
            }
            if (!service.equals(entry.service) || entry.incomplete) {
                entry.service = service;
                entry.incomplete = false;
                planListeners(entry, bindTargets(service, family), closing, toBind);
            }
        }
        for (Iterator<Map.Entry<RouteKey, ServiceEntry>> it = services.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<RouteKey, ServiceEntry> e = it.next();
            if (e.getKey().family() == family && !present.contains(e.getKey())) {
                for (Bound bound : e.getValue().bound) {
                    closing.add(bound.channel().close());
                }
                it.remove();
            }
        }
        // Closed first, so an address that moved from one listener to another can be bound again.
        for (ChannelFuture future : closing) {
            future.awaitUninterruptibly(BIND_TIMEOUT_MILLIS);
        }
        List<PendingBind> binding = new ArrayList<>(toBind.size());
        for (Map.Entry<ServiceEntry, BindTarget> e : toBind) {
            binding.add(new PendingBind(e.getKey(), e.getValue(), bind(e.getKey().route, e.getValue())));
        }
        for (PendingBind pending : binding) {
            finishBind(pending);
        }
        listeners = snapshotListeners();
        if (warmup != null && !warmupStarted) {
            // After the first sync, not before: the services' listeners and capture come first.
            warmupStarted = true;
            warmup.start(this::warmupListener);
        }
    }

    /** Keeps the listeners that are still wanted, closes the others, and notes the missing ones. */
    private static void planListeners(ServiceEntry entry, List<BindTarget> wanted, List<ChannelFuture> closing,
                                      List<Map.Entry<ServiceEntry, BindTarget>> toBind) {
        List<BindTarget> missing = new ArrayList<>(wanted);
        for (Iterator<Bound> it = entry.bound.iterator(); it.hasNext(); ) {
            Bound bound = it.next();
            if (!missing.remove(bound.target())) {
                closing.add(bound.channel().close());
                it.remove();
            }
        }
        for (BindTarget target : missing) {
            toBind.add(Map.entry(entry, target));
        }
    }

    private List<BindTarget> bindTargets(ServicePort service, IpFamily family) {
        if (config.listenMode() == ListenMode.CAPTURE) {
            return captureTargets(service, family);
        }
        // One socket per address, even if two fields name it; the first field wins, as the first matching rule
        // does in iptables mode (so an external IP that is also a load-balancer IP is not source-filtered).
        Map<InetSocketAddress, BindTarget> targets = new LinkedHashMap<>();
        add(targets, new BindTarget(address(service.clusterIp(), service.port()), TrafficKind.INTERNAL,
                "spec.clusterIP"));
        for (String ip : service.externalIps()) {
            add(targets, new BindTarget(address(ip, service.port()), TrafficKind.EXTERNAL, "spec.externalIPs"));
        }
        for (String ip : service.loadBalancerIps()) {
            add(targets, new BindTarget(address(ip, service.port()), TrafficKind.LOAD_BALANCER,
                    "status.loadBalancer.ingress"));
        }
        if (service.nodePort() != 0 && UserspaceConfig.familyOf(config.bindAddress()) == family) {
            add(targets, new BindTarget(new InetSocketAddress(config.bindAddress(), service.nodePort()),
                    TrafficKind.EXTERNAL, "spec.ports.nodePort"));
        }
        return List.copyOf(targets.values());
    }

    /**
     * Capture mode: an ephemeral port per kind of traffic the service has. After a REDIRECT or DNAT the port
     * reached is all that tells the kinds apart, so load-balancer traffic gets a port of its own when its sources
     * are filtered (and shares the external one when they are not).
     */
    private List<BindTarget> captureTargets(ServicePort service, IpFamily family) {
        InetSocketAddress any = new InetSocketAddress(config.captureAddress(family), 0);
        boolean filtersLoadBalancer = service.restrictsLoadBalancerSources();
        List<BindTarget> targets = new ArrayList<>(3);
        targets.add(new BindTarget(any, TrafficKind.INTERNAL, "capture of spec.clusterIP"));
        if (service.nodePort() != 0 || !service.externalIps().isEmpty()
                || (!service.loadBalancerIps().isEmpty() && !filtersLoadBalancer)) {
            // One description either way: a target that compares unequal would be closed and bound anew.
            targets.add(new BindTarget(any, TrafficKind.EXTERNAL,
                    "capture of nodePort, externalIPs and unfiltered load-balancer IPs"));
        }
        if (filtersLoadBalancer) {
            targets.add(new BindTarget(any, TrafficKind.LOAD_BALANCER,
                    "capture of load-balancer IPs, filtered by spec.loadBalancerSourceRanges"));
        }
        return List.copyOf(targets);
    }

    private static void add(Map<InetSocketAddress, BindTarget> targets, BindTarget target) {
        targets.putIfAbsent(target.address(), target);
    }

    private static InetSocketAddress address(String ip, int port) {
        return new InetSocketAddress(IpAddresses.parse(ip).toInetAddress(), port);
    }

    private ChannelFuture bind(ServiceRoute route, BindTarget target) {
        AbstractBootstrap<?, ?> bootstrap;
        if (route.service().protocol() == Protocol.UDP) {
            bootstrap = new Bootstrap()
                    .group(eventLoops)
                    .channel(transport.datagramChannel())
                    .handler(new UdpFrontendHandler(route, target.traffic(), udp));
        } else {
            bootstrap = new ServerBootstrap()
                    .group(eventLoops)
                    .channel(transport.serverSocketChannel())
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.AUTO_READ, false)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel channel) {
                            channel.pipeline().addLast(new TcpFrontendHandler(route, target.traffic(), tcp));
                        }
                    });
        }
        transport.allowNonLocalBind(bootstrap);
        return bootstrap.bind(target.address());
    }

    private void finishBind(PendingBind pending) {
        ChannelFuture future = pending.future();
        ServicePort service = pending.entry().service;
        String failure = awaitBound(future);
        if (failure == null) {
            pending.entry().bound.add(new Bound(pending.target(), future.channel()));
            log.debug("userspace proxy: {} listening on {} ({})", service.name(), future.channel().localAddress(),
                    pending.target().field());
            return;
        }
        pending.entry().incomplete = true;
        log.warn("userspace proxy: {}/{}: cannot listen on {} ({}): {}", service.name(), service.protocol(),
                pending.target().address(), pending.target().field(), failure);
    }

    private List<Listener> snapshotListeners() {
        List<Listener> all = new ArrayList<>();
        for (ServiceEntry entry : services.values()) {
            for (Bound bound : entry.bound) {
                all.add(new Listener(entry.service, (InetSocketAddress) bound.channel().localAddress(),
                        bound.target().traffic()));
            }
        }
        return List.copyOf(all);
    }

    /** Every socket listening now, with the address actually bound. Immutable. */
    public List<Listener> listeners() {
        return listeners;
    }

    /** A snapshot of every proxied service port's counters. */
    public synchronized List<TrafficStats> trafficStats() {
        List<TrafficStats> stats = new ArrayList<>(services.size());
        for (Map.Entry<RouteKey, ServiceEntry> e : services.entrySet()) {
            stats.add(e.getValue().route.counters().snapshot(e.getKey().name(), e.getKey().family()));
        }
        return stats;
    }

    /** The start-up relay warm-up, or null if the config asked for none. */
    RelayWarmup warmup() {
        return warmup;
    }

    /** The Netty transport in use: io_uring, epoll or nio. */
    public String transportName() {
        return transport.kind().name().toLowerCase(Locale.ROOT);
    }

    /** Proxied channels open now, both sides of each connection. */
    int openConnections() {
        return connections.size();
    }

    /** Bytes written by the relay but not yet taken by the kernel, over every proxied connection. */
    long pendingOutboundBytes() {
        long total = 0;
        for (Channel channel : connections) {
            ChannelOutboundBuffer buffer = channel.unsafe().outboundBuffer();
            if (buffer != null) {
                total += buffer.totalPendingWriteBytes();
            }
        }
        return total;
    }

    /** Closes every listener and connection and stops the event loops. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (warmup != null) {
            warmup.stop();
            try {
                warmup.awaitTermination(Duration.ofMillis(BIND_TIMEOUT_MILLIS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        List<ChannelFuture> closing = new ArrayList<>();
        for (ServiceEntry entry : services.values()) {
            for (Bound bound : entry.bound) {
                closing.add(bound.channel().close());
            }
        }
        services.clear();
        listeners = List.of();
        connections.close().awaitUninterruptibly(BIND_TIMEOUT_MILLIS);
        for (ChannelFuture future : closing) {
            future.awaitUninterruptibly(BIND_TIMEOUT_MILLIS);
        }
        eventLoops.shutdownGracefully(100, 2_000, TimeUnit.MILLISECONDS).awaitUninterruptibly(5_000);
    }
}
