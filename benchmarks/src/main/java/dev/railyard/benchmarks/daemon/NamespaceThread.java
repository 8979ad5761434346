package dev.railyard.benchmarks.daemon;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * One thread of this JVM that lives in a named network namespace ({@code /run/netns/NAME}): every socket it
 * creates belongs to that namespace, while the rest of the JVM stays where it is. This is how the benchmark's
 * client and server run in the node's and the pod's namespaces and still read {@link System#nanoTime()} of the
 * same JVM as the daemon's sync hook. setns(2) moves only the calling thread.
 */
final class NamespaceThread implements AutoCloseable {
    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;
    private static final int CLONE_NEWNET = 0x40000000;

    static {
        Native.register(NamespaceThread.class, "c");
    }

    private static native int open(String path, int flags) throws LastErrorException;

    private static native int setns(int fd, int nstype) throws LastErrorException;

    private static native int close(int fd) throws LastErrorException;

    private final ExecutorService executor;

    private NamespaceThread(ExecutorService executor) {
        this.executor = executor;
    }

    /** A thread that has entered namespace {@code name}; fails if it cannot. */
    static NamespaceThread enter(String namespace, String threadName) throws Exception {
        ExecutorService executor = Executors.newSingleThreadExecutor(task -> {
            Thread thread = new Thread(task, threadName);
            thread.setDaemon(true);
            return thread;
        });
        NamespaceThread result = new NamespaceThread(executor);
        try {
            result.call(() -> {
                int fd = open("/run/netns/" + namespace, O_RDONLY | O_CLOEXEC);
                try {
                    setns(fd, CLONE_NEWNET);
                } finally {
                    close(fd);
                }
                return null;
            }, 10_000);
        } catch (Exception e) {
            executor.shutdownNow();
            throw new IllegalStateException("cannot enter network namespace " + namespace, e);
        }
        return result;
    }

    /** Runs {@code task} on the namespace's thread. */
    <T> Future<T> submit(Callable<T> task) {
        return executor.submit(task);
    }

    /** Runs {@code task} on the namespace's thread and waits for it, at most {@code timeoutMillis}. */
    <T> T call(Callable<T> task, long timeoutMillis) throws Exception {
        Future<T> future = executor.submit(task);
        try {
            return future.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        } finally {
            future.cancel(true);
        }
    }

    /** Stops the thread (interrupting a task in progress); the namespace it holds is released when it ends. */
    @Override
    public void close() throws InterruptedException {
        executor.shutdownNow();
        executor.awaitTermination(10, TimeUnit.SECONDS);
    }
}
