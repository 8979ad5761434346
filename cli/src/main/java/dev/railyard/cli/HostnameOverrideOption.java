package dev.railyard.cli;

import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * --hostname-override, declared once for {@code railyard proxy} and the commands that take {@link NodeOptions}: a
 * picocli mixin. How the name is completed (the host name, the configuration file) is each command's own.
 */
final class HostnameOverrideOption {
    /** Null when not given. */
    @Option(names = "--hostname-override", paramLabel = "NAME",
            description = "This node's name, which decides which endpoints are local (default: the host name).")
    String hostname;

    /**
     * A node name as kube-proxy takes it (nodeutil.GetHostname): trimmed and lower-cased, given or from the host,
     * so that every command matches an endpoint's {@code nodeName} the same way.
     */
    static String asNodeName(String name) {
        return name.trim().toLowerCase(Locale.ROOT);
    }
}
