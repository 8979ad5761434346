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
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;

/**
 * Which of Netty's transports the relay runs on: io_uring when the kernel offers it, else epoll, else NIO.
 * {@code -Drailyard.userspace.transport=io_uring|epoll|nio} picks one (falling back the same way if it does not
 * load).
 *
 * <p>io_uring first because on the capture path (issue 14, docs/performance.md) it relays a keep-alive request with
 * ~1 syscall instead of ~4.5 (one io_uring_enter submits and reaps many reads and writes) and fewer wake-ups:
 * 0.76-0.82x HAProxy's CPU per request against epoll's 0.99-1.03x on one 2-vCPU host, 0.87-0.88x against 1.00x on
 * another, where a sleep and wake-up of an event loop costs more than a request's TCP work. Containers whose
 * seccomp profile forbids io_uring (Docker's and containerd's defaults do) or hosts with
 * {@code kernel.io_uring_disabled} get epoll.
 */
final class Transport {
    private static final Logger log = LoggerFactory.getLogger(Transport.class);

    enum Kind { IO_URING, EPOLL, NIO }

    private final Kind kind;

    private Transport(Kind kind) {
        this.kind = kind;
    }

    static Transport detect() {
        return detect(System.getProperty("railyard.userspace.transport"));
    }

    /**
     * @param wanted io_uring, epoll or nio (any case), or null for the default: the first of it and those after it
     *               in that order that loads; an explicit choice that does not load is a warning
     */
    static Transport detect(String wanted) {
        Kind asked = wanted == null ? null : parse(wanted);
        boolean explicit = asked != null;
        Kind first = explicit ? asked : Kind.IO_URING;
        if (first == Kind.IO_URING) {
            if (IoUring.isAvailable()) {
                log.info("userspace proxy: native io_uring transport");
                return new Transport(Kind.IO_URING);
            }
            unavailable(explicit, "io_uring", IoUring.unavailabilityCause());
        }
        if (first != Kind.NIO) {
            if (Epoll.isAvailable()) {
                log.info("userspace proxy: native epoll transport");
                return new Transport(Kind.EPOLL);
            }
            unavailable(explicit && first == Kind.EPOLL, "epoll", Epoll.unavailabilityCause());
        }
        log.info("userspace proxy: NIO transport");
        return new Transport(Kind.NIO);
    }

    /** The transport a property names, or null (with a warning) if it names none. */
    private static Kind parse(String wanted) {
        return switch (wanted.trim().toLowerCase(Locale.ROOT)) {
            case "io_uring", "iouring", "io-uring" -> Kind.IO_URING;
            case "epoll" -> Kind.EPOLL;
            case "nio" -> Kind.NIO;
            default -> {
                log.warn("userspace proxy: unknown transport \"{}\" (io_uring, epoll or nio): using the default",
                        printable(wanted));
                yield null;
            }
        };
    }

    private static void unavailable(boolean asked, String transport, Throwable cause) {
        if (asked) {
            log.warn("userspace proxy: {} was asked for but is unavailable ({})", transport, String.valueOf(cause));
        } else {
            log.info("userspace proxy: {} unavailable ({})", transport, String.valueOf(cause));
        }
    }

    /** A system property echoed into the log: letters, digits and '_' only, and not much of it. */
    private static String printable(String value) {
        String kept = value.replaceAll("[^A-Za-z0-9_]", "?");
        return kept.length() > 32 ? kept.substring(0, 32) + "..." : kept;
    }

    Kind kind() {
        return kind;
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

    /** Lets a listener bind an address that is not (yet) on the host, without root (IP_FREEBIND); NIO cannot. */
    void allowNonLocalBind(AbstractBootstrap<?, ?> bootstrap) {
        switch (kind) {
            case IO_URING -> bootstrap.option(IoUringChannelOption.IP_FREEBIND, true);
            case EPOLL -> bootstrap.option(EpollChannelOption.IP_FREEBIND, true);
            case NIO -> { }
        }
    }
}
