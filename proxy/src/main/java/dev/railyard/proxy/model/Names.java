package dev.railyard.proxy.model;

import java.util.regex.Pattern;

/**
 * Kubernetes name rules. Everything that reaches an iptables comment passes through here, which is what
 * makes names from the cluster unable to inject iptables arguments: a valid name has no quotes, spaces or
 * dashes at the start.
 */
public final class Names {
    private static final Pattern DNS1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern DNS1035_LABEL = Pattern.compile("[a-z]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern DNS1123_SUBDOMAIN =
            Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    private static final int LABEL_MAX = 63;
    private static final int SUBDOMAIN_MAX = 253;

    private Names() {
    }

    /** Namespaces and port names: RFC 1123 labels. */
    public static boolean isDns1123Label(String value) {
        return value != null && value.length() <= LABEL_MAX && DNS1123_LABEL.matcher(value).matches();
    }

    /** Service names: RFC 1035 labels (must start with a letter). */
    public static boolean isDns1035Label(String value) {
        return value != null && value.length() <= LABEL_MAX && DNS1035_LABEL.matcher(value).matches();
    }

    /** Object names such as EndpointSlices and node names. */
    public static boolean isDns1123Subdomain(String value) {
        return value != null && value.length() <= SUBDOMAIN_MAX && DNS1123_SUBDOMAIN.matcher(value).matches();
    }

    static String requireLabel(String value, String what) {
        if (!isDns1123Label(value)) {
            throw new IllegalArgumentException(what + " \"" + value + "\" is not a valid DNS-1123 label");
        }
        return value;
    }
}
