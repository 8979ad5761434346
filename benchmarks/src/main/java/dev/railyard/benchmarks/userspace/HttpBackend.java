package dev.railyard.benchmarks.userspace;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The HTTP/1.1 keep-alive backend of the userspace proxy load run: answers every request with the same small
 * static body (200, Content-Length, no other work), so that all three paths measured by {@link ProxyLoadRun}
 * hit exactly the same server. It runs in its own JVM so that its CPU time is not mixed with the harness's.
 *
 * <pre>
 * java -cp 'benchmarks/target/benchmarks.jar:benchmarks/target/lib/*' dev.railyard.benchmarks.userspace.HttpBackend \
 *     127.0.0.1 18080 [threads=2] [body bytes=128]
 * </pre>
 *
 * Prints {@code listening HOST:PORT} once bound, then serves until killed.
 */
public final class HttpBackend {
    private HttpBackend() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: HttpBackend HOST PORT [threads] [bodyBytes]");
            System.exit(2);
        }
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        int bodyBytes = args.length > 3 ? Integer.parseInt(args[3]) : 128;
        byte[] body = new byte[bodyBytes];
        Arrays.fill(body, (byte) 'x');
        if (bodyBytes > 0) {
            body[bodyBytes - 1] = '\n';
        }
        ByteBuf content = Unpooled.unreleasableBuffer(Unpooled.directBuffer(bodyBytes).writeBytes(body));

        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        EventLoopGroup workers = new MultiThreadIoEventLoopGroup(threads, NioIoHandler.newFactory());
        try {
            Channel server = new ServerBootstrap()
                    .group(boss, workers)
                    .channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 4096)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(), new Responder(content));
                        }
                    })
                    .bind(new InetSocketAddress(host, port)).sync().channel();
            System.out.println("listening " + host + ":" + port);
            System.out.flush();
            server.closeFuture().sync();
        } finally {
            boss.shutdownGracefully();
            workers.shutdownGracefully();
        }
    }

    /** One static response per request; flushes once per read batch. */
    private static final class Responder extends ChannelInboundHandlerAdapter {
        private static final byte[] SERVER = "railyard-bench".getBytes(StandardCharsets.US_ASCII);
        private final ByteBuf content;

        Responder(ByteBuf content) {
            this.content = content;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof HttpRequest) {
                    HttpRequest request = (HttpRequest) msg;
                    boolean keepAlive = HttpUtil.isKeepAlive(request);
                    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                            content.duplicate());
                    response.headers()
                            .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
                            .set(HttpHeaderNames.SERVER, new String(SERVER, StandardCharsets.US_ASCII))
                            .setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
                    if (keepAlive) {
                        ctx.write(response);
                    } else {
                        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
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
