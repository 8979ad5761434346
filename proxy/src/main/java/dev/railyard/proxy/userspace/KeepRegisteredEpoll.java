package dev.railyard.proxy.userspace;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.util.concurrent.ThreadAwareExecutor;

/**
 * Netty's epoll I/O handler with one fix. In Netty 4.2.18, submitting no interest at all deletes the socket from
 * the epoll set but leaves its registration marked as added, so the next interest (EPOLLOUT, when a write has to
 * wait) is an epoll_ctl MOD of a socket that is not there: ENOENT, the channel's output is shut and the relay
 * resets the connection. A proxy meets that whenever a client half-closes (its input is done, so nothing is
 * wanted from it) and the endpoint's reply then outruns the client's socket buffer.
 *
 * <p>Here "no interest" is submitted as "edge-triggered, nothing": the socket stays in the set, and the EPOLLHUP
 * and EPOLLERR that epoll reports regardless come once per change instead of on every wake-up, which is what
 * Netty's deletion was avoiding.
 */
final class KeepRegisteredEpoll implements IoHandlerFactory {
    private final IoHandlerFactory epoll = EpollIoHandler.newFactory();

    @Override
    public IoHandler newHandler(ThreadAwareExecutor executor) {
        IoHandler handler = epoll.newHandler(executor);
        return new IoHandler() {
            @Override
            public void initialize() {
                handler.initialize();
            }

            @Override
            public int run(IoHandlerContext context) {
                return handler.run(context);
            }

            @Override
            public void prepareToDestroy() {
                handler.prepareToDestroy();
            }

            @Override
            public void destroy() {
                handler.destroy();
            }

            @Override
            public IoRegistration register(IoHandle handle) throws Exception {
                return new KeptRegistration(handler.register(handle));
            }

            @Override
            public void wakeup() {
                handler.wakeup();
            }

            @Override
            public boolean isCompatible(Class<? extends IoHandle> handleType) {
                return handler.isCompatible(handleType);
            }
        };
    }

    @Override
    public boolean isChangingThreadSupported() {
        return epoll.isChangingThreadSupported();
    }

    private record KeptRegistration(IoRegistration registration) implements IoRegistration {
        @Override
        public <T> T attachment() {
            return registration.attachment();
        }

        @Override
        public long submit(IoOps ops) {
            return registration.submit(EpollIoOps.NONE.equals(ops) ? EpollIoOps.EPOLLET : ops);
        }

        @Override
        public boolean isValid() {
            return registration.isValid();
        }

        @Override
        public boolean cancel() {
            return registration.cancel();
        }
    }
}
