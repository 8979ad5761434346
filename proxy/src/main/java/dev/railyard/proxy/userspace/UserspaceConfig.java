package dev.railyard.proxy.userspace;

import dev.railyard.proxy.model.IpFamily;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Settings of the userspace proxier. Immutable; {@link #builder} fills in kube-proxy's userspace defaults.
 *
 * @param nodeName           this node's name: endpoints on it are local for the Local traffic policies
 * @param nodeIps            this node's addresses, the first of each family its primary: a
 *                           spec.loadBalancerSourceRanges entry that holds the primary one also admits traffic
 *                           from the load-balancer IPs themselves, as in kube-proxy
 * @param bindAddress        where node ports (service-address mode) or capture listeners (capture mode) listen;
 *                           in capture mode the other family's listeners use that family's wildcard address
 * @param listenMode         listen on the service addresses themselves, or on ports for iptables capture
 * @param connectTimeout     for each attempt to connect to an endpoint
 * @param maxConnectAttempts endpoints tried for one TCP connection before the client is closed
 * @param udpIdleTimeout     a UDP session with no datagram either way for this long is closed
 * @param maxUdpSessions     per UDP listener; datagrams from further clients are dropped
 * @param maxAffinityEntries client IPs remembered per service port under ClientIP affinity
 * @param eventLoopThreads   threads serving every listener and connection
 * @param relayWarmupExchanges synthetic exchanges relayed through a loopback listener when the proxier starts, so
 *                           that the relay is compiled before real traffic (0: none)
 */
public record UserspaceConfig(String nodeName, List<InetAddress> nodeIps, InetAddress bindAddress,
                              ListenMode listenMode, Duration connectTimeout, int maxConnectAttempts,
                              Duration udpIdleTimeout, int maxUdpSessions, int maxAffinityEntries,
                              int eventLoopThreads, int relayWarmupExchanges) {
    /**
     * What the daemon relays after its first sync: about 4 s of one CPU on a 2-CPU node, enough for C2 to compile
     * the relay's path (its threshold is 10,000 calls) with the connection paths in its profile. {@code
     * -Drailyard.userspace.relayWarmupExchanges=N} overrides it (0: none).
     */
    public static final int DEFAULT_RELAY_WARMUP_EXCHANGES =
            Integer.getInteger("railyard.userspace.relayWarmupExchanges", 30_000);
    private static final InetAddress IPV4_ANY = anyAddress(new byte[4]);
    private static final InetAddress IPV6_ANY = anyAddress(new byte[16]);

    public UserspaceConfig {
        Objects.requireNonNull(nodeName, "nodeName");
        nodeIps = List.copyOf(Objects.requireNonNull(nodeIps, "nodeIps"));
        Objects.requireNonNull(bindAddress, "bindAddress");
        Objects.requireNonNull(listenMode, "listenMode");
        requirePositive(connectTimeout, "connectTimeout");
        requirePositive(udpIdleTimeout, "udpIdleTimeout");
        requireAtLeastOne(maxConnectAttempts, "maxConnectAttempts");
        requireAtLeastOne(maxUdpSessions, "maxUdpSessions");
        requireAtLeastOne(maxAffinityEntries, "maxAffinityEntries");
        requireAtLeastOne(eventLoopThreads, "eventLoopThreads");
        if (relayWarmupExchanges < 0) {
            throw new IllegalArgumentException("relayWarmupExchanges must not be negative: " + relayWarmupExchanges);
        }
    }

    /** The first of {@link #nodeIps} of this family, or null when there is none. */
    public InetAddress primaryNodeIp(IpFamily family) {
        for (InetAddress ip : nodeIps) {
            if (familyOf(ip) == family) {
                return ip;
            }
        }
        return null;
    }

    /**
     * Capture mode: where the listeners of this family's services bind (port 0). The bind address for its own
     * family; the wildcard address for the other, so that with {@code 0.0.0.0} (the default) or {@code ::} a
     * dual-stack node captures both families, as iptables mode serves both. Said here rather than left to the
     * transport: Netty's epoll and NIO happen to bind {@code 0.0.0.0} as the dual-stack {@code ::}, but a
     * specific IPv4 bind address would leave the IPv6 redirects without a listener.
     */
    public InetAddress captureAddress(IpFamily family) {
        if (familyOf(bindAddress) == family) {
            return bindAddress;
        }
        return family == IpFamily.V4 ? IPV4_ANY : IPV6_ANY;
    }

    static IpFamily familyOf(InetAddress address) {
        return address instanceof Inet4Address ? IpFamily.V4 : IpFamily.V6;
    }

    private static InetAddress anyAddress(byte[] zeros) {
        try {
            return InetAddress.getByAddress(zeros);
        } catch (UnknownHostException e) {
            throw new AssertionError(e); // only for an address of the wrong length
        }
    }

    private static void requirePositive(Duration value, String what) {
        if (value == null || value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(what + " must be positive, not " + value);
        }
    }

    private static void requireAtLeastOne(int value, String what) {
        if (value < 1) {
            throw new IllegalArgumentException(what + " must be at least 1, not " + value);
        }
    }

    public static Builder builder(String nodeName, InetAddress bindAddress, ListenMode listenMode) {
        return new Builder(nodeName, bindAddress, listenMode);
    }

    public static final class Builder {
        private final String nodeName;
        private final InetAddress bindAddress;
        private final ListenMode listenMode;
        private List<InetAddress> nodeIps = List.of();
        /** kube-proxy's userspace mode dialled with growing timeouts of 250 ms to 2 s; one bound suffices here. */
        private Duration connectTimeout = Duration.ofSeconds(1);
        private int maxConnectAttempts = 4;
        /** kube-proxy's --udp-timeout default. */
        private Duration udpIdleTimeout = Duration.ofMillis(250);
        private int maxUdpSessions = 16384;
        private int maxAffinityEntries = 65536;
        /** One per CPU; {@code -Drailyard.userspace.eventLoopThreads=N} overrides it (measurements, small nodes). */
        private int eventLoopThreads = Integer.getInteger("railyard.userspace.eventLoopThreads",
                Runtime.getRuntime().availableProcessors());
        /** None unless asked for: the daemon asks ({@link #DEFAULT_RELAY_WARMUP_EXCHANGES}), tests need not wait. */
        private int relayWarmupExchanges = 0;

        private Builder(String nodeName, InetAddress bindAddress, ListenMode listenMode) {
            this.nodeName = nodeName;
            this.bindAddress = bindAddress;
            this.listenMode = listenMode;
        }

        public Builder nodeIps(List<InetAddress> value) {
            this.nodeIps = value;
            return this;
        }

        public Builder connectTimeout(Duration value) {
            this.connectTimeout = value;
            return this;
        }

        public Builder maxConnectAttempts(int value) {
            this.maxConnectAttempts = value;
            return this;
        }

        public Builder udpIdleTimeout(Duration value) {
            this.udpIdleTimeout = value;
            return this;
        }

        public Builder maxUdpSessions(int value) {
            this.maxUdpSessions = value;
            return this;
        }

        public Builder maxAffinityEntries(int value) {
            this.maxAffinityEntries = value;
            return this;
        }

        public Builder eventLoopThreads(int value) {
            this.eventLoopThreads = value;
            return this;
        }

        public Builder relayWarmupExchanges(int value) {
            this.relayWarmupExchanges = value;
            return this;
        }

        public UserspaceConfig build() {
            return new UserspaceConfig(nodeName, nodeIps, bindAddress, listenMode, connectTimeout, maxConnectAttempts,
                    udpIdleTimeout, maxUdpSessions, maxAffinityEntries, eventLoopThreads, relayWarmupExchanges);
        }
    }
}
