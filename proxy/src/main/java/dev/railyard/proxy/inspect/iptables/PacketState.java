package dev.railyard.proxy.inspect.iptables;

import dev.railyard.proxy.inspect.Affinity;
import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.Protocol;
import inet.ipaddr.IPAddress;

import java.util.ArrayList;
import java.util.List;

/**
 * The packet as one branch of a trace sees it at a given moment: addresses after NAT, the mark, what conntrack
 * knows. Copied when a random choice splits the trace.
 */
final class PacketState {
    final IPAddress source;
    final int sourcePort;
    final Protocol protocol;
    IPAddress destination;
    int port;
    long mark;
    /** Destination NAT happened (conntrack's DNAT status), so {@code --ctstate DNAT} holds. */
    boolean dnatted;
    /** The source was rewritten (MASQUERADE, SNAT). */
    boolean masqueraded;
    /** NOTRACK in raw: no conntrack entry, so no NAT and {@code --ctstate UNTRACKED}. */
    boolean untracked;
    /** Null when unknown. */
    String inInterface;
    /** Null when unknown (routing is not modelled beyond local-or-not). */
    String outInterface;
    /** address:port after DNAT, or null. */
    String endpoint;
    final List<Affinity> affinity;

    PacketState(IPAddress source, int sourcePort, IPAddress destination, int port, Protocol protocol,
                String inInterface) {
        this.source = source;
        this.sourcePort = sourcePort;
        this.destination = destination;
        this.port = port;
        this.protocol = protocol;
        this.inInterface = inInterface;
        this.affinity = new ArrayList<>();
    }

    private PacketState(PacketState other) {
        this.source = other.source;
        this.sourcePort = other.sourcePort;
        this.protocol = other.protocol;
        this.destination = other.destination;
        this.port = other.port;
        this.mark = other.mark;
        this.dnatted = other.dnatted;
        this.masqueraded = other.masqueraded;
        this.untracked = other.untracked;
        this.inInterface = other.inInterface;
        this.outInterface = other.outInterface;
        this.endpoint = other.endpoint;
        this.affinity = new ArrayList<>(other.affinity);
    }

    PacketState copy() {
        return new PacketState(this);
    }

    String destinationText() {
        return IpAddresses.canonical(destination);
    }
}
