package dev.railyard.proxy.inspect.iptables;

import dev.railyard.proxy.inspect.LocalAddresses;
import dev.railyard.proxy.inspect.PacketState;
import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.Protocol;
import inet.ipaddr.IPAddress;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * One condition of an iptables rule ({@code -s}, {@code -p}, {@code --dport}, {@code -m addrtype ...}). A rule
 * matches when all its conditions match. Random choice ({@code -m statistic}) and session affinity
 * ({@code -m recent}) are not tested here: they split or annotate the trace, which the evaluator does.
 */
sealed interface Condition {

    /** Whether the packet, as it is now, meets the condition. */
    Check test(PacketState packet, LocalAddresses local);

    /** {@code [!] -s/-d ADDRESS[/PREFIX]}. */
    record Address(boolean source, boolean negated, IPAddress cidr, String text) implements Condition {
        @Override
        public Check test(PacketState packet, LocalAddresses local) {
            IPAddress address = source ? packet.source : packet.destination();
            boolean in = cidr.getIPVersion() == address.getIPVersion() && cidr.contains(address);
            if (in != negated) {
                return Check.MATCH;
            }
            String what = (source ? "source " : "destination ") + IpAddresses.canonical(address);
            boolean single = !cidr.isPrefixed() || cidr.getNetworkPrefixLength() == cidr.getBitCount();
            String relation = in ? (single ? " is " : " is in ") : (single ? " is not " : " is not in ");
            return Check.noMatch(() -> what + relation + text + (in ? " (rule says ! " + (source ? "-s" : "-d") + ")" : ""));
        }
    }

    /** {@code [!] -i/-o NAME}, where a trailing + matches any name with that prefix. */
    record Interface(boolean incoming, boolean negated, String name) implements Condition {
        @Override
        public Check test(PacketState packet, LocalAddresses local) {
            String actual = incoming ? packet.inInterface : packet.outInterface;
            if (actual == null) {
                return Check.unknown(incoming ? "the incoming interface is unknown (trace with --in-interface)"
                        : "the outgoing interface depends on routing, which is not modelled");
            }
            boolean same = name.endsWith("+") ? actual.startsWith(name.substring(0, name.length() - 1))
                    : actual.equals(name);
            if (same != negated) {
                return Check.MATCH;
            }
            return Check.noMatch(() -> (incoming ? "incoming" : "outgoing") + " interface " + actual
                    + (same ? " is " : " is not ") + name);
        }
    }

    /** {@code [!] -p PROTOCOL}: a name or number; {@code all} and 0 match any protocol. */
    record ProtocolIs(boolean negated, String protocol) implements Condition {
        public ProtocolIs {
            protocol = protocol.toLowerCase(Locale.ROOT);
        }

        @Override
        public Check test(PacketState packet, LocalAddresses local) {
            boolean same = protocol.equals("all") || protocol.equals("0") || protocol.equals(packet.protocol.lowerCase())
                    || protocol.equals(String.valueOf(number(packet.protocol)));
            if (same != negated) {
                return Check.MATCH;
            }
            return Check.noMatch(() -> "protocol " + packet.protocol.lowerCase() + (same ? " is " : " is not ") + protocol);
        }

        private static int number(Protocol protocol) {
            switch (protocol) {
                case TCP:
                    return 6;
                case UDP:
                    return 17;
                default:
                    return 132;
            }
        }
    }

    /**
     * {@code [!] --dport/--sport} of the tcp, udp and sctp matches, and {@code -m multiport --dports/--sports/--ports}.
     * Ranges are inclusive pairs.
     */
    record Ports(Which which, boolean negated, List<int[]> ranges, String text) implements Condition {
        enum Which { DESTINATION, SOURCE, EITHER }

        @Override
        public Check test(PacketState packet, LocalAddresses local) {
            if (which != Which.DESTINATION && packet.sourcePort == 0) {
                return Check.unknown("the source port is unknown (trace with --src IP:PORT)");
            }
            boolean in = false;
            for (int[] range : ranges) {
                if (which != Which.SOURCE && packet.port() >= range[0] && packet.port() <= range[1]) {
                    in = true;
                }
                if (which != Which.DESTINATION && packet.sourcePort >= range[0] && packet.sourcePort <= range[1]) {
                    in = true;
                }
            }
            if (in != negated) {
                return Check.MATCH;
            }
            int port = packet.port();
            int sourcePort = packet.sourcePort;
            boolean inRange = in;
            return Check.noMatch(() -> (which == Which.SOURCE ? "source port " + sourcePort
                    : which == Which.DESTINATION ? "port " + port : "ports " + sourcePort + "/" + port)
                    + (inRange ? " is " : " is not ") + text);
        }
    }

    /** {@code -m addrtype [!] --src-type/--dst-type TYPE[,TYPE...]}. */
    record AddressType(boolean source, boolean negated, Set<String> types) implements Condition {
        @Override
        public Check test(PacketState packet, LocalAddresses local) {
            IPAddress address = source ? packet.source : packet.destination();
            String type;
            if (local.isLocal(address)) {
                type = "LOCAL";
            } else if (address.isMulticast()) {
                type = "MULTICAST";
            } else if (local.isBroadcast(address)) {
                type = "BROADCAST";
            } else {
                type = "UNICAST";
            }
            for (String wanted : types) {
                if (!Set.of("LOCAL", "UNICAST", "MULTICAST", "BROADCAST").contains(wanted)) {
                    return Check.unknown("address type " + wanted + " is not modelled");
                }
            }
            boolean in = types.contains(type);
            String kind = type;
            java.util.function.Supplier<String> what = () -> (source ? "source " : "destination ")
                    + IpAddresses.canonical(address) + " is " + kind;
            if (in != negated) {
                return type.equals("UNICAST") ? Check.match(() -> what.get() + " (assuming a unicast route)") : Check.MATCH;
            }
            return Check.noMatch(() -> what.get() + (in ? "" : ", not " + String.join(",", types)));
        }
    }

    /** {@code -m mark [!] --mark VALUE[/MASK]}. */
    record Mark(boolean negated, long value, long mask, String text) implements Condition {
        @Override
        public Check test(PacketState packet, LocalAddresses local) {
            long mark = packet.mark;
            boolean same = (mark & mask) == value;
            if (same != negated) {
                return Check.MATCH;
            }
            return Check.noMatch(() -> "mark 0x" + Long.toHexString(mark) + (same ? " matches " : " does not match ")
                    + text);
        }
    }

    /** {@code -m conntrack [!] --ctstate S,...} and {@code -m state [!] --state S,...}, for a connection's first packet. */
    record ConnectionState(boolean negated, Set<String> states, String text) implements Condition {
        private static final Set<String> KNOWN = Set.of("INVALID", "NEW", "ESTABLISHED", "RELATED", "UNTRACKED",
                "SNAT", "DNAT");

        @Override
        public Check test(PacketState packet, LocalAddresses local) {
            for (String state : states) {
                if (!KNOWN.contains(state)) {
                    return Check.unknown("connection state " + state + " is not modelled");
                }
            }
            boolean in;
            if (packet.untracked) {
                in = states.contains("UNTRACKED");
            } else {
                in = states.contains("NEW") || packet.dnatted && states.contains("DNAT")
                        || packet.masqueraded && states.contains("SNAT");
            }
            if (in != negated) {
                return Check.MATCH;
            }
            String actual = packet.untracked ? "UNTRACKED"
                    : "NEW" + (packet.dnatted ? ",DNAT" : "") + (packet.masqueraded ? ",SNAT" : "");
            return Check.noMatch(() -> "connection state " + actual + (in ? " is in " : " is not in ") + text);
        }
    }

    /** {@code -f}: only later fragments match; a connection's first packet is never one. */
    record Fragment(boolean negated) implements Condition {
        @Override
        public Check test(PacketState packet, LocalAddresses local) {
            return negated ? Check.MATCH : Check.noMatch(() -> "the first packet of a connection is not a later fragment");
        }
    }

    /** {@code [!] --syn} of the tcp match: a connection's first TCP packet is a SYN. */
    record Syn(boolean negated) implements Condition {
        @Override
        public Check test(PacketState packet, LocalAddresses local) {
            if (packet.protocol != Protocol.TCP) {
                return Check.noMatch(() -> "--syn only matches TCP");
            }
            return negated ? Check.noMatch(() -> "the first packet of a TCP connection is a SYN") : Check.MATCH;
        }
    }

    /** {@code -m comment --comment TEXT}: always matches; kept for the service name it carries. */
    record Comment(String text) implements Condition {
        @Override
        public Check test(PacketState packet, LocalAddresses local) {
            return Check.MATCH;
        }
    }

    /** {@code -m nfacct --nfacct-name NAME}: counts, always matches. */
    record Counter(String name) implements Condition {
        @Override
        public Check test(PacketState packet, LocalAddresses local) {
            return Check.MATCH;
        }
    }

    /** {@code -m statistic --mode random [!] --probability P}: handled by the evaluator as a split. */
    record Random(double probability) implements Condition {
        @Override
        public Check test(PacketState packet, LocalAddresses local) {
            return Check.MATCH;
        }
    }

    /**
     * {@code -m recent}: {@code --set} records the client and matches; {@code --rcheck}/{@code --update}/
     * {@code --remove} match only for a client already recorded, which a trace of a new client is not.
     */
    record Recent(Mode mode, boolean negated, String name, long seconds) implements Condition {
        enum Mode { SET, CHECK, REMOVE }

        @Override
        public Check test(PacketState packet, LocalAddresses local) {
            if (mode == Mode.SET) {
                return negated ? Check.noMatch(() -> "! --set never matches") : Check.MATCH;
            }
            // Whether the client is recorded is not known; the evaluator reports the check and assumes "not".
            return negated ? Check.match(() -> "assuming no entry for this client in " + name)
                    : Check.noMatch(() -> "assuming no entry for this client in " + name);
        }
    }

    /** Anything not modelled: an unknown match module, or a known module's option the trace does not model. */
    record Unsupported(String what) implements Condition {
        @Override
        public Check test(PacketState packet, LocalAddresses local) {
            return Check.unknown(what);
        }
    }
}
