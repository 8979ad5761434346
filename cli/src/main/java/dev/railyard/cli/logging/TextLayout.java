package dev.railyard.cli.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;

import java.time.Instant;

/** {@link LogFormat#TEXT}: a readable line, the event's key-value fields in logfmt after the message. */
final class TextLayout extends LayoutBase<ILoggingEvent> {
    @Override
    public String doLayout(ILoggingEvent event) {
        StringBuilder out = new StringBuilder(160);
        out.append(Instant.ofEpochMilli(event.getTimeStamp())).append(' ')
                .append(String.format("%-5s", event.getLevel())).append(" [").append(event.getThreadName())
                .append("] ").append(event.getLoggerName()).append(": ").append(oneLine(event.getFormattedMessage()));
        LogFields.appendLogfmt(out, event.getKeyValuePairs());
        out.append(CoreConstants.LINE_SEPARATOR);
        if (event.getThrowableProxy() != null) {
            out.append(ThrowableProxyUtil.asString(event.getThrowableProxy())).append(CoreConstants.LINE_SEPARATOR);
        }
        return out.toString();
    }

    /**
     * The message with its line breaks written as {@code \n}: one event, one line, for grep and for collectors
     * that split on newlines (client-java's ApiException messages span four lines).
     */
    static String oneLine(String message) {
        if (message == null || message.indexOf('\n') < 0 && message.indexOf('\r') < 0) {
            return message;
        }
        return message.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n");
    }
}
