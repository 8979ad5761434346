package dev.railyard.proxy.daemon.ops;

import dev.railyard.proxy.model.IpAddresses;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * An IP and port to serve on ({@code --healthz-bind-address}, {@code --metrics-bind-address}) as kube-proxy
 * spells them: "IP:PORT", "[IPv6]:PORT", ":PORT" (every address, {@code ip} empty), or "" to turn the server off
 * ({@link #DISABLED}). Only numeric addresses: the flags are parsed at start, so that a typo fails before the
 * rules are touched, and a name would have to be resolved again whenever a listener restarts. Immutable.
 */
public record BindAddress(String ip, int port) {
    public static final BindAddress DISABLED = new BindAddress(null, 0);

    /**
     * @param flag names the setting in the error, e.g. "--healthz-bind-address"
     * @throws IllegalArgumentException naming the flag, the text and what is wrong with it
     */
    public static BindAddress parse(String flag, String text) {
        String value = text.trim();
        if (value.isEmpty()) {
            return DISABLED;
        }
        int colon = value.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException(flag + ": \"" + text + "\" must be IP:PORT (e.g. 0.0.0.0:10256), "
                    + ":PORT, or empty to disable");
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw new IllegalArgumentException(flag + ": \"" + text + "\": write an IPv6 address as [IP]:PORT");
        }
        int port;
        try {
            port = Integer.parseInt(value.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(flag + ": \"" + text + "\": the port must be 0-65535");
        }
        if (!host.isEmpty()) {
            try {
                IpAddresses.parse(host);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(flag + ": \"" + text + "\": " + host + " is not an IP address");
            }
        }
        return new BindAddress(host, port);
    }

    public boolean disabled() {
        return ip == null;
    }

    /** Whether both would listen on the same port of some address (port 0 picks a free port, so never). */
    public boolean overlaps(BindAddress other) {
        if (disabled() || other.disabled() || port == 0 || port != other.port) {
            return false;
        }
        return ip.equals(other.ip) || allAddresses(ip) || allAddresses(other.ip);
    }

    /** The socket address to bind; ":PORT" is the wildcard address. */
    public InetSocketAddress socketAddress() {
        if (disabled()) {
            throw new IllegalStateException("a disabled bind address has no socket address");
        }
        if (ip.isEmpty()) {
            return new InetSocketAddress(port);
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(ip), port); // numeric: no lookup happens
        } catch (UnknownHostException e) {
            throw new IllegalStateException("validated address " + ip + " did not parse", e);
        }
    }

    private static boolean allAddresses(String ip) {
        return ip.isEmpty() || ip.equals("0.0.0.0") || ip.equals("::");
    }

    @Override
    public String toString() {
        return disabled() ? "(disabled)" : (ip.contains(":") ? "[" + ip + "]" : ip) + ":" + port;
    }
}
