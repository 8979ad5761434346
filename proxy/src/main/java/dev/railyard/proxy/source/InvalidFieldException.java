package dev.railyard.proxy.source;

/** A field of an object from the cluster that cannot be programmed; carries the field's path. */
public final class InvalidFieldException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String field;

    public InvalidFieldException(String field, String message) {
        super(message, null, false, false);
        this.field = field;
    }

    /** Path in the object, e.g. "spec.ports[1].protocol". */
    public String field() {
        return field;
    }
}
