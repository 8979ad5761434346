package dev.railyard.overlay.config;

/**
 * No network config is stored yet. Unlike a broken config this is usually a matter of time (nodes
 * often start before the operator runs {@code config put}), so the daemon waits for it.
 */
public final class MissingConfigException extends ConfigException {
    private static final long serialVersionUID = 1L;

    public MissingConfigException(String message) {
        super(message);
    }
}
