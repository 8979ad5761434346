package dev.railyard.proxy.model;

import java.util.Locale;

/** Transport protocols a Service port can carry. */
public enum Protocol {
    TCP,
    UDP,
    SCTP;

    private final String lowerCase = name().toLowerCase(Locale.ROOT);

    /** The spelling iptables and kube-proxy's chain hashes use. */
    public String lowerCase() {
        return lowerCase;
    }

    /** Parses the Kubernetes spelling; null means the API default, TCP. */
    public static Protocol parse(String value) {
        if (value == null) {
            return TCP;
        }
        for (Protocol protocol : values()) {
            if (protocol.name().equals(value)) {
                return protocol;
            }
        }
        throw new IllegalArgumentException("unsupported protocol \"" + value + "\" (must be TCP, UDP or SCTP)");
    }
}
