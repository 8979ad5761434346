package dev.railyard.overlay.lease;

/**
 * Node state that survives a restart outside the host: in kube mode the Node's annotations hold the addresses an
 * operator chose ({@code node-public-ip}, {@code node-public-ipv6}) and the VTEP MACs the last run published, which
 * flannel reuses so peers' neighbour entries stay valid.
 *
 * @param publicIp {@code node-public-ip}, or null
 * @param publicIpv6 {@code node-public-ipv6}, or null
 * @param vtepMac the MAC in {@code backend-data}, or null
 * @param vtepMacV6 the MAC in {@code backend-v6-data}, or null
 */
public record StoredNodeState(String publicIp, String publicIpv6, String vtepMac, String vtepMacV6) {
    public static final StoredNodeState NONE = new StoredNodeState(null, null, null, null);
}
