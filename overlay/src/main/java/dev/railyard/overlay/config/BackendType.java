package dev.railyard.overlay.config;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The backends this overlay implements, spelled as flannel spells them in {@code Backend.Type}. */
public enum BackendType {
    HOST_GW("host-gw"),
    VXLAN("vxlan"),
    /** flannel's default when the config names no backend: IP packets in UDP datagrams through a TUN device. */
    UDP("udp");

    private final String flannelName;

    BackendType(String flannelName) {
        this.flannelName = flannelName;
    }

    public String flannelName() {
        return flannelName;
    }

    public static BackendType fromFlannelName(String name) {
        for (BackendType t : values()) {
            if (t.flannelName.equals(name)) {
                return t;
            }
        }
        throw new ConfigException("network config field Backend.Type: '" + name + "' is not supported (supported: "
                + Arrays.stream(values()).map(BackendType::flannelName).collect(Collectors.joining(", ")) + ")");
    }
}
