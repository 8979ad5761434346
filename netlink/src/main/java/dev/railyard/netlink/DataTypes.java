package dev.railyard.netlink;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** Renders values of simple data types for messages. */
final class DataTypes {

    private DataTypes() {
    }

    static String format(DataType type, byte[] value) {
        try {
            if ((type == DataType.IPV4_ADDR && value.length == 4) || (type == DataType.IPV6_ADDR && value.length == 16)) {
                return InetAddress.getByAddress(value).getHostAddress();
            }
        } catch (UnknownHostException e) {
            return SetElement.hex(value);
        }
        if (type == DataType.INET_SERVICE && value.length == 2) {
            return Integer.toString(((value[0] & 0xff) << 8) | (value[1] & 0xff));
        }
        if (type == DataType.INET_PROTO && value.length == 1) {
            int protocol = value[0] & 0xff;
            return protocol == Values.TCP ? "tcp" : protocol == Values.UDP ? "udp" : protocol == Values.SCTP ? "sctp"
                    : Integer.toString(protocol);
        }
        return SetElement.hex(value);
    }
}
