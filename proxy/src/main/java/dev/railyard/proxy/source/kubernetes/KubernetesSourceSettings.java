package dev.railyard.proxy.source.kubernetes;

import java.time.Duration;
import java.util.Objects;

/**
 * Tunables of {@link KubernetesSource}.
 *
 * @param resyncPeriod how often every known object is re-delivered as an unchanged update, so the proxy
 *     re-programs rules someone else may have flushed (kube-proxy's {@code --config-sync-period}, 15 min by
 *     default there); {@link Duration#ZERO} turns it off
 * @param backoff the pause between failed list/watch attempts
 * @param nodeName whose Node object to watch (topology labels, pod CIDRs, deletion); null for none
 * @param serviceCidrs whether to watch networking.k8s.io/v1 ServiceCIDRs (nftables mode uses them)
 */
public record KubernetesSourceSettings(Duration resyncPeriod, RetryBackoff backoff, String nodeName,
                                       boolean serviceCidrs) {
    /** kube-proxy's default {@code --config-sync-period}. */
    public static final Duration KUBE_PROXY_CONFIG_SYNC_PERIOD = Duration.ofMinutes(15);

    public KubernetesSourceSettings {
        Objects.requireNonNull(resyncPeriod, "resyncPeriod");
        Objects.requireNonNull(backoff, "backoff");
        if (resyncPeriod.isNegative()) {
            throw new IllegalArgumentException("resync period must not be negative, got " + resyncPeriod);
        }
    }

    public KubernetesSourceSettings(Duration resyncPeriod, RetryBackoff backoff) {
        this(resyncPeriod, backoff, null, false);
    }

    /** No periodic resync, client-go's backoff, no Node, no ServiceCIDRs. */
    public static KubernetesSourceSettings defaults() {
        return new KubernetesSourceSettings(Duration.ZERO, RetryBackoff.CLIENT_GO_DEFAULT);
    }

    public KubernetesSourceSettings withResyncPeriod(Duration period) {
        return new KubernetesSourceSettings(period, backoff, nodeName, serviceCidrs);
    }

    public KubernetesSourceSettings withBackoff(RetryBackoff retryBackoff) {
        return new KubernetesSourceSettings(resyncPeriod, retryBackoff, nodeName, serviceCidrs);
    }

    /** Also watch this node's Node object. */
    public KubernetesSourceSettings withNode(String name) {
        return new KubernetesSourceSettings(resyncPeriod, backoff, name, serviceCidrs);
    }

    /** Also watch ServiceCIDRs. */
    public KubernetesSourceSettings withServiceCidrs(boolean watch) {
        return new KubernetesSourceSettings(resyncPeriod, backoff, nodeName, watch);
    }
}
