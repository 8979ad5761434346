package dev.railyard.proxy.inspect;

import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import inet.ipaddr.IPAddress;

import java.util.Objects;

/**
 * The first packet of a new connection, as a trace follows it.
 *
 * @param source      source address (canonical text)
 * @param sourcePort  source port, or 0 when unknown (rules that test it then cannot be evaluated)
 * @param destination destination address (canonical text)
 * @param port        destination port
 * @param protocol    TCP, UDP or SCTP
 * @param origin      where it comes from, which decides the hooks it meets
 * @param inInterface the interface it arrives on, or null when unknown (rules that test it then cannot be
 *                    evaluated); ignored for packets the node sends
 */
public record Packet(String source, int sourcePort, String destination, int port, Protocol protocol, Origin origin,
                     String inInterface) {

    public Packet {
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(origin, "origin");
        IPAddress src = parseAddress("source", source);
        IPAddress dst = parseAddress("destination", destination);
        if (src.getIPVersion() != dst.getIPVersion()) {
            throw new IllegalArgumentException("source " + source + " and destination " + destination
                    + " are of different IP families");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("destination port " + port + " is out of range 1-65535");
        }
        if (sourcePort < 0 || sourcePort > 65535) {
            throw new IllegalArgumentException("source port " + sourcePort + " is out of range 1-65535");
        }
        source = IpAddresses.canonical(src);
        destination = IpAddresses.canonical(dst);
        inInterface = inInterface == null || inInterface.isBlank() ? null : inInterface.strip();
    }

    /** A packet with an unknown source port and incoming interface. */
    public static Packet of(String source, String destination, int port, Protocol protocol, Origin origin) {
        return new Packet(source, 0, destination, port, protocol, origin, null);
    }

    public IpFamily family() {
        return IpAddresses.familyOf(IpAddresses.parse(destination));
    }

    /** "tcp 192.0.2.2 -> 10.96.0.10:80 from external". */
    public String describe() {
        return protocol.lowerCase() + " " + hostPort(source, sourcePort) + " -> " + hostPort(destination, port)
                + " from " + origin.flagValue() + (inInterface != null && origin.arrives() ? " on " + inInterface : "");
    }

    /** address:port, with IPv6 addresses in brackets; the address alone when port is 0. */
    public static String hostPort(String address, int port) {
        if (port == 0) {
            return address;
        }
        return (address.indexOf(':') >= 0 ? "[" + address + "]" : address) + ":" + port;
    }

    private static IPAddress parseAddress(String what, String text) {
        try {
            return IpAddresses.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + ": " + e.getMessage(), e);
        }
    }
}
