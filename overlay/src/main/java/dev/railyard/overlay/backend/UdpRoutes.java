package dev.railyard.overlay.backend;

import dev.railyard.overlay.config.Ip4Net;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.TreeSet;

/**
 * The udp backend's forwarding table, read by the packet threads without locks: an immutable snapshot, replaced
 * whole when a peer comes or goes. Lookups are a few integer operations per distinct prefix length (all peers
 * usually share one), through open-addressing tables, so forwarding allocates nothing.
 */
final class UdpRoutes {
    static final UdpRoutes EMPTY = new UdpRoutes(Map.of());

    private final int[] prefixLengths;
    private final int[] keys;       // subnet address | 0 for empty; subnet 0.0.0.0 cannot be leased
    private final int[] keyLengths;
    private final InetSocketAddress[] hops;
    private final int[] sources;    // peers' public IPs, 0 for empty
    private final int mask;

    UdpRoutes(Map<Ip4Net, InetSocketAddress> peers) {
        TreeSet<Integer> lengths = new TreeSet<>();
        peers.keySet().forEach(n -> lengths.add(n.prefixLength()));
        prefixLengths = lengths.descendingSet().stream().mapToInt(Integer::intValue).toArray();
        int size = Integer.highestOneBit(Math.max(4, peers.size() * 2 + 1)) << 1;
        mask = size - 1;
        keys = new int[size];
        keyLengths = new int[size];
        hops = new InetSocketAddress[size];
        sources = new int[size];
        for (Map.Entry<Ip4Net, InetSocketAddress> e : peers.entrySet()) {
            int slot = slot(e.getKey().address());
            while (hops[slot] != null) {
                slot = (slot + 1) & mask;
            }
            keys[slot] = e.getKey().address();
            keyLengths[slot] = e.getKey().prefixLength();
            hops[slot] = e.getValue();
            int source = ipv4(e.getValue());
            int s = slot(source);
            while (sources[s] != 0 && sources[s] != source) {
                s = (s + 1) & mask;
            }
            sources[s] = source;
        }
    }

    private static int ipv4(InetSocketAddress a) {
        byte[] b = a.getAddress().getAddress();
        return (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff);
    }

    private int slot(int key) {
        int h = key * 0x9E3779B9;
        return (h ^ (h >>> 16)) & mask;
    }

    /** Where a packet to {@code destination} goes (the peer's public IP and port), or null when no peer holds it. */
    InetSocketAddress nextHop(int destination) {
        for (int length : prefixLengths) {
            int key = destination & Ip4Net.mask(length);
            for (int slot = slot(key); hops[slot] != null; slot = (slot + 1) & mask) {
                if (keys[slot] == key && keyLengths[slot] == length) {
                    return hops[slot];
                }
            }
        }
        return null;
    }

    /** Whether {@code source} is the public IP of a peer, i.e. whether to accept its datagrams. */
    boolean isPeer(int source) {
        if (source == 0) {
            return false;
        }
        for (int slot = slot(source); sources[slot] != 0; slot = (slot + 1) & mask) {
            if (sources[slot] == source) {
                return true;
            }
        }
        return false;
    }
}
