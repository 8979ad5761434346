package dev.railyard.proxy.inspect.nftables;

import dev.railyard.proxy.inspect.Affinity;
import dev.railyard.proxy.inspect.LocalAddresses;
import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.Protocol;
import inet.ipaddr.IPAddress;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/**
 * The packet as one branch of an nftables trace sees it at a given moment: addresses after NAT, the mark, what
 * conntrack knows. Reads the fields rules test ({@link #text} for lookups, {@link #test} for comparisons).
 * Copied when a random choice splits the trace.
 */
final class NftPacketState {
    /** What a comparison of one field found. */
    enum Result { MATCH, NO_MATCH, UNKNOWN }

    final int version;
    final IPAddress source;
    final BigInteger sourceValue;
    final String sourceText;
    final int sourcePort;
    final int protocol;
    IPAddress destination;
    BigInteger destinationValue;
    String destinationText;
    int port;
    long mark;
    boolean dnatted;
    boolean masqueraded;
    boolean untracked;
    /** Null when unknown. */
    String inInterface;
    /** Null when unknown. */
    String outInterface;
    /** address:port after DNAT, or null. */
    String endpoint;
    final List<Affinity> affinity;

    NftPacketState(IPAddress source, int sourcePort, IPAddress destination, int port, Protocol protocol,
                   String inInterface) {
        this.version = source.isIPv4() ? 4 : 6;
        this.source = source;
        this.sourceValue = source.getValue();
        this.sourceText = IpAddresses.canonical(source);
        this.sourcePort = sourcePort;
        this.protocol = switch (protocol) {
            case TCP -> 6;
            case UDP -> 17;
            case SCTP -> 132;
        };
        setDestination(destination, port);
        this.inInterface = inInterface;
        this.affinity = new ArrayList<>();
    }

    private NftPacketState(NftPacketState other) {
        this.version = other.version;
        this.source = other.source;
        this.sourceValue = other.sourceValue;
        this.sourceText = other.sourceText;
        this.sourcePort = other.sourcePort;
        this.protocol = other.protocol;
        this.destination = other.destination;
        this.destinationValue = other.destinationValue;
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

    NftPacketState copy() {
        return new NftPacketState(this);
    }

    void setDestination(IPAddress address, int newPort) {
        destination = address;
        destinationValue = address.getValue();
        destinationText = IpAddresses.canonical(address);
        port = newPort;
    }

    /**
     * The field's value as set elements write it (canonical address, protocol and port numbers, names), for exact
     * lookups; null when the packet's value is unknown or not one word (flags), or the field does not apply to
     * this packet (another family or protocol).
     */
    String text(Selector s, LocalAddresses local) {
        switch (s.kind()) {
            case SADDR -> {
                return s.ipFamily() != 0 && s.ipFamily() != version ? null : sourceText;
            }
            case DADDR -> {
                return s.ipFamily() != 0 && s.ipFamily() != version ? null : destinationText;
            }
            case L4PROTO -> {
                return s.ipFamily() != 0 && s.ipFamily() != version ? null : Integer.toString(protocol);
            }
            case DPORT -> {
                return s.protocol() != 0 && s.protocol() != protocol ? null : Integer.toString(port);
            }
            case SPORT -> {
                return s.protocol() != 0 && s.protocol() != protocol || sourcePort == 0 ? null
                        : Integer.toString(sourcePort);
            }
            case MARK -> {
                return Long.toString(mark);
            }
            case FIB_SADDR_TYPE -> {
                return addressType(source, local);
            }
            case FIB_DADDR_TYPE -> {
                return addressType(destination, local);
            }
            case IIFNAME -> {
                return inInterface;
            }
            case OIFNAME -> {
                return outInterface;
            }
            case NFPROTO -> {
                return version == 4 ? "ipv4" : "ipv6";
            }
            default -> {
                return null;
            }
        }
    }

    /** Whether the field holds {@code value} ({@code mask} ANDed first when not -1). */
    Result test(Selector s, long mask, Value value, LocalAddresses local) {
        switch (s.kind()) {
            case SADDR, DADDR -> {
                if (s.ipFamily() != 0 && s.ipFamily() != version) {
                    return Result.NO_MATCH;
                }
                BigInteger address = s.kind() == Selector.Kind.SADDR ? sourceValue : destinationValue;
                return value instanceof Value.Addr a && a.contains(version, address) ? Result.MATCH : Result.NO_MATCH;
            }
            case L4PROTO -> {
                if (s.ipFamily() != 0 && s.ipFamily() != version) {
                    return Result.NO_MATCH;
                }
                return number(value, masked(protocol, mask));
            }
            case DPORT -> {
                if (s.protocol() != 0 && s.protocol() != protocol) {
                    return Result.NO_MATCH;
                }
                return number(value, masked(port, mask));
            }
            case SPORT -> {
                if (s.protocol() != 0 && s.protocol() != protocol) {
                    return Result.NO_MATCH;
                }
                return sourcePort == 0 ? Result.UNKNOWN : number(value, masked(sourcePort, mask));
            }
            case MARK -> {
                return number(value, masked(mark, mask));
            }
            case CT_STATE -> {
                String state = untracked ? "untracked" : "new";
                return value instanceof Value.Sym sym && sym.text().equals(state) ? Result.MATCH : Result.NO_MATCH;
            }
            case CT_STATUS -> {
                if (!(value instanceof Value.Sym sym)) {
                    return Result.NO_MATCH;
                }
                boolean set = switch (sym.text()) {
                    case "dnat" -> dnatted;
                    case "snat" -> masqueraded;
                    default -> false;
                };
                return set ? Result.MATCH : Result.NO_MATCH;
            }
            default -> {
                String text = text(s, local);
                if (text == null) {
                    return Result.UNKNOWN;
                }
                return value instanceof Value.Sym sym && sym.matches(text) ? Result.MATCH : Result.NO_MATCH;
            }
        }
    }

    /** What the packet's field holds, in words, for a trace's explanations. */
    String describe(Selector s, LocalAddresses local) {
        return switch (s.kind()) {
            case CT_STATE -> untracked ? "untracked" : "new";
            case CT_STATUS -> dnatted ? "dnat" : "no dnat";
            case L4PROTO -> Selector.protocolName(protocol);
            case MARK -> "0x" + Long.toHexString(mark);
            default -> {
                String text = text(s, local);
                yield text == null ? "unknown" : text;
            }
        };
    }

    private static long masked(long value, long mask) {
        return mask == -1 ? value : value & mask;
    }

    private static Result number(Value value, long actual) {
        return value instanceof Value.Num n && n.contains(actual) ? Result.MATCH : Result.NO_MATCH;
    }

    private static String addressType(IPAddress address, LocalAddresses local) {
        if (local.isLocal(address)) {
            return "local";
        }
        if (local.isBroadcast(address)) {
            return "broadcast";
        }
        return address.isMulticast() ? "multicast" : "unicast";
    }
}
