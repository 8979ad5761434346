package dev.railyard.cli.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;

import java.time.Instant;
import java.util.Locale;

/**
 * {@link LogFormat#JSON}: one object per line, {@code ts} (RFC 3339, UTC), {@code level}, {@code logger},
 * {@code thread}, {@code msg}, every key-value field, and {@code err} with the stack trace when there is one.
 * A field named like one of those fixed members is written as {@code field_<name>} so the line stays valid.
 */
final class JsonLayout extends LayoutBase<ILoggingEvent> {
    @Override
    public String doLayout(ILoggingEvent event) {
        StringBuilder out = new StringBuilder(256);
        out.append("{\"ts\":\"").append(Instant.ofEpochMilli(event.getTimeStamp())).append('"');
        out.append(",\"level\":\"").append(event.getLevel().toString().toLowerCase(Locale.ROOT)).append('"');
        out.append(",\"logger\":");
        LogFields.appendJsonString(out, event.getLoggerName());
        out.append(",\"thread\":");
        LogFields.appendJsonString(out, event.getThreadName());
        out.append(",\"msg\":");
        LogFields.appendJsonString(out, event.getFormattedMessage());
        LogFields.appendJsonMembers(out, event.getKeyValuePairs(), JsonLayout::reserved);
        if (event.getThrowableProxy() != null) {
            out.append(",\"err\":");
            LogFields.appendJsonString(out, ThrowableProxyUtil.asString(event.getThrowableProxy()));
        }
        out.append('}').append(CoreConstants.LINE_SEPARATOR);
        return out.toString();
    }

    private static boolean reserved(String key) {
        return switch (key) {
            case "ts", "level", "logger", "thread", "msg", "err" -> true;
            default -> false;
        };
    }
}
