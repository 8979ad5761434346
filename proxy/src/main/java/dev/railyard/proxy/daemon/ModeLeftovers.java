package dev.railyard.proxy.daemon;

import dev.railyard.nftables.Family;
import dev.railyard.nftables.NftCommand;
import dev.railyard.nftables.NftException;
import dev.railyard.proxy.apply.IptablesBackend;
import dev.railyard.proxy.apply.IptablesCleanup;
import dev.railyard.proxy.apply.IptablesException;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.render.nftables.NftablesLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * What the other proxy modes left on this node, removed when the daemon starts, as kube-proxy's platformCleanup
 * does: starting in nftables mode removes the iptables chains and jump rules of iptables mode (and of the old
 * userspace capture), starting in any other mode removes the nftables tables. Only what those modes create is
 * touched. A node without the other mode's tools has nothing of it to remove, so a failure is logged, not fatal.
 */
public final class ModeLeftovers {
    private static final Logger log = LoggerFactory.getLogger(ModeLeftovers.class);

    private final ProxyMode mode;
    private final IptablesBackend backend;
    private final List<String> commandPrefix;

    /** @param commandPrefix what every command runs behind, e.g. {@code ip netns exec NAME} */
    public ModeLeftovers(ProxyMode mode, IptablesBackend backend, List<String> commandPrefix) {
        this.mode = mode;
        this.backend = backend;
        this.commandPrefix = List.copyOf(commandPrefix);
    }

    public void removeOtherModes() throws InterruptedException {
        if (mode == ProxyMode.NFTABLES) {
            removeIptablesChains();
        } else {
            removeNftablesTables();
        }
    }

    private void removeIptablesChains() throws InterruptedException {
        for (IpFamily family : IpFamily.values()) {
            try {
                List<String> deleted = IptablesCleanup.of(family, backend).withCommandPrefix(commandPrefix).run();
                if (!deleted.isEmpty()) {
                    log.info("removed {} {} chains left by iptables mode", deleted.size(), family.kubernetesName());
                }
            } catch (IptablesException e) {
                log.info("no {} iptables leftovers removed: {}", family.kubernetesName(), e.getMessage());
            }
        }
    }

    private void removeNftablesTables() throws InterruptedException {
        NftCommand nft = NftCommand.create().withCommandPrefix(commandPrefix);
        for (Family family : List.of(Family.IP, Family.IP6)) {
            try {
                if (nft.deleteTableIfExists(family, NftablesLayout.TABLE)) {
                    log.info("removed table {} {} left by nftables mode", family, NftablesLayout.TABLE);
                }
            } catch (NftException e) {
                log.debug("no nftables leftovers removed: {}", e.getMessage());
            }
        }
    }
}
