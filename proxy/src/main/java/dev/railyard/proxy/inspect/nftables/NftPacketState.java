package dev.railyard.proxy.inspect.nftables;

import dev.railyard.proxy.inspect.LocalAddresses;
import dev.railyard.proxy.inspect.Packet;
import dev.railyard.proxy.inspect.PacketState;
import dev.railyard.proxy.model.IpAddresses;
import inet.ipaddr.IPAddress;

import java.math.BigInteger;

/**
 * The packet as one branch of an nftables trace sees it, with the field values its rules read: {@link #text} for
 * lookups, {@link #test} for comparisons. Addresses are kept as numbers too, because every prefix and range
 * comparison needs them.
 */
final class NftPacketState extends PacketState {
    /** What a comparison of one field found. */
    enum Result { MATCH, NO_MATCH, UNKNOWN }

    final int version;
    final BigInteger sourceValue;
    final String sourceText;
    /** The IP protocol number (6, 17, 132), as nftables compares it. */
    final int protocolNumber;
    private BigInteger destinationValue;

    NftPacketState(Packet packet, LocalAddresses local) {
        super(packet, local);
        this.version = source.isIPv4() ? 4 : 6;
        this.sourceValue = source.getValue();
        this.sourceText = IpAddresses.canonical(source);
        this.protocolNumber = switch (protocol) {
            case TCP -> 6;
            case UDP -> 17;
            case SCTP -> 132;
        };
        this.destinationValue = destination().getValue();
    }

    private NftPacketState(NftPacketState other) {
        super(other);
        this.version = other.version;
        this.sourceValue = other.sourceValue;
        this.sourceText = other.sourceText;
        this.protocolNumber = other.protocolNumber;
        this.destinationValue = other.destinationValue;
    }

    @Override
    public NftPacketState copy() {
        return new NftPacketState(this);
    }

    @Override
    public void dnatTo(IPAddress address, int newPort) {
        super.dnatTo(address, newPort);
        destinationValue = address.getValue();
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
                return s.ipFamily() != 0 && s.ipFamily() != version ? null : destinationText();
            }
            case L4PROTO -> {
                return s.ipFamily() != 0 && s.ipFamily() != version ? null : Integer.toString(protocolNumber);
            }
            case DPORT -> {
                return s.protocol() != 0 && s.protocol() != protocolNumber ? null : Integer.toString(port());
            }
            case SPORT -> {
                return s.protocol() != 0 && s.protocol() != protocolNumber || sourcePort == 0 ? null
                        : Integer.toString(sourcePort);
            }
            case MARK -> {
                return Long.toString(mark);
            }
            case FIB_SADDR_TYPE -> {
                return addressType(source, local);
            }
            case FIB_DADDR_TYPE -> {
                return addressType(destination(), local);
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
                return number(value, masked(protocolNumber, mask));
            }
            case DPORT -> {
                if (s.protocol() != 0 && s.protocol() != protocolNumber) {
                    return Result.NO_MATCH;
                }
                return number(value, masked(port(), mask));
            }
            case SPORT -> {
                if (s.protocol() != 0 && s.protocol() != protocolNumber) {
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
            case L4PROTO -> Selector.protocolName(protocolNumber);
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
