package dev.railyard.overlay.masq;

import dev.railyard.overlay.config.NetworkConfig;
import dev.railyard.overlay.ip.IpRunner;
import dev.railyard.overlay.lease.Lease;

/**
 * flannel's {@code --ip-masq} (its "traffic manager"): pod-to-pod traffic keeps its source address, traffic from
 * pods to anywhere else is masqueraded, and forwarding of pod traffic is accepted even where the FORWARD policy is
 * DROP. Applied in iptables or, with {@code EnableNFTables}, in flannel's own nftables tables; starting in one
 * mode removes the other mode's rules, as flannel does.
 */
public interface Masquerade {

    /** Installs (or replaces) the rules for {@code own} in every family of {@code config}. Idempotent. */
    void apply(NetworkConfig config, Lease own);

    /** Removes everything this mode installs; a no-op when there is nothing. */
    void cleanUp();

    /** The implementation {@code config} asks for. */
    static Masquerade forConfig(NetworkConfig config, IpRunner ip) {
        return config.enableNFTables() ? new NftablesMasquerade(ip) : new IptablesMasquerade(ip);
    }

    /** The other one, whose leftovers a start in {@code config}'s mode removes. */
    static Masquerade otherThan(NetworkConfig config, IpRunner ip) {
        return config.enableNFTables() ? new IptablesMasquerade(ip) : new NftablesMasquerade(ip);
    }
}
