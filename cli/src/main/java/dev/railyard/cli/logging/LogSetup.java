package dev.railyard.cli.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.jul.LevelChangePropagator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Layout;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

import java.io.OutputStream;

/**
 * Points every logger at one stderr appender with the chosen format and verbosity, replacing logback's default
 * configuration (debug-level, its own pattern). Done once, before a command runs.
 *
 * <p>Verbosity follows klog's {@code -v} as kube-proxy's manifests use it: up to 3 is the normal operational
 * level (info), 4 and 5 add debug detail (per-sync skips, watch events), 6 and above trace. The libraries'
 * loggers (client-java, OkHttp, gRPC, Netty) stay at warn unless the verbosity is 6 or more: their info lines
 * are noise for an operator.
 */
public final class LogSetup {
    private static final String[] LIBRARIES = {"io.kubernetes", "okhttp3", "io.grpc", "io.netty", "io.etcd"};

    private LogSetup() {
    }

    public static void configure(LogFormat format, int verbosity) {
        configure(format, verbosity, System.err);
    }

    /** As {@link #configure(LogFormat, int)}, writing to {@code out} (tests). */
    public static void configure(LogFormat format, int verbosity, OutputStream out) {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return; // another SLF4J provider is bound (embedding, tests): leave its configuration alone
        }
        context.reset();
        Layout<ILoggingEvent> layout = format == LogFormat.JSON ? new JsonLayout() : new TextLayout();
        layout.setContext(context);
        layout.start();
        LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
        encoder.setContext(context);
        encoder.setLayout(layout);
        encoder.start();
        // Not ConsoleAppender: its start() replaces the stream with System.out/err, so tests could not capture it.
        OutputStreamAppender<ILoggingEvent> appender = new OutputStreamAppender<>();
        appender.setContext(context);
        appender.setName("stderr");
        appender.setEncoder(encoder);
        appender.setOutputStream(out);
        appender.start();

        // java.util.logging (gRPC, under etcd's client) printed its own two-line records on stderr, INFO included.
        if (!SLF4JBridgeHandler.isInstalled()) {
            SLF4JBridgeHandler.removeHandlersForRootLogger();
            SLF4JBridgeHandler.install();
        }
        LevelChangePropagator julLevels = new LevelChangePropagator();
        julLevels.setContext(context);
        julLevels.setResetJUL(true);
        julLevels.start();
        context.addListener(julLevels);

        InformerShutdownFilter shutdownNoise = new InformerShutdownFilter();
        shutdownNoise.setContext(context);
        shutdownNoise.start();
        context.addTurboFilter(shutdownNoise);

        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(level(verbosity));
        root.addAppender(appender);
        Level libraries = verbosity >= 6 ? Level.TRACE : Level.WARN;
        for (String library : LIBRARIES) {
            context.getLogger(library).setLevel(libraries);
        }
    }

    static Level level(int verbosity) {
        if (verbosity >= 6) {
            return Level.TRACE;
        }
        return verbosity >= 4 ? Level.DEBUG : Level.INFO;
    }
}
