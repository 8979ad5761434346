package dev.railyard.proxy.model;

import java.util.Collection;
import java.util.Comparator;
import java.util.Objects;
import java.util.Set;

/**
 * One backend of one service port, with the conditions EndpointSlices carry. Immutable; the KUBE-SEP- chain name
 * is computed once because a sync may render a hundred thousand of these.
 */
public final class Endpoint {
    /** kube-proxy's prefix of per-endpoint chains. */
    public static final String CHAIN_PREFIX = "KUBE-SEP-";

    private final String ip;
    private final int port;
    private final boolean ready;
    private final boolean serving;
    private final boolean terminating;
    private final String nodeName;
    private final String zone;
    /** hints.forZones: the zones whose nodes should use this endpoint (topology-aware routing); empty when none. */
    private final Set<String> zoneHints;
    /** hints.forNodes: the nodes that should use this endpoint (trafficDistribution PreferSameNode). */
    private final Set<String> nodeHints;
    /** IPv6: "ip:port" is written "[ip]:port". Kept as a flag: 120,000 endpoints held 7 MB of those strings. */
    private final boolean bracketed;
    /**
     * "KUBE-SEP-" and the hash, whole: the renderer's sets of chains in use hold this very string, so a large
     * cluster keeps one string per endpoint rather than the hash and the chain name apart (about 7 MB at 100,000).
     * Computed on first use, as {@link #nftablesChainName}: the nftables flat layout needs it only for endpoints
     * with affinity, and a SHA-256 per endpoint of every slice read is CPU a sync waits for.
     */
    private String chainName;
    private final ServicePortName servicePort;
    /** kube-proxy's nftables prefix of per-endpoint chains. */
    public static final String NFTABLES_CHAIN_PREFIX = "endpoint-";
    /** kube-proxy's nftables chain name; computed on first use, since only nftables mode needs it. */
    private String nftablesChainName;

    private Endpoint(Builder b) {
        this.ip = Objects.requireNonNull(b.ip, "ip");
        if (b.port < 1 || b.port > 65535) {
            throw new IllegalArgumentException("endpoint port " + b.port + " is out of range 1-65535");
        }
        this.port = b.port;
        this.ready = b.ready;
        this.serving = b.serving;
        this.terminating = b.terminating;
        this.nodeName = b.nodeName;
        this.zone = b.zone;
        this.zoneHints = b.zoneHints;
        this.nodeHints = b.nodeHints;
        this.bracketed = ip.indexOf(':') >= 0;
        this.servicePort = Objects.requireNonNull(b.servicePort, "servicePort");
    }

    /** @param ip canonical textual form (see {@link IpAddresses#canonical}) */
    public static Builder builder(ServicePortName servicePort, String ip, int port) {
        return new Builder(servicePort, ip, port);
    }

    public String ip() {
        return ip;
    }

    public int port() {
        return port;
    }

    /** Ready to receive new connections (the API's nil means ready). */
    public boolean ready() {
        return ready;
    }

    public boolean serving() {
        return serving;
    }

    public boolean terminating() {
        return terminating;
    }

    /** Null when the slice does not say. */
    public String nodeName() {
        return nodeName;
    }

    public String zone() {
        return zone;
    }

    /** The zones of hints.forZones; empty when the slice gives none. */
    public Set<String> zoneHints() {
        return zoneHints;
    }

    /** The nodes of hints.forNodes; empty when the slice gives none. */
    public Set<String> nodeHints() {
        return nodeHints;
    }

    public boolean isOn(String node) {
        return nodeName != null && nodeName.equals(node);
    }

    /** "ip:port", with brackets around IPv6 addresses, as DNAT --to-destination wants it. Built on each call. */
    public String hostPort() {
        return (bracketed ? "[" + ip + "]" : ip) + ":" + port;
    }

    /** Whether {@link #hostPort()} brackets the address (IPv6). */
    public boolean bracketed() {
        return bracketed;
    }

    /** kube-proxy's order of a service port's endpoints: by {@link #compareHostPort}. */
    public static final Comparator<Endpoint> HOST_PORT_ORDER = Endpoint::compareHostPort;

    /**
     * Orders endpoints as their {@link #hostPort()} strings compare, kube-proxy's order, without building them:
     * state is sorted on every sync.
     */
    public int compareHostPort(Endpoint other) {
        int length = hostPortLength();
        int otherLength = other.hostPortLength();
        for (int i = 0, n = Math.min(length, otherLength); i < n; i++) {
            char a = hostPortChar(i);
            char b = other.hostPortChar(i);
            if (a != b) {
                return a - b;
            }
        }
        return length - otherLength;
    }

    private int hostPortLength() {
        return (bracketed ? ip.length() + 2 : ip.length()) + 1 + digits(port);
    }

    private char hostPortChar(int i) {
        int at = i;
        if (bracketed) {
            if (at == 0) {
                return '[';
            }
            at--;
        }
        if (at < ip.length()) {
            return ip.charAt(at);
        }
        at -= ip.length();
        if (bracketed) {
            if (at == 0) {
                return ']';
            }
            at--;
        }
        if (at == 0) {
            return ':';
        }
        int fromEnd = digits(port) - at + 1; // 1 = the last digit
        int value = port;
        for (int k = 1; k < fromEnd; k++) {
            value /= 10;
        }
        return (char) ('0' + value % 10);
    }

    private static int digits(int value) {
        return value >= 10000 ? 5 : value >= 1000 ? 4 : value >= 100 ? 3 : value >= 10 ? 2 : 1;
    }

    /** kube-proxy's KUBE-SEP- suffix for this endpoint of its service port; built on each call. */
    public String hash() {
        return chainName().substring(CHAIN_PREFIX.length());
    }

    /** kube-proxy's KUBE-SEP- chain of this endpoint of its service port; a racy first use computes it twice. */
    public String chainName() {
        String name = chainName;
        if (name == null) {
            name = CHAIN_PREFIX + servicePort.endpointHash(hostPort());
            chainName = name;
        }
        return name;
    }

    /**
     * kube-proxy's nftables chain of this endpoint: {@code endpoint-HASH-namespace/name/protocol/port__ip/port},
     * IPv6 colons written as dots ({@code endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80}); its affinity set
     * has the same name after another prefix. Computed once; a racy first use computes the same string twice.
     */
    public String nftablesChainName() {
        String name = nftablesChainName;
        if (name == null) {
            name = NFTABLES_CHAIN_PREFIX + ServicePortName.nftablesHashAndTruncate(servicePort.nftablesName() + "__"
                    + (bracketed ? ip.replace(':', '.') : ip) + "/" + port);
            nftablesChainName = name;
        }
        return name;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof Endpoint)) {
            return false;
        }
        Endpoint that = (Endpoint) o;
        return servicePort.equals(that.servicePort) && port == that.port && ip.equals(that.ip) && ready == that.ready
                && serving == that.serving && terminating == that.terminating
                && Objects.equals(nodeName, that.nodeName) && Objects.equals(zone, that.zone)
                && zoneHints.equals(that.zoneHints) && nodeHints.equals(that.nodeHints);
    }

    @Override
    public int hashCode() {
        return (servicePort.hashCode() * 31 + ip.hashCode()) * 31 + port;
    }

    @Override
    public String toString() {
        return hostPort() + (ready ? "" : serving ? (terminating ? " (serving, terminating)" : " (serving)")
                : (terminating ? " (terminating)" : " (not ready)")) + (nodeName == null ? "" : " on " + nodeName);
    }

    public static final class Builder {
        private final ServicePortName servicePort;
        private final String ip;
        private final int port;
        private boolean ready = true;
        private boolean serving = true;
        private boolean terminating;
        private String nodeName;
        private String zone;
        private Set<String> zoneHints = Set.of();
        private Set<String> nodeHints = Set.of();

        private Builder(ServicePortName servicePort, String ip, int port) {
            this.servicePort = servicePort;
            this.ip = ip;
            this.port = port;
        }

        public Builder ready(boolean value) {
            this.ready = value;
            return this;
        }

        public Builder serving(boolean value) {
            this.serving = value;
            return this;
        }

        public Builder terminating(boolean value) {
            this.terminating = value;
            return this;
        }

        public Builder nodeName(String value) {
            this.nodeName = value;
            return this;
        }

        public Builder zone(String value) {
            this.zone = value;
            return this;
        }

        /** hints.forZones names; duplicates count once. */
        public Builder zoneHints(Collection<String> value) {
            this.zoneHints = Set.copyOf(value);
            return this;
        }

        /** hints.forNodes names; duplicates count once. */
        public Builder nodeHints(Collection<String> value) {
            this.nodeHints = Set.copyOf(value);
            return this;
        }

        public Endpoint build() {
            return new Endpoint(this);
        }
    }
}
