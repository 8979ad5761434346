package dev.railyard.proxy.userspace;

import io.netty.bootstrap.AbstractBootstrap;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Netty's native epoll transport when it loads (fewer syscalls and copies, and IP_FREEBIND), NIO otherwise.
 * {@code -Drailyard.userspace.transport=io_uring} selects Netty's io_uring transport instead, for measurements
 * (see docs/performance.md: it was not faster here, and the relay's half-close handling is proven on epoll).
 */
final class Transport {
    private static final Logger log = LoggerFactory.getLogger(Transport.class);

    enum Kind { EPOLL, IO_URING, NIO }

    private final Kind kind;

    private Transport(Kind kind) {
        this.kind = kind;
    }

    static Transport detect() {
        if ("io_uring".equals(System.getProperty("railyard.userspace.transport"))) {
            if (IoUring.isAvailable()) {
                log.info("userspace proxy: native io_uring transport");
                return new Transport(Kind.IO_URING);
            }
            log.warn("userspace proxy: io_uring unavailable ({}), using epoll or NIO", String.valueOf(IoUring.unavailabilityCause()));
        }
        if (Epoll.isAvailable()) {
            log.info("userspace proxy: native epoll transport");
            return new Transport(Kind.EPOLL);
        }
        log.info("userspace proxy: NIO transport (epoll unavailable: {})", String.valueOf(Epoll.unavailabilityCause()));
        return new Transport(Kind.NIO);
    }

    boolean isEpoll() {
        return kind == Kind.EPOLL;
    }

    EventLoopGroup newEventLoopGroup(int threads) {
        IoHandlerFactory handlers = switch (kind) {
            case EPOLL -> new KeepRegisteredEpoll();
            case IO_URING -> IoUringIoHandler.newFactory();
            case NIO -> NioIoHandler.newFactory();
        };
        return new MultiThreadIoEventLoopGroup(threads, handlers);
    }

    Class<? extends ServerChannel> serverSocketChannel() {
        return switch (kind) {
            case EPOLL -> EpollServerSocketChannel.class;
            case IO_URING -> IoUringServerSocketChannel.class;
            case NIO -> NioServerSocketChannel.class;
        };
    }

    Class<? extends SocketChannel> socketChannel() {
        return switch (kind) {
            case EPOLL -> EpollSocketChannel.class;
            case IO_URING -> IoUringSocketChannel.class;
            case NIO -> NioSocketChannel.class;
        };
    }

    Class<? extends DatagramChannel> datagramChannel() {
        return switch (kind) {
            case EPOLL -> EpollDatagramChannel.class;
            case IO_URING -> IoUringDatagramChannel.class;
            case NIO -> NioDatagramChannel.class;
        };
    }

    /** Lets a listener bind an address that is not (yet) on the host, without root; only epoll can. */
    void allowNonLocalBind(AbstractBootstrap<?, ?> bootstrap) {
        if (kind == Kind.EPOLL) {
            bootstrap.option(EpollChannelOption.IP_FREEBIND, true);
        }
    }
}
