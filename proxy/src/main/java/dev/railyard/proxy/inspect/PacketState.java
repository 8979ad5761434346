package dev.railyard.proxy.inspect;

import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.Protocol;
import inet.ipaddr.IPAddress;

import java.util.ArrayList;
import java.util.List;

/**
 * The packet as one branch of a trace sees it at a given moment: addresses after NAT, the mark, what conntrack
 * knows, the session-affinity checks met. Copied when a random choice splits the trace. Both evaluators keep
 * this the same way; the nftables one extends it with the field values its lookups read.
 *
 * <p>The flags are plain public fields because the evaluators and their rule tests, which live in other packages,
 * read and set them on every rule; an instance never leaves the trace that owns it. The destination changes only
 * through {@link #dnatTo}, so that a subclass can keep what it derives from it in step.
 */
public class PacketState {
    public final IPAddress source;
    public final int sourcePort;
    public final Protocol protocol;
    private IPAddress destination;
    /** Canonical text of the destination, kept because every chain a trace enters looks it up. */
    private String destinationText;
    private int port;
    public long mark;
    /** Destination NAT happened (conntrack's DNAT status). */
    public boolean dnatted;
    /** The source was rewritten (MASQUERADE, SNAT). */
    public boolean masqueraded;
    /** NOTRACK: no conntrack entry, so no NAT and conntrack state UNTRACKED. */
    public boolean untracked;
    /** Null when unknown. */
    public String inInterface;
    /** Null when unknown (routing is not modelled beyond local-or-not). */
    public String outInterface;
    /** address:port after DNAT, or null. */
    public String endpoint;
    private final List<Affinity> affinity;

    /**
     * The packet as it starts: one that arrives has its incoming interface (when given); one the node sends goes
     * out over {@code lo} when it is for a local address.
     */
    public PacketState(Packet packet, LocalAddresses local) {
        this.source = IpAddresses.parse(packet.source());
        this.sourcePort = packet.sourcePort();
        this.protocol = packet.protocol();
        setDestination(IpAddresses.parse(packet.destination()), packet.port());
        boolean arrives = packet.origin().arrives();
        this.inInterface = arrives ? packet.inInterface() : null;
        this.outInterface = !arrives && local.isLocal(destination) ? "lo" : null;
        this.affinity = new ArrayList<>();
    }

    protected PacketState(PacketState other) {
        this.source = other.source;
        this.sourcePort = other.sourcePort;
        this.protocol = other.protocol;
        this.destination = other.destination;
        this.destinationText = other.destinationText;
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

    /** A copy for the other side of a random choice; subclasses return their own type. */
    public PacketState copy() {
        return new PacketState(this);
    }

    public IPAddress destination() {
        return destination;
    }

    public String destinationText() {
        return destinationText;
    }

    public int port() {
        return port;
    }

    /** Destination NAT (DNAT, REDIRECT): the packet now goes to {@code address}:{@code newPort}. */
    public void dnatTo(IPAddress address, int newPort) {
        setDestination(address, newPort);
        dnatted = true;
        endpoint = Packet.hostPort(destinationText, newPort);
    }

    /** Records a session-affinity check met on the way, once. */
    public void meetAffinity(Affinity check) {
        if (!affinity.contains(check)) {
            affinity.add(check);
        }
    }

    /** The session-affinity checks met so far, in order. */
    List<Affinity> affinity() {
        return affinity;
    }

    private void setDestination(IPAddress address, int newPort) {
        destination = address;
        destinationText = IpAddresses.canonical(address);
        port = newPort;
    }
}
