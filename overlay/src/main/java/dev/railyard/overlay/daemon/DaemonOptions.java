package dev.railyard.overlay.daemon;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Everything the daemon is told on its command line, apart from how to reach etcd.
 *
 * @param iface interface name or address carrying inter-host traffic; null picks the default route's
 * @param publicIp address published to peers; null uses the interface's address
 * @param renewMargin renew this long before the lease would expire (flannel: 60 min)
 * @param netns program this named network namespace instead of our own (tests, sidecar setups)
 * @param resyncInterval how often routes, devices and masquerade rules are re-applied (flannel: 10 s
 *     for routes, 5 s for iptables)
 */
public record DaemonOptions(String iface, String publicIp, Path subnetFile, boolean ipMasq, Duration renewMargin,
                            String netns, Duration resyncInterval) {
    public static final Path DEFAULT_SUBNET_FILE = Path.of("/run/flannel/subnet.env");
    public static final Duration DEFAULT_RENEW_MARGIN = Duration.ofMinutes(60);
    public static final Duration DEFAULT_RESYNC_INTERVAL = Duration.ofSeconds(10);

    public DaemonOptions {
        subnetFile = subnetFile == null ? DEFAULT_SUBNET_FILE : subnetFile;
        renewMargin = renewMargin == null ? DEFAULT_RENEW_MARGIN : renewMargin;
        resyncInterval = resyncInterval == null ? DEFAULT_RESYNC_INTERVAL : resyncInterval;
        if (renewMargin.isNegative() || renewMargin.isZero()) {
            throw new IllegalArgumentException("--subnet-lease-renew-margin must be positive, got " + renewMargin);
        }
    }
}
