package dev.railyard.overlay.lease;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * How to reach etcd and where the network lives in it.
 *
 * @param caFile CA bundle to verify etcd's server certificate; null trusts the JVM's default CAs
 * @param certFile client certificate (PEM); with {@code keyFile}, enables mutual TLS
 * @param keyFile client private key (PEM, PKCS#8: "BEGIN PRIVATE KEY")
 * @param leaseTtl TTL of newly granted leases; flannel uses 24h
 * @param requestTimeout bound on each etcd request so an unreachable etcd fails instead of hanging
 */
public record EtcdOptions(List<String> endpoints, String prefix, Path caFile, Path certFile, Path keyFile,
                          Duration leaseTtl, Duration requestTimeout) {

    public static final String DEFAULT_PREFIX = "/coreos.com/network";
    public static final Duration DEFAULT_TTL = Duration.ofHours(24);

    public EtcdOptions {
        if (endpoints == null || endpoints.isEmpty()) {
            throw new IllegalArgumentException("--etcd-endpoints: at least one endpoint is required");
        }
        endpoints = List.copyOf(endpoints);
        for (String e : endpoints) {
            if (!e.startsWith("http://") && !e.startsWith("https://")) {
                throw new IllegalArgumentException("--etcd-endpoints: '" + e + "' must start with http:// or https://");
            }
        }
        if ((certFile == null) != (keyFile == null)) {
            throw new IllegalArgumentException("--etcd-certfile and --etcd-keyfile must be given together");
        }
        prefix = new SubnetKeys(prefix).prefix();
        leaseTtl = leaseTtl == null ? DEFAULT_TTL : leaseTtl;
        if (leaseTtl.toSeconds() < 2) {
            throw new IllegalArgumentException("subnet lease TTL " + leaseTtl + " is below etcd's minimum of 2s");
        }
        requestTimeout = requestTimeout == null ? Duration.ofSeconds(5) : requestTimeout;
    }

    public static EtcdOptions plain(List<String> endpoints, String prefix) {
        return new EtcdOptions(endpoints, prefix, null, null, null, null, null);
    }

    public EtcdOptions withLeaseTtl(Duration ttl) {
        return new EtcdOptions(endpoints, prefix, caFile, certFile, keyFile, ttl, requestTimeout);
    }

    public boolean usesTls() {
        return caFile != null || certFile != null || endpoints.stream().anyMatch(e -> e.startsWith("https://"));
    }
}
