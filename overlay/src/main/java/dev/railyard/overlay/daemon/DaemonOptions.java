package dev.railyard.overlay.daemon;

import dev.railyard.overlay.ip.InterfaceSelector;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Everything the daemon is told on its command line, apart from where leases live.
 *
 * @param interfaces how to pick the external interface and the public addresses ({@code --iface},
 *     {@code --iface-regex}, {@code --iface-can-reach}, {@code --public-ip}, {@code --public-ipv6})
 * @param renewMargin renew this long before the lease would expire (flannel: 60 min)
 * @param netns program this named network namespace instead of our own (tests, sidecar setups)
 * @param resyncInterval how often routes, devices and masquerade rules are re-applied (flannel: 10 s
 *     for routes, 5 s for iptables)
 */
public record DaemonOptions(InterfaceSelector.Options interfaces, Path subnetFile, boolean ipMasq, Duration renewMargin,
                            String netns, Duration resyncInterval) {
    public static final Path DEFAULT_SUBNET_FILE = Path.of("/run/flannel/subnet.env");
    public static final Duration DEFAULT_RENEW_MARGIN = Duration.ofMinutes(60);
    public static final Duration DEFAULT_RESYNC_INTERVAL = Duration.ofSeconds(10);

    public DaemonOptions {
        interfaces = interfaces == null ? new InterfaceSelector.Options(null, null, null, null, null) : interfaces;
        subnetFile = subnetFile == null ? DEFAULT_SUBNET_FILE : subnetFile;
        renewMargin = renewMargin == null ? DEFAULT_RENEW_MARGIN : renewMargin;
        resyncInterval = resyncInterval == null ? DEFAULT_RESYNC_INTERVAL : resyncInterval;
        if (renewMargin.isNegative() || renewMargin.isZero()) {
            throw new IllegalArgumentException("--subnet-lease-renew-margin must be positive, got " + renewMargin);
        }
    }

    /** One {@code --iface} (or none) and an optional {@code --public-ip}. */
    public DaemonOptions(String iface, String publicIp, Path subnetFile, boolean ipMasq, Duration renewMargin,
                         String netns, Duration resyncInterval) {
        this(new InterfaceSelector.Options(iface == null || iface.isBlank() ? List.of() : List.of(iface), List.of(),
                null, publicIp, null), subnetFile, ipMasq, renewMargin, netns, resyncInterval);
    }
}
