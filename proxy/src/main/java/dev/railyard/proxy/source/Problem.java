package dev.railyard.proxy.source;

import java.util.Objects;

/**
 * Why one object from the cluster was skipped: where it came from, which object, which field, and what is wrong
 * with it. One line, so an operator can grep for it.
 */
public final class Problem {
    private final String location;
    private final String object;
    private final String field;
    private final String message;

    public Problem(String location, String object, String field, String message) {
        this.location = Objects.requireNonNull(location, "location");
        this.object = Objects.requireNonNull(object, "object");
        this.field = field == null ? "" : field;
        this.message = Objects.requireNonNull(message, "message");
    }

    /**
     * An object that made a reader fail in a way no validation foresaw: a bug, reported as a problem so that the
     * other objects are still programmed. The empty field marks it; the property tests assert none occurs.
     */
    public static Problem unexpected(String location, String object, RuntimeException e) {
        return new Problem(location, object, "", "cannot be read (" + e + ")");
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
}
