package dev.railyard.overlay.ip;

/** An iproute2 or iptables invocation failed as a whole; the message carries the command and stderr. */
public final class IpException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public IpException(String message) {
        super(message);
    }

    public IpException(String message, Throwable cause) {
        super(message, cause);
    }
}
