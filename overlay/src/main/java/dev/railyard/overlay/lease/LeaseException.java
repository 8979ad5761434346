package dev.railyard.overlay.lease;

/** etcd could not be used for a lease operation; the message says which operation and why. */
public class LeaseException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public LeaseException(String message) {
        super(message);
    }

    public LeaseException(String message, Throwable cause) {
        super(message, cause);
    }
}
