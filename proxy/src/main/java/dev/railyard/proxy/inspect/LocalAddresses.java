package dev.railyard.proxy.inspect;

import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.IpFamily;
import inet.ipaddr.IPAddress;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The addresses the node owns, which is what {@code -m addrtype --src-type/--dst-type LOCAL} (and nftables'
 * {@code fib daddr type local}) test, and what decides between local delivery and forwarding. The kernel answers
 * from its {@code local} routing table; {@link #fromLocalRouteTable} reads exactly that, {@link #of} builds the
 * same from the node's addresses and loopback.
 */
public final class LocalAddresses {
    private static final List<String> LOOPBACK = List.of("127.0.0.0/8", "::1/128");

    private final List<IPAddress> local;
    private final List<IPAddress> broadcast;
    private final List<String> nodeIps;

    private LocalAddresses(List<IPAddress> local, List<IPAddress> broadcast, List<String> nodeIps) {
        this.local = List.copyOf(local);
        this.broadcast = List.copyOf(broadcast);
        this.nodeIps = List.copyOf(nodeIps);
    }

    /** Loopback (127.0.0.0/8, ::1) and the given node addresses, in order (the first of a family is primary). */
    public static LocalAddresses of(Collection<String> nodeIps) {
        List<IPAddress> local = new ArrayList<>();
        List<String> ips = new ArrayList<>();
        for (String cidr : LOOPBACK) {
            local.add(IpAddresses.parseCidr(cidr));
        }
        for (String ip : nodeIps) {
            IPAddress address = IpAddresses.parse(ip.strip());
            local.add(address.withoutPrefixLength());
            String canonical = IpAddresses.canonical(address);
            if (!ips.contains(canonical)) {
                ips.add(canonical);
            }
        }
        return new LocalAddresses(local, List.of(), ips);
    }

    /**
     * Why {@code ip route show table local} failed, in words: with every interface down, lo included, the kernel has
     * no local table at all and says only "FIB table does not exist".
     */
    public static String whyUnreadable(int exitCode, String stderr) {
        if (stderr.contains("FIB table does not exist")) {
            return "the node has no local routing table: no interface is up, not even lo, so it has no address";
        }
        return "failed (exit code " + exitCode + "): " + stderr.strip();
    }

    /**
     * Parses {@code ip route show table local} (and {@code ip -6 route show table local}): {@code local} routes
     * are local addresses, {@code broadcast} routes broadcast ones. Lines of other types are ignored.
     */
    public static LocalAddresses fromLocalRouteTable(String text) {
        List<IPAddress> local = new ArrayList<>();
        List<IPAddress> broadcast = new ArrayList<>();
        List<String> ips = new ArrayList<>();
        for (String line : text.split("\n")) {
            String[] words = line.strip().split("\\s+");
            if (words.length < 2 || !(words[0].equals("local") || words[0].equals("broadcast"))) {
                continue;
            }
            IPAddress address;
            try {
                address = words[1].indexOf('/') >= 0 ? IpAddresses.parseCidr(words[1]) : IpAddresses.parse(words[1]);
            } catch (IllegalArgumentException e) {
                continue; // a route type we do not read
            }
            if (words[0].equals("broadcast")) {
                broadcast.add(address);
                continue;
            }
            local.add(address);
            if (!address.isPrefixed() && !address.isLoopback() && !address.isLinkLocal()) {
                ips.add(IpAddresses.canonical(address));
            }
        }
        return new LocalAddresses(local, broadcast, ips);
    }

    public boolean isLocal(IPAddress address) {
        return containedIn(local, address);
    }

    public boolean isBroadcast(IPAddress address) {
        if (address.isIPv4() && IpAddresses.canonical(address.withoutPrefixLength()).equals("255.255.255.255")) {
            return true;
        }
        return containedIn(broadcast, address);
    }

    /** The node's own (non-loopback) addresses, in order. */
    public List<String> nodeIps() {
        return nodeIps;
    }

    /** The node's first address of {@code family}, or loopback when it has none. */
    public String primary(IpFamily family) {
        for (String ip : nodeIps) {
            if (IpAddresses.familyOf(IpAddresses.parse(ip)) == family) {
                return ip;
            }
        }
        return family == IpFamily.V4 ? "127.0.0.1" : "::1";
    }

    private static boolean containedIn(List<IPAddress> addresses, IPAddress address) {
        IPAddress plain = address.withoutPrefixLength();
        for (IPAddress candidate : addresses) {
            if (candidate.getIPVersion() == plain.getIPVersion() && candidate.contains(plain)) {
                return true;
            }
        }
        return false;
    }
}
