package dev.railyard.cli.logging;

import org.slf4j.event.KeyValuePair;

import java.util.List;
import java.util.function.Predicate;

/**
 * Writes an event's key-value pairs in either format. Values stay typed in JSON (numbers and booleans are not
 * quoted) so that a pipeline can aggregate them; in text they follow logfmt's quoting, so a namespace or name
 * with a space or quote cannot make one field look like two.
 */
final class LogFields {
    private LogFields() {
    }

    static void appendLogfmt(StringBuilder out, List<KeyValuePair> pairs) {
        if (pairs == null) {
            return;
        }
        for (KeyValuePair pair : pairs) {
            out.append(' ').append(pair.key).append('=');
            String value = String.valueOf(pair.value);
            if (value.isEmpty() || needsQuotes(value)) {
                appendJsonString(out, value);
            } else {
                out.append(value);
            }
        }
    }

    /** @param reserved keys the caller already wrote; such a pair is written as {@code field_<key>} */
    static void appendJsonMembers(StringBuilder out, List<KeyValuePair> pairs, Predicate<String> reserved) {
        if (pairs == null) {
            return;
        }
        for (KeyValuePair pair : pairs) {
            out.append(',');
            appendJsonString(out, reserved.test(pair.key) ? "field_" + pair.key : pair.key);
            out.append(':');
            appendJsonValue(out, pair.value);
        }
    }

    static void appendJsonValue(StringBuilder out, Object value) {
        if (value == null) {
            out.append("null");
        } else if (value instanceof Boolean
                || value instanceof Integer || value instanceof Long || value instanceof Short
                || value instanceof Byte) {
            out.append(value);
        } else if (value instanceof Double d && Double.isFinite(d) || value instanceof Float f && Float.isFinite(f)) {
            out.append(value);
        } else {
            appendJsonString(out, String.valueOf(value));
        }
    }

    static void appendJsonString(StringBuilder out, String text) {
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    private static boolean needsQuotes(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) {
                return true;
            }
        }
        return false;
    }
}
