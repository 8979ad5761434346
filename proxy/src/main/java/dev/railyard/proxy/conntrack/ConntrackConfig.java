package dev.railyard.proxy.conntrack;

import java.time.Duration;
import java.util.Objects;

/**
 * kube-proxy's KubeProxyConntrackConfiguration (--conntrack-* flags, {@code conntrack:} in the configuration file):
 * the conntrack table size and timeouts it sets on the node at start. A zero value leaves the kernel's setting
 * alone, as in kube-proxy. Immutable.
 *
 * @param maxPerCore             connections per CPU; nf_conntrack_max becomes max(maxPerCore x CPUs, min)
 * @param min                    the least nf_conntrack_max when maxPerCore is set
 * @param tcpEstablishedTimeout  nf_conntrack_tcp_timeout_established
 * @param tcpCloseWaitTimeout    nf_conntrack_tcp_timeout_close_wait
 * @param tcpBeLiberal           nf_conntrack_tcp_be_liberal=1 (and no rule dropping INVALID packets)
 * @param udpTimeout             nf_conntrack_udp_timeout (unreplied flows)
 * @param udpStreamTimeout       nf_conntrack_udp_timeout_stream (assured flows)
 */
public record ConntrackConfig(int maxPerCore, int min, Duration tcpEstablishedTimeout, Duration tcpCloseWaitTimeout,
                              boolean tcpBeLiberal, Duration udpTimeout, Duration udpStreamTimeout) {
    /** kube-proxy's defaults: 32768 per core, at least 131072, established 24h, close-wait 1h; UDP untouched. */
    public static final ConntrackConfig KUBE_PROXY_DEFAULTS = new ConntrackConfig(32768, 131072, Duration.ofHours(24),
            Duration.ofHours(1), false, Duration.ZERO, Duration.ZERO);
    /** Touches nothing. */
    public static final ConntrackConfig UNCHANGED = new ConntrackConfig(0, 0, Duration.ZERO, Duration.ZERO, false,
            Duration.ZERO, Duration.ZERO);

    public ConntrackConfig {
        Objects.requireNonNull(tcpEstablishedTimeout, "tcpEstablishedTimeout");
        Objects.requireNonNull(tcpCloseWaitTimeout, "tcpCloseWaitTimeout");
        Objects.requireNonNull(udpTimeout, "udpTimeout");
        Objects.requireNonNull(udpStreamTimeout, "udpStreamTimeout");
        if (maxPerCore < 0) {
            throw new IllegalArgumentException("--conntrack-max-per-core must not be negative, not " + maxPerCore);
        }
        if (min < 0) {
            throw new IllegalArgumentException("--conntrack-min must not be negative, not " + min);
        }
        for (Duration d : new Duration[] {tcpEstablishedTimeout, tcpCloseWaitTimeout, udpTimeout, udpStreamTimeout}) {
            if (d.isNegative()) {
                throw new IllegalArgumentException("conntrack timeouts must not be negative, not " + d);
            }
        }
    }

    /** kube-proxy's getConntrackMax: max(maxPerCore x cpus, min) when maxPerCore is set, else 0 (leave it). */
    public int conntrackMax(int cpus) {
        if (maxPerCore <= 0) {
            return 0;
        }
        long scaled = (long) maxPerCore * cpus;
        return (int) Math.min(Integer.MAX_VALUE, Math.max(scaled, min));
    }

    public ConntrackConfig withTcpBeLiberal(boolean value) {
        return new ConntrackConfig(maxPerCore, min, tcpEstablishedTimeout, tcpCloseWaitTimeout, value, udpTimeout,
                udpStreamTimeout);
    }
}
