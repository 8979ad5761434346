package dev.railyard.proxy.source;

import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.Names;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ServicePortName;
import inet.ipaddr.IPAddress;

import java.util.List;

/** Field checks shared by the converters; each failure names the field. */
final class Fields {
    private Fields() {
    }

    /**
     * The list at {@code field}, empty when absent. Every list of an object is read through here: JSON and the
     * API's decoders both accept {@code [null]}, and a null entry must be reported, not dereferenced.
     */
    static <T> List<T> list(List<T> values, String field) throws InvalidFieldException {
        if (values == null) {
            return List.of();
        }
        for (int i = 0; i < values.size(); i++) {
            if (values.get(i) == null) {
                throw new InvalidFieldException(field + "[" + i + "]", "null entry (a list entry must have a value)");
            }
        }
        return values;
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

    /**
     * One port of an EndpointSlice or Endpoints object (at {@code field}), as the service port it serves. Two
     * ports of one object serving the same service port are refused, as the API server refuses them: their
     * endpoints would be listed twice under one port.
     */
    static ServicePortName endpointPort(String namespace, String service, String name, String protocol, Integer port,
                                        String field, List<ServicePortName> earlier) throws InvalidFieldException {
        String portName = portName(name, field + ".name");
        Protocol parsed = protocol(protocol, field + ".protocol");
        if (port == null) {
            throw new InvalidFieldException(field + ".port", "missing");
        }
        port(port, field + ".port", false);
        ServicePortName result = ServicePortName.of(namespace, service, portName, parsed);
        if (earlier.contains(result)) {
            throw new InvalidFieldException(field + ".name", "duplicate port \"" + portName + "\" over " + parsed);
        }
        return result;
    }
}
