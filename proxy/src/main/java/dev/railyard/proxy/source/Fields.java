package dev.railyard.proxy.source;

import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.Names;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ServicePortName;
import inet.ipaddr.IPAddress;

/** Field checks shared by the converters; each failure names the field. */
final class Fields {
    private Fields() {
    }

    static int port(int value, String field, boolean zeroAllowed) throws InvalidFieldException {
        if ((value == 0 && zeroAllowed) || (value >= 1 && value <= 65535)) {
            return value;
        }
        throw new InvalidFieldException(field, value + " is out of range " + (zeroAllowed ? "0" : "1") + "-65535");
    }

    static IPAddress address(String text, String field) throws InvalidFieldException {
        try {
            return IpAddresses.parse(text == null ? "" : text);
        } catch (IllegalArgumentException e) {
            throw new InvalidFieldException(field, e.getMessage());
        }
    }

    /** A port's name; empty (not null) when the port has none. */
    static String portName(String name, String field) throws InvalidFieldException {
        String value = name == null ? "" : name;
        if (!value.isEmpty() && !Names.isDns1123Label(value)) {
            throw new InvalidFieldException(field, "\"" + value + "\" is not a valid DNS-1123 label");
        }
        return value;
    }

    static Protocol protocol(String text, String field) throws InvalidFieldException {
        try {
            return Protocol.parse(text);
        } catch (IllegalArgumentException e) {
            throw new InvalidFieldException(field, e.getMessage());
        }
    }

    /** One port of an EndpointSlice or Endpoints object (at {@code field}), as the service port it serves. */
    static ServicePortName endpointPort(String namespace, String service, String name, String protocol, Integer port,
                                        String field) throws InvalidFieldException {
        String portName = portName(name, field + ".name");
        Protocol parsed = protocol(protocol, field + ".protocol");
        if (port == null) {
            throw new InvalidFieldException(field + ".port", "missing");
        }
        port(port, field + ".port", false);
        return ServicePortName.of(namespace, service, portName, parsed);
    }
}
