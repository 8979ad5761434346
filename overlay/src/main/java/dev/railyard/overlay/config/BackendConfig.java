package dev.railyard.overlay.config;

/**
 * The {@code Backend} object of the network config.
 *
 * @param vni VXLAN network identifier; flannel's default is 1
 * @param port UDP port of the encapsulation: VXLAN's default (0 in flannel) means the Linux kernel's 8472, so we
 *     store 8472; the udp backend's default is 8285; unused by host-gw
 * @param directRouting VXLAN only: peers on the same L2 segment get a host-gw style route instead
 */
public record BackendConfig(BackendType type, int vni, int port, boolean directRouting) {
    public static final int DEFAULT_VNI = 1;
    public static final int DEFAULT_VXLAN_PORT = 8472;
    public static final int DEFAULT_UDP_PORT = 8285;

    public BackendConfig {
        if (type == null) {
            throw new ConfigException("network config field Backend.Type: missing");
        }
        if (vni < 0 || vni > 0xFFFFFF) {
            throw new ConfigException("network config field Backend.VNI: " + vni + " is outside 0..16777215");
        }
        if (port < 0 || port > 65535) {
            throw new ConfigException("network config field Backend.Port: " + port + " is outside 0..65535");
        }
    }

    /** The port a type uses when the config gives none. */
    public static int defaultPort(BackendType type) {
        return switch (type) {
            case VXLAN -> DEFAULT_VXLAN_PORT;
            case UDP -> DEFAULT_UDP_PORT;
            case HOST_GW -> 0;
        };
    }

    /** flannel's backend when the config has no {@code Backend}: udp on port 8285. */
    public static BackendConfig flannelDefault() {
        return new BackendConfig(BackendType.UDP, DEFAULT_VNI, DEFAULT_UDP_PORT, false);
    }
}
