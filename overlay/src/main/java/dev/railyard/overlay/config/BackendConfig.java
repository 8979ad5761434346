package dev.railyard.overlay.config;

/**
 * The {@code Backend} object of the network config.
 *
 * @param vni VXLAN network identifier; flannel's default is 1
 * @param port VXLAN UDP port; flannel's default (0) means the Linux kernel's 8472, so we store 8472
 * @param directRouting VXLAN only: peers on the same L2 segment get a host-gw style route instead
 */
public record BackendConfig(BackendType type, int vni, int port, boolean directRouting) {
    public static final int DEFAULT_VNI = 1;
    public static final int DEFAULT_VXLAN_PORT = 8472;

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
}
