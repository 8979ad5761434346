package dev.railyard.overlay.kube;

import dev.railyard.overlay.config.ConfigException;
import java.util.regex.Pattern;

/**
 * The Node annotations of flannel's kube subnet manager (pkg/subnet/kube/annotations.go), under a prefix
 * ({@code --kube-annotation-prefix}, default {@code flannel.alpha.coreos.com}): what each node publishes
 * ({@code backend-type}, {@code backend-data}, {@code backend-v6-data}, {@code public-ip}, {@code public-ipv6},
 * {@code kube-subnet-manager}) and what an operator sets ({@code public-ip-overwrite}, {@code public-ipv6-overwrite}:
 * the address peers must use; {@code node-public-ip}, {@code node-public-ipv6}: a local address to use).
 */
public record NodeAnnotations(String subnetKubeManaged, String backendData, String backendV6Data, String backendType,
                              String publicIp, String publicIpv6, String nodePublicIp, String nodePublicIpv6,
                              String publicIpOverwrite, String publicIpv6Overwrite) {

    public static final String DEFAULT_PREFIX = "flannel.alpha.coreos.com";
    private static final Pattern PREFIX = Pattern.compile("(?:[a-z0-9_-]+\\.)+[a-z0-9_-]+/(?:[a-z0-9_-]+-)?");

    /** As flannel: a prefix without a slash gets one; one that ends in neither {@code /} nor {@code -} gets a dash. */
    public static NodeAnnotations withPrefix(String prefix) {
        String p = prefix == null ? DEFAULT_PREFIX : prefix.trim();
        long slashes = p.chars().filter(c -> c == '/').count();
        if (slashes > 1) {
            throw new ConfigException("--kube-annotation-prefix " + prefix + ": at most one slash");
        }
        if (slashes == 0) {
            p += "/";
        }
        if (!p.endsWith("/") && !p.endsWith("-")) {
            p += "-";
        }
        if (!PREFIX.matcher(p).matches()) {
            throw new ConfigException("--kube-annotation-prefix " + prefix + ": must be a domain name, optionally "
                    + "followed by /name (lower case letters, digits, '.', '_', '-')");
        }
        return new NodeAnnotations(p + "kube-subnet-manager", p + "backend-data", p + "backend-v6-data",
                p + "backend-type", p + "public-ip", p + "public-ipv6", p + "node-public-ip", p + "node-public-ipv6",
                p + "public-ip-overwrite", p + "public-ipv6-overwrite");
    }
}
