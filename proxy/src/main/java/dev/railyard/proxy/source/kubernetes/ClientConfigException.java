package dev.railyard.proxy.source.kubernetes;

/** The API server client cannot be configured; the message names the file, URL or setting at fault. */
public final class ClientConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    public ClientConfigException(String message) {
        super(message);
    }

    public ClientConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
