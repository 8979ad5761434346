package dev.railyard.overlay.lease;

/** Every allocatable subnet is leased or reserved; retrying will not help until one is released. */
public final class NetworkFullException extends LeaseException {
    private static final long serialVersionUID = 1L;

    public NetworkFullException(String message) {
        super(message);
    }
}
