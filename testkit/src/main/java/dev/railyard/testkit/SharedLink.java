package dev.railyard.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A layer-2 segment for multi-host tests: a Linux bridge inside a dedicated "switch" namespace, with each
 * host namespace attached by a veth pair, like machines plugged into one switch. Host {@code i} (0-based)
 * gets address {@code subnet + i + 1} on its interface, e.g. 192.168.77.1, .2, .3 for a /24.
 *
 * <pre>{@code
 * try (SharedLink lan = SharedLink.builder().hosts(3).create()) {
 *     LinkEnd host0 = lan.host(0);   // host0.namespace(), host0.ipv4() = "192.168.77.1"
 * }
 * }</pre>
 *
 * Closing deletes the switch namespace and the host namespaces this link created; namespaces passed to
 * {@link #attach} belong to the caller and only lose their interface.
 */
public final class SharedLink implements AutoCloseable {

    public static final String BRIDGE = "br0";

    private final NetworkNamespace switchNamespace;
    private final Builder settings;
    private final List<LinkEnd> hosts = new ArrayList<>();
    private final List<NetworkNamespace> owned = new ArrayList<>();

    private SharedLink(NetworkNamespace switchNamespace, Builder settings) {
        this.switchNamespace = switchNamespace;
        this.settings = settings;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Settings for the segment; defaults: no hosts, 192.168.77.0/24, no IPv6, interface {@code eth0}. */
    public static final class Builder {
        private int hosts;
        private String ipv4Subnet = "192.168.77.0/24";
        private String ipv6Subnet;
        private String interfaceName = "eth0";
        private Integer mtu;

        private Builder() {
        }

        /** How many fresh host namespaces to create and attach. */
        public Builder hosts(int count) {
            if (count < 0 || count > 200) {
                throw new IllegalArgumentException("host count out of range: " + count);
            }
            this.hosts = count;
            return this;
        }

        /** IPv4 subnet in CIDR form, or null for no IPv4. */
        public Builder ipv4Subnet(String cidr) {
            this.ipv4Subnet = cidr;
            return this;
        }

        /** IPv6 subnet in CIDR form, e.g. {@code fd77::/64}, or null (the default) for no IPv6. */
        public Builder ipv6Subnet(String cidr) {
            this.ipv6Subnet = cidr;
            return this;
        }

        /** The name of the attached interface inside every host. */
        public Builder interfaceName(String name) {
            this.interfaceName = VethLink.checkName(name);
            return this;
        }

        public Builder mtu(int mtu) {
            this.mtu = mtu;
            return this;
        }

        public SharedLink create() {
            NetworkNamespace switchNs = NetworkNamespace.create();
            SharedLink link = new SharedLink(switchNs, this);
            try {
                switchNs.execChecked("ip", "link", "add", BRIDGE, "type", "bridge", "forward_delay", "0", "stp_state", "0");
                switchNs.execChecked("ip", "link", "set", BRIDGE, "up");
                for (int i = 0; i < hosts; i++) {
                    NetworkNamespace host = NetworkNamespace.create();
                    link.owned.add(host);
                    link.attach(host);
                }
                return link;
            } catch (RuntimeException e) {
                try {
                    link.close();
                } catch (RuntimeException cleanup) {
                    e.addSuppressed(cleanup);
                }
                throw e;
            }
        }
    }

    /** Attaches a namespace with the next free addresses of the subnets. */
    public synchronized LinkEnd attach(NetworkNamespace host) {
        int index = hosts.size() + 1;
        return attach(host, hostCidr(settings.ipv4Subnet, index), hostCidr(settings.ipv6Subnet, index));
    }

    /** Attaches a namespace with explicit addresses (either may be null). */
    public synchronized LinkEnd attach(NetworkNamespace host, String ipv4Cidr, String ipv6Cidr) {
        Objects.requireNonNull(host);
        if (host == switchNamespace) {
            throw new IllegalArgumentException("cannot attach the switch namespace to itself");
        }
        String port = "p-" + host.shortId();
        port = port.length() <= NetworkNamespace.MAX_NAME_LENGTH ? port : port.substring(0, NetworkNamespace.MAX_NAME_LENGTH);
        Commands.runChecked("ip", "link", "add", "name", settings.interfaceName, "netns", host.name(),
                "type", "veth", "peer", "name", port, "netns", switchNamespace.name());
        if (settings.mtu != null) {
            switchNamespace.execChecked("ip", "link", "set", port, "mtu", settings.mtu.toString());
        }
        switchNamespace.execChecked("ip", "link", "set", port, "master", BRIDGE);
        switchNamespace.execChecked("ip", "link", "set", port, "up");
        LinkEnd end = VethLink.configure(host, settings.interfaceName, ipv4Cidr, ipv6Cidr, settings.mtu);
        hosts.add(end);
        return end;
    }

    public synchronized LinkEnd host(int index) {
        return hosts.get(index);
    }

    public synchronized List<LinkEnd> hosts() {
        return List.copyOf(hosts);
    }

    /** The namespace holding the bridge, e.g. to run tcpdump or add netem delay on a port. */
    public NetworkNamespace switchNamespace() {
        return switchNamespace;
    }

    @Override
    public synchronized void close() {
        List<RuntimeException> problems = new ArrayList<>();
        for (LinkEnd end : hosts) {
            if (owned.contains(end.namespace()) || end.namespace().isClosed()) {
                continue;
            }
            // The kernel removes a veth pair when either namespace dies, but asynchronously; a caller that
            // keeps its namespace must not see a half-dead interface afterwards.
            CommandResult delete = end.namespace().exec("ip", "link", "delete", end.interfaceName());
            if (!delete.succeeded()) {
                problems.add(new CommandFailedException(delete));
            }
        }
        for (NetworkNamespace ns : owned) {
            try {
                ns.close();
            } catch (RuntimeException e) {
                problems.add(e);
            }
        }
        try {
            switchNamespace.close();
        } catch (RuntimeException e) {
            problems.add(e);
        }
        if (!problems.isEmpty()) {
            RuntimeException first = problems.get(0);
            problems.subList(1, problems.size()).forEach(first::addSuppressed);
            throw first;
        }
    }

    private static String hostCidr(String subnet, int index) {
        if (subnet == null) {
            return null;
        }
        String[] parts = AddressText.split(subnet);
        return AddressText.offset(parts[0], index) + "/" + parts[1];
    }
}
