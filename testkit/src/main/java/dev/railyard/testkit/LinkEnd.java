package dev.railyard.testkit;

import java.util.ArrayList;
import java.util.List;

/**
 * One end of a link as seen from inside a namespace: the interface name and the addresses the kit assigned
 * (in CIDR form, e.g. {@code 10.0.0.1/24}; null when that family was not configured).
 */
public record LinkEnd(NetworkNamespace namespace, String interfaceName, String ipv4Cidr, String ipv6Cidr) {

    public boolean hasIpv4() {
        return ipv4Cidr != null;
    }

    public boolean hasIpv6() {
        return ipv6Cidr != null;
    }

    /** The IPv4 address without prefix length, e.g. {@code 10.0.0.1}. */
    public String ipv4() {
        if (ipv4Cidr == null) {
            throw new IllegalStateException("no IPv4 address was configured on " + this);
        }
        return withoutPrefix(ipv4Cidr);
    }

    /** The IPv6 address without prefix length, e.g. {@code fd00::1}. */
    public String ipv6() {
        if (ipv6Cidr == null) {
            throw new IllegalStateException("no IPv6 address was configured on " + this);
        }
        return withoutPrefix(ipv6Cidr);
    }

    /** Adds another address to this interface (IPv6 without duplicate address detection, so it is usable at once). */
    public void addAddress(String cidr) {
        addAddress(namespace, interfaceName, cidr);
    }

    /** {@code ip route add DESTINATION dev IFACE}: destination reachable directly on this link. */
    public void addRoute(String destinationCidr) {
        namespace.execChecked(routeCommand(destinationCidr, null));
    }

    /** {@code ip route add DESTINATION via GATEWAY dev IFACE}; destination may be {@code default}. */
    public void addRoute(String destinationCidr, String gateway) {
        namespace.execChecked(routeCommand(destinationCidr, gateway));
    }

    @Override
    public String toString() {
        return interfaceName + " in " + namespace.name()
                + (ipv4Cidr != null ? " " + ipv4Cidr : "") + (ipv6Cidr != null ? " " + ipv6Cidr : "");
    }

    static void addAddress(NetworkNamespace namespace, String interfaceName, String cidr) {
        if (cidr.contains(":")) {
            // Without nodad the address stays "tentative" for ~2 s and bind()/connect() from it fail meanwhile.
            namespace.execChecked("ip", "-6", "addr", "add", cidr, "dev", interfaceName, "nodad");
        } else {
            namespace.execChecked("ip", "addr", "add", cidr, "dev", interfaceName);
        }
    }

    static String withoutPrefix(String cidr) {
        int slash = cidr.indexOf('/');
        return slash < 0 ? cidr : cidr.substring(0, slash);
    }

    private String[] routeCommand(String destination, String gateway) {
        boolean ipv6 = destination.contains(":") || (gateway != null && gateway.contains(":"));
        List<String> argv = new ArrayList<>(List.of("ip", ipv6 ? "-6" : "-4", "route", "add", destination));
        if (gateway != null) {
            argv.addAll(List.of("via", gateway));
        }
        argv.addAll(List.of("dev", interfaceName));
        return argv.toArray(String[]::new);
    }
}
