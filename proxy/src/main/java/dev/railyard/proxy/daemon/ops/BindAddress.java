package dev.railyard.proxy.daemon.ops;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/** Parses kube-proxy's bind address flags: "host:port", "[v6]:port", ":port" (all addresses); port 0 = any. */
public final class BindAddress {
    private BindAddress() {
    }

    public static InetSocketAddress parse(String text) {
        int colon = text.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("bind address \"" + text + "\" must be host:port");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.indexOf(':') >= 0) {
            throw new IllegalArgumentException("bind address \"" + text + "\": put IPv6 addresses in brackets");
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bind address \"" + text + "\" has no valid port", e);
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("bind address \"" + text + "\": port out of range 0-65535");
        }
        if (host.isEmpty()) {
            return new InetSocketAddress(port);
        }
        try {
            // Numeric addresses only in practice; a name is resolved once, here, not on every restart of a listener.
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("bind address \"" + text + "\": unknown host " + host, e);
        }
    }
}
