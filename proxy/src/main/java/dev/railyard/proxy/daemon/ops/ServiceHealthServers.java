package dev.railyard.proxy.daemon.ops;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * kube-proxy's service health-check responders (pkg/proxy/healthcheck/service_health.go): one HTTP listener per
 * healthCheckNodePort, telling external load balancers whether this node has local endpoints for an
 * externalTrafficPolicy: Local service. 200 when it has some and the proxy is healthy, 503 otherwise, with
 * kube-proxy's JSON body and its {@code X-Load-Balancing-Endpoint-Weight} header (the local endpoint count).
 *
 * <p>All listeners share one event-loop thread. A large cluster has hundreds of such services (410 of 10,000 in
 * the benchmark cluster), and a JDK {@code HttpServer} per port meant a dispatcher thread per port: 24 MB of
 * stacks for answering load-balancer probes a few times a second.
 *
 * <p>{@link #sync} opens listeners for new ports, closes those no service uses any more and updates counts (and
 * the service a port belongs to) in place. A port that cannot be bound (e.g. in use) is logged and retried by the next sync, as
 * kube-proxy does. Thread-safe.
 */
public final class ServiceHealthServers implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ServiceHealthServers.class);
    /** A probe is one small request; a client that sends nothing for this long is dropped. */
    private static final int IDLE_SECONDS = 60;
    private static final int MAX_REQUEST_LINE_AND_HEADERS = 8192;

    private final InetAddress bindAddress;
    private final BooleanSupplier proxyHealthy;
    private final EventLoopGroup group;
    private final ServerBootstrap bootstrap;
    /** Open listeners by port, with what each serves; replaced whole so handlers read without locking. */
    private volatile Map<Integer, HealthCheckTarget> targets = Map.of();
    private final Map<Integer, Channel> servers = new HashMap<>();
    private boolean closed;

    /**
     * @param bindAddress  where to listen; null for all addresses (kube-proxy's default)
     * @param proxyHealthy the proxier's own health (e.g. {@link ProxyHealth#isHealthy}): an unhealthy proxy
     *                     answers 503 everywhere, so load balancers move away from a node with stale rules
     */
    public ServiceHealthServers(InetAddress bindAddress, BooleanSupplier proxyHealthy) {
        this.bindAddress = bindAddress;
        this.proxyHealthy = Objects.requireNonNull(proxyHealthy, "proxyHealthy");
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("railyard-service-health", true),
                NioIoHandler.newFactory());
        ProbeHandler probes = new ProbeHandler();
        this.bootstrap = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        channel.pipeline().addLast(
                                new IdleStateHandler(0, 0, IDLE_SECONDS, TimeUnit.SECONDS),
                                new HttpServerCodec(MAX_REQUEST_LINE_AND_HEADERS / 2, MAX_REQUEST_LINE_AND_HEADERS,
                                        MAX_REQUEST_LINE_AND_HEADERS),
                                new HttpServerKeepAliveHandler(),
                                probes);
                    }
                });
    }

    /** Makes the listeners match {@code wanted} (healthCheckNodePort → service and local endpoint count). */
    public synchronized void sync(Map<Integer, HealthCheckTarget> wanted) {
        if (closed) {
            throw new IllegalStateException("closed");
        }
        Map<Integer, HealthCheckTarget> current = targets;
        Map<Integer, HealthCheckTarget> next = new HashMap<>();
        for (Map.Entry<Integer, Channel> open : Map.copyOf(servers).entrySet()) {
            int port = open.getKey();
            HealthCheckTarget target = wanted.get(port);
            String before = current.get(port).serviceKey();
            if (target == null) {
                LOG.info("closing health check port {} of {}", port, before);
                open.getValue().close().syncUninterruptibly();
                servers.remove(port);
            } else if (!target.serviceKey().equals(before)) {
                // The listener stays: requests look their service up, and a NIO listener closed now may not have
                // released its port yet when it is bound again.
                LOG.info("health check port {} moves from {} to {}", port, before, target.serviceKey());
            }
        }
        for (Map.Entry<Integer, HealthCheckTarget> entry : wanted.entrySet()) {
            int port = entry.getKey();
            if (!servers.containsKey(port)) {
                Channel server = open(port, entry.getValue());
                if (server == null) {
                    continue;
                }
                servers.put(port, server);
            }
            next.put(port, entry.getValue());
        }
        targets = Map.copyOf(next);
    }

    /** Ports with an open listener. */
    public synchronized Set<Integer> openPorts() {
        return new TreeSet<>(servers.keySet());
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        servers.values().forEach(server -> server.close().syncUninterruptibly());
        servers.clear();
        targets = Map.of();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private Channel open(int port, HealthCheckTarget target) {
        InetSocketAddress address = bindAddress == null ? new InetSocketAddress(port)
                : new InetSocketAddress(bindAddress, port);
        ChannelFuture bound = bootstrap.bind(address).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            LOG.error("cannot open health check port {} for {}: {} (retrying on the next sync)", port,
                    target.serviceKey(), bound.cause().getMessage());
            return null;
        }
        LOG.info("opened health check port {} for {}", port, target.serviceKey());
        return bound.channel();
    }

    /** Answers every request on every port; the listening port says which service is asked about. */
    @ChannelHandler.Sharable
    private final class ProbeHandler extends SimpleChannelInboundHandler<HttpRequest> {
        ProbeHandler() {
            super(HttpRequest.class); // the bodies that follow a request (none, for a probe) are released unread
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpRequest request) {
            if (!request.decoderResult().isSuccess()) {
                ctx.writeAndFlush(response(HttpResponseStatus.BAD_REQUEST, "", false))
                        .addListener(ChannelFutureListener.CLOSE);
                return;
            }
            int port = ((InetSocketAddress) ctx.channel().localAddress()).getPort();
            HealthCheckTarget target = targets.get(port);
            if (target == null) { // closed between accept and now
                ctx.close();
                return;
            }
            boolean healthy = proxyHealthy.getAsBoolean();
            int count = target.localEndpoints();
            FullHttpResponse response = response(count > 0 && healthy ? HttpResponseStatus.OK
                    : HttpResponseStatus.SERVICE_UNAVAILABLE, body(target, healthy),
                    HttpMethod.HEAD.equals(request.method()));
            response.headers().set("X-Load-Balancing-Endpoint-Weight", Integer.toString(count));
            ctx.writeAndFlush(response);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
            if (event instanceof IdleStateEvent) {
                ctx.close();
            } else {
                super.userEventTriggered(ctx, event);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // a probe connection reset or garbled: nothing to tell anyone
        }
    }

    private static FullHttpResponse response(HttpResponseStatus status, String body, boolean head) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ByteBuf content = head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(bytes);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .set("X-Content-Type-Options", "nosniff")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        return response;
    }

    /** kube-proxy's body, byte for byte (its dedented template keeps tab indentation). */
    static String body(HealthCheckTarget target, boolean proxyHealthy) {
        return "{\n\t\"service\": {\n\t\t\"namespace\": " + quote(target.namespace()) + ",\n\t\t\"name\": "
                + quote(target.name()) + "\n\t},\n\t\"localEndpoints\": " + target.localEndpoints()
                + ",\n\t\"serviceProxyHealthy\": " + proxyHealthy + "\n}";
    }

    private static String quote(String s) {
        // Namespaces and names are DNS labels: nothing to escape beyond what is checked here.
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
