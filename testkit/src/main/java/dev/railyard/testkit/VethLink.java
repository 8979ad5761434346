package dev.railyard.testkit;

import java.util.Objects;

/**
 * A veth pair connecting two namespaces, both ends up, with the addresses the builder was given. The pair
 * is created directly inside the two namespaces (never in the host's), so it cannot clash with host
 * interfaces and disappears when either namespace is deleted.
 *
 * <pre>{@code
 * VethLink link = VethLink.between(node, pod)
 *         .names("veth-pod1", "eth0")
 *         .ipv4("10.244.1.1/24", "10.244.1.2/24")
 *         .ipv6("fd00:10:244:1::1/64", "fd00:10:244:1::2/64")
 *         .create();
 * link.b().addRoute("default", link.a().ipv4());
 * }</pre>
 */
public record VethLink(LinkEnd a, LinkEnd b) {

    public static Builder between(NetworkNamespace a, NetworkNamespace b) {
        return new Builder(a, b);
    }

    /** Collects the settings; {@link #create()} runs the ip commands. */
    public static final class Builder {
        private final NetworkNamespace namespaceA;
        private final NetworkNamespace namespaceB;
        private String nameA;
        private String nameB;
        private String ipv4A;
        private String ipv4B;
        private String ipv6A;
        private String ipv6B;
        private Integer mtu;

        private Builder(NetworkNamespace a, NetworkNamespace b) {
            this.namespaceA = Objects.requireNonNull(a);
            this.namespaceB = Objects.requireNonNull(b);
            if (a == b) {
                throw new IllegalArgumentException("a veth link needs two different namespaces");
            }
            // Default names say where the other end is: "ve-k3x9qa" in A leads to namespace ry-k3x9qa.
            this.nameA = defaultName(b);
            this.nameB = defaultName(a);
        }

        /** Interface names inside A and inside B (each at most 15 characters). */
        public Builder names(String inA, String inB) {
            this.nameA = checkName(inA);
            this.nameB = checkName(inB);
            return this;
        }

        /** IPv4 addresses in CIDR form, e.g. {@code 10.0.0.1/24} for A and {@code 10.0.0.2/24} for B. */
        public Builder ipv4(String cidrA, String cidrB) {
            this.ipv4A = cidrA;
            this.ipv4B = cidrB;
            return this;
        }

        /** IPv6 addresses in CIDR form; assigned with {@code nodad} so they are usable immediately. */
        public Builder ipv6(String cidrA, String cidrB) {
            this.ipv6A = cidrA;
            this.ipv6B = cidrB;
            return this;
        }

        public Builder mtu(int mtu) {
            this.mtu = mtu;
            return this;
        }

        public VethLink create() {
            Commands.runChecked("ip", "link", "add", "name", nameA, "netns", namespaceA.name(),
                    "type", "veth", "peer", "name", nameB, "netns", namespaceB.name());
            LinkEnd endA = configure(namespaceA, nameA, ipv4A, ipv6A, mtu);
            LinkEnd endB = configure(namespaceB, nameB, ipv4B, ipv6B, mtu);
            return new VethLink(endA, endB);
        }

        private static String defaultName(NetworkNamespace peer) {
            String name = "ve-" + peer.shortId();
            return name.length() <= NetworkNamespace.MAX_NAME_LENGTH ? name : name.substring(0, NetworkNamespace.MAX_NAME_LENGTH);
        }
    }

    static String checkName(String name) {
        if (name.isEmpty() || name.length() > NetworkNamespace.MAX_NAME_LENGTH || name.contains("/") || name.contains(" ")) {
            throw new IllegalArgumentException("invalid interface name (1-15 chars, no '/' or spaces): '" + name + "'");
        }
        return name;
    }

    static LinkEnd configure(NetworkNamespace namespace, String name, String ipv4, String ipv6, Integer mtu) {
        if (mtu != null) {
            namespace.execChecked("ip", "link", "set", name, "mtu", mtu.toString());
        }
        if (ipv4 != null) {
            LinkEnd.addAddress(namespace, name, ipv4);
        }
        if (ipv6 != null) {
            LinkEnd.addAddress(namespace, name, ipv6);
        }
        namespace.execChecked("ip", "link", "set", name, "up");
        return new LinkEnd(namespace, name, ipv4, ipv6);
    }
}
