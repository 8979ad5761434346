package dev.railyard.nftables;

/**
 * A transaction was refused, or could not be applied at all. When the refusal is about one operation, it is
 * named: its index in the transaction and its script line, so the caller can tell which object caused it.
 */
public final class NftException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Why, in the kernel's terms where it gave one. */
    public enum Reason {
        /** An object the operation needs does not exist (ENOENT). */
        NOT_FOUND,
        /** The object exists already, or differently (EEXIST). */
        EXISTS,
        /** The object is still referenced (EBUSY). */
        BUSY,
        /** The operation is malformed or not allowed (EINVAL, EOPNOTSUPP, a syntax error). */
        INVALID,
        /** Anything else: the tool could not run, timed out, or gave an error this model does not classify. */
        OTHER
    }

    private final Reason reason;
    private final int operationIndex;
    private final String operationLine;

    public NftException(Reason reason, String message, int operationIndex, String operationLine) {
        super(operationLine == null ? message : message + " (operation " + (operationIndex + 1) + ": "
                + operationLine + ")");
        this.reason = reason;
        this.operationIndex = operationIndex;
        this.operationLine = operationLine;
    }

    public NftException(Reason reason, String message) {
        this(reason, message, -1, null);
    }

    public NftException(String message, Throwable cause) {
        super(message, cause);
        this.reason = Reason.OTHER;
        this.operationIndex = -1;
        this.operationLine = null;
    }

    public Reason reason() {
        return reason;
    }

    /** 0-based index of the refused operation in its transaction; -1 when no single operation was named. */
    public int operationIndex() {
        return operationIndex;
    }

    /** The refused operation's script line; null when no single operation was named. */
    public String operationLine() {
        return operationLine;
    }
}
