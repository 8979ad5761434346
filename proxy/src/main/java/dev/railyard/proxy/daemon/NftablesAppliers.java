package dev.railyard.proxy.daemon;

import dev.railyard.nftables.NftApplier;
import dev.railyard.nftables.NftCommand;
import dev.railyard.nftables.netlink.NetlinkApplier;

import java.util.List;

/** The applier nftables mode writes through, for the namespace the daemon programs. */
final class NftablesAppliers {
    private NftablesAppliers() {
    }

    /**
     * @param commandPrefix what commands run behind: empty for this namespace, {@code ip netns exec NAME} for
     *                      another one, which a netlink socket is opened in instead
     * @throws IllegalArgumentException for a netlink applier behind any other prefix
     */
    static NftApplier open(NftablesOptions.Applier applier, List<String> commandPrefix) {
        if (applier == NftablesOptions.Applier.NFT) {
            return NftCommand.create().withCommandPrefix(commandPrefix);
        }
        if (commandPrefix.isEmpty()) {
            return NetlinkApplier.open();
        }
        if (commandPrefix.size() == 4 && commandPrefix.subList(0, 3).equals(List.of("ip", "netns", "exec"))) {
            return NetlinkApplier.open(commandPrefix.get(3));
        }
        throw new IllegalArgumentException("the netlink applier programs this network namespace or a named one "
                + "(ip netns exec NAME), not behind " + commandPrefix);
    }
}
