package dev.railyard.cli.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.Marker;

/**
 * Drops the two errors client-java logs for every informer when the daemon stops it: stopping interrupts the
 * informer's threads, and its controller and processor report the interruption at error level. On SIGTERM that
 * is six ERROR lines for a clean exit, which operators are told to grep for.
 */
final class InformerShutdownFilter extends TurboFilter {
    private static final String CONTROLLER = "io.kubernetes.client.informer.cache.Controller";
    private static final String PROCESSOR = "io.kubernetes.client.informer.cache.ProcessorListener";

    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params,
                             Throwable t) {
        if (format == null || level != Level.ERROR) {
            return FilterReply.NEUTRAL;
        }
        String name = logger.getName();
        if (name.equals(CONTROLLER) && format.startsWith("DefaultController#processLoop get interrupted")
                || name.equals(PROCESSOR) && format.startsWith("processor interrupted")) {
            return FilterReply.DENY;
        }
        return FilterReply.NEUTRAL;
    }
}
