package dev.railyard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/** {@code railyard proxy ARGS} running on a thread of this JVM; interrupting it is how it is stopped. */
final class InProcessProxy {
    private static final Duration STOP_WAIT = Duration.ofSeconds(30);

    private final AtomicInteger exitCode = new AtomicInteger(-1);
    private final StringWriter err = new StringWriter();
    private final Thread thread;

    private InProcessProxy(String... args) {
        String[] command = new String[args.length + 1];
        command[0] = "proxy";
        System.arraycopy(args, 0, command, 1, args.length);
        thread = new Thread(() -> {
            picocli.CommandLine commandLine = Railyard.commandLine();
            commandLine.getSubcommands().get("proxy").setErr(new PrintWriter(err));
            exitCode.set(commandLine.execute(command));
        }, "railyard-proxy-under-test");
    }

    static InProcessProxy start(String... args) {
        InProcessProxy proxy = new InProcessProxy(args);
        proxy.thread.start();
        return proxy;
    }

    void stop() throws InterruptedException {
        thread.interrupt();
        thread.join(STOP_WAIT.toMillis());
    }

    /** What the command wrote to standard error so far (its log). */
    String err() {
        return err.toString();
    }

    void assertStoppedCleanly() {
        assertThat(thread.isAlive()).as("stopped").isFalse();
        assertThat(exitCode.get()).as("exit status; stderr: %s", err).isZero();
    }
}
