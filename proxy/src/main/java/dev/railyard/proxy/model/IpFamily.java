package dev.railyard.proxy.model;

/** The address family one proxier instance programs; dual-stack nodes run one of each. */
public enum IpFamily {
    V4("IPv4"),
    V6("IPv6");

    private final String kubernetesName;

    IpFamily(String kubernetesName) {
        this.kubernetesName = kubernetesName;
    }

    /** The spelling used by the Kubernetes API (ipFamilies, EndpointSlice addressType). */
    public String kubernetesName() {
        return kubernetesName;
    }

    public static IpFamily of(int version) {
        switch (version) {
            case 4:
                return V4;
            case 6:
                return V6;
            default:
                throw new IllegalArgumentException("IP family must be 4 or 6, not " + version);
        }
    }
}
