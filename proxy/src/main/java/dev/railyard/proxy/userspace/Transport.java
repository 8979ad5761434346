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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Netty's native epoll transport when it loads (fewer syscalls and copies, and IP_FREEBIND), NIO otherwise.
 */
final class Transport {
    private static final Logger log = LoggerFactory.getLogger(Transport.class);

    private final boolean epoll;

    private Transport(boolean epoll) {
        this.epoll = epoll;
    }

    static Transport detect() {
        if (Epoll.isAvailable()) {
            log.info("userspace proxy: native epoll transport");
            return new Transport(true);
        }
        log.info("userspace proxy: NIO transport (epoll unavailable: {})", String.valueOf(Epoll.unavailabilityCause()));
        return new Transport(false);
    }

    boolean isEpoll() {
        return epoll;
    }

    EventLoopGroup newEventLoopGroup(int threads) {
        IoHandlerFactory handlers = epoll ? new KeepRegisteredEpoll() : NioIoHandler.newFactory();
        return new MultiThreadIoEventLoopGroup(threads, handlers);
    }

    Class<? extends ServerChannel> serverSocketChannel() {
        return epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    Class<? extends SocketChannel> socketChannel() {
        return epoll ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    Class<? extends DatagramChannel> datagramChannel() {
        return epoll ? EpollDatagramChannel.class : NioDatagramChannel.class;
    }

    /** Lets a listener bind an address that is not (yet) on the host, without root; only epoll can. */
    void allowNonLocalBind(AbstractBootstrap<?, ?> bootstrap) {
        if (epoll) {
            bootstrap.option(EpollChannelOption.IP_FREEBIND, true);
        }
    }
}
