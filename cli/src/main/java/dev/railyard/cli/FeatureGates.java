package dev.railyard.cli;

import java.util.List;
import java.util.Locale;

/**
 * kube-proxy's --feature-gates (featureGates in the configuration file), for the gates Railyard implements.
 * Gates of kube-proxy that are GA or whose behaviour Railyard always has are accepted at their default value only;
 * any other name is an error, so that a gate the operator relies on is never silently ignored.
 *
 * @param preferSameTrafficDistribution hints.forNodes (trafficDistribution PreferSameNode): beta and on since 1.34
 */
record FeatureGates(boolean preferSameTrafficDistribution) {
    static final FeatureGates DEFAULTS = new FeatureGates(true);

    /** @throws IllegalArgumentException naming the entry that is wrong */
    static FeatureGates parse(List<String> entries) {
        boolean preferSame = DEFAULTS.preferSameTrafficDistribution();
        for (String entry : entries) {
            String text = entry.trim();
            if (text.isEmpty()) {
                continue;
            }
            int eq = text.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("--feature-gates: \"" + text + "\" is not GATE=true|false");
            }
            String name = text.substring(0, eq).trim();
            boolean value = bool(text.substring(eq + 1).trim(), text);
            preferSame = set(preferSame, name, value);
        }
        return new FeatureGates(preferSame);
    }

    /** The configuration file's featureGates mapping over {@code base}. */
    static FeatureGates of(java.util.Map<String, Boolean> gates, FeatureGates base) {
        boolean preferSame = base.preferSameTrafficDistribution();
        for (java.util.Map.Entry<String, Boolean> gate : gates.entrySet()) {
            preferSame = set(preferSame, gate.getKey(), gate.getValue());
        }
        return new FeatureGates(preferSame);
    }

    private static boolean set(boolean preferSame, String name, boolean value) {
        switch (name) {
            case "PreferSameTrafficDistribution":
                return value;
            // Locked on in the releases Railyard follows: only their default is accepted.
            case "LoadBalancerIPMode", "TopologyAwareHints", "ServiceTrafficDistribution",
                    "KubeProxyDrainingTerminatingNodes", "MultiCIDRServiceAllocator", "NFTablesProxyMode":
                if (!value) {
                    throw new IllegalArgumentException("--feature-gates: " + name + " is always on in Railyard");
                }
                return preferSame;
            default:
                throw new IllegalArgumentException("--feature-gates: " + name + " is not a feature gate Railyard "
                        + "implements (known: PreferSameTrafficDistribution)");
        }
    }

    private static boolean bool(String value, String entry) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("--feature-gates: \"" + entry + "\" is not GATE=true|false");
        };
    }
}
