package dev.railyard.proxy.source;

import java.util.Objects;

/**
 * Why one object from the cluster was skipped: where it came from, which object, which field, and what is wrong
 * with it. One line, so an operator can grep for it: the object and message quote values from the cluster, so
 * control characters in them are escaped and very long ones are cut.
 */
public final class Problem {
    /** Longer messages are cut: a 100,000-character name is quoted whole by no one. */
    static final int MAX_TEXT = 300;

    private final String location;
    private final String object;
    private final String field;
    private final String message;
    private final boolean unexpected;

    public Problem(String location, String object, String field, String message) {
        this(oneLine(Objects.requireNonNull(location, "location")), oneLine(Objects.requireNonNull(object, "object")),
                field == null ? "" : oneLine(field), oneLine(Objects.requireNonNull(message, "message")), false);
    }

    /** Takes texts already made one line. */
    private Problem(String location, String object, String field, String message, boolean unexpected) {
        this.location = location;
        this.object = object;
        this.field = field;
        this.message = message;
        this.unexpected = unexpected;
    }

    /**
     * An object that made a reader fail in a way no validation foresaw: a bug, reported as a problem so that the
     * other objects are still programmed.
     */
    public static Problem unexpected(String location, String object, RuntimeException e) {
        return new Problem(oneLine(location), oneLine(object), "", oneLine("cannot be read (" + e + ")"), true);
    }

    /** This problem is a reader's bug ({@link #unexpected}), not an invalid field. */
    public boolean isUnexpected() {
        return unexpected;
    }

    /** The same problem found at a narrower location (a file and line instead of a directory). */
    public Problem withLocation(String narrower) {
        return new Problem(oneLine(narrower), object, field, message, unexpected);
    }

    /** The same problem with {@code suffix} added to its message (e.g. what happens to the object now). */
    public Problem withMessageSuffix(String suffix) {
        return new Problem(location, object, field, message + oneLine(suffix), unexpected);
    }

    /** "file:line", or another description of the source. */
    public String location() {
        return location;
    }

    /** "Service default/web". */
    public String object() {
        return object;
    }

    /** "spec.ports[0].port"; empty when the object as a whole is wrong. */
    public String field() {
        return field;
    }

    public String message() {
        return message;
    }

    @Override
    public String toString() {
        return location + ": " + object + ": " + (field.isEmpty() ? "" : field + ": ") + message;
    }

    /** Control characters escaped as \\n, \\t or \\u00XX; cut after {@link #MAX_TEXT} characters. */
    static String oneLine(String text) {
        StringBuilder out = null;
        int length = Math.min(text.length(), MAX_TEXT);
        for (int i = 0; i < length; i++) {
            char c = text.charAt(i);
            boolean control = Character.isISOControl(c) || c == '\u2028' || c == '\u2029';
            if (control && out == null) {
                out = new StringBuilder(length + 16).append(text, 0, i);
            }
            if (out != null) {
                if (c == '\n') {
                    out.append("\\n");
                } else if (c == '\r') {
                    out.append("\\r");
                } else if (c == '\t') {
                    out.append("\\t");
                } else if (control) {
                    out.append(String.format("\\u%04x", (int) c));
                } else {
                    out.append(c);
                }
            }
        }
        if (out == null && text.length() <= MAX_TEXT) {
            return text;
        }
        if (out == null) {
            out = new StringBuilder(text.substring(0, MAX_TEXT));
        }
        if (text.length() > MAX_TEXT) {
            out.append("... (").append(text.length() - MAX_TEXT).append(" more characters)");
        }
        return out.toString();
    }
}
