package dev.railyard.netlink;

import com.sun.jna.LastErrorException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Runs code inside a named network namespace ({@code /run/netns/NAME}, as {@code ip netns add} makes) without
 * moving any thread of the caller: sockets and devices a thread creates belong to the namespace it is in at that
 * moment and stay there, so creating them on a short-lived thread that entered the namespace with
 * setns(CLONE_NEWNET), and ends right after, is enough to use them from anywhere.
 */
public final class NetworkNamespaces {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,255}");

    private NetworkNamespaces() {
    }

    /**
     * The result of {@code action}, run inside namespace {@code name}, or on the calling thread when {@code name}
     * is null. Runtime exceptions and errors of {@code action} are rethrown.
     */
    public static <T> T callIn(String name, Supplier<T> action) {
        if (name == null) {
            return action.get();
        }
        if (!NAME.matcher(name).matches() || name.startsWith(".")) {
            throw new IllegalArgumentException("network namespace name must match " + NAME + " and not start with '.': " + name);
        }
        AtomicReference<Object> outcome = new AtomicReference<>();
        Thread worker = new Thread(() -> {
            try {
                enter(name);
                outcome.set(new Result(action.get()));
            } catch (RuntimeException | Error e) {
                outcome.set(e);
            }
        }, "netns-" + name);
        worker.setDaemon(true);
        worker.start();
        try {
            worker.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NetlinkException("interrupted while working in network namespace " + name, 0, e);
        }
        Object result = outcome.get();
        if (result instanceof Result r) {
            @SuppressWarnings("unchecked")
            T value = (T) r.value;
            return value;
        }
        if (result instanceof RuntimeException e) {
            throw e;
        }
        throw (Error) result;
    }

    private record Result(Object value) {
    }

    private static void enter(String name) {
        int nsFd;
        try {
            nsFd = LibC.open("/run/netns/" + name, LibC.O_RDONLY | LibC.O_CLOEXEC);
        } catch (LastErrorException e) {
            throw new NetlinkException("cannot open /run/netns/" + name, e.getErrorCode(), e);
        }
        try {
            LibC.setns(nsFd, LibC.CLONE_NEWNET);
        } catch (LastErrorException e) {
            throw new NetlinkException("cannot enter network namespace " + name, e.getErrorCode(), e);
        } finally {
            try {
                LibC.close(nsFd);
            } catch (LastErrorException ignored) {
                // nothing to do about a failed close of a namespace handle
            }
        }
    }
}
