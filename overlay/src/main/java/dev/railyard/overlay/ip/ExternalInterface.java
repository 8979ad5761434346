package dev.railyard.overlay.ip;

import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.config.Ip6Address;
import dev.railyard.overlay.config.Ip6Net;

/**
 * The interface that carries traffic between hosts, as flannel's interface selection resolves it (see
 * {@link InterfaceSelector}).
 *
 * @param name interface name
 * @param address the interface's IPv4 address (source of encapsulated traffic); 0 when IPv4 is not used
 * @param network the on-link network of that address, for deciding which peers are directly reachable; null
 *     without IPv4
 * @param publicIp the IPv4 address published to peers (usually {@code address}; differs behind NAT); 0 without IPv4
 * @param mtu the interface MTU
 * @param address6 the interface's IPv6 address, or null when IPv6 is not used
 * @param network6 the on-link network of that address, or null
 * @param publicIpv6 the IPv6 address published to peers, or null
 */
public record ExternalInterface(String name, int address, Ip4Net network, int publicIp, int mtu,
                                Ip6Address address6, Ip6Net network6, Ip6Address publicIpv6) {

    /** An IPv4-only interface. */
    public ExternalInterface(String name, int address, Ip4Net network, int publicIp, int mtu) {
        this(name, address, network, publicIp, mtu, null, null, null);
    }

    public boolean hasIpv4() {
        return network != null;
    }

    public boolean hasIpv6() {
        return address6 != null;
    }

    /**
     * Resolves {@code iface} (a name or an address) or, when null, the interface of {@code publicIp} or of the
     * default route, for IPv4 only; the single-selector form of {@link InterfaceSelector}.
     */
    public static ExternalInterface detect(IpRunner ip, String iface, String publicIp) {
        InterfaceSelector.Options options = new InterfaceSelector.Options(
                iface == null || iface.isBlank() ? java.util.List.of() : java.util.List.of(iface),
                java.util.List.of(), null, publicIp, null);
        return new InterfaceSelector(ip).select(options, true, false);
    }
}
