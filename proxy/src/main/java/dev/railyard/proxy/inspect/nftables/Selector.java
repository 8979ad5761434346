package dev.railyard.proxy.inspect.nftables;

import java.util.List;
import java.util.Locale;

/**
 * One packet field an nftables rule reads: {@code ip daddr}, {@code meta l4proto}, {@code th dport},
 * {@code meta mark}, {@code ct state}, {@code fib saddr type}, {@code numgen random mod 2} ...
 *
 * @param kind     what it reads
 * @param text     how the rule spells it
 * @param ipFamily 4 or 6 for {@code ip}/{@code ip6} address fields (the packet must be of that family), else 0
 * @param protocol the protocol a {@code tcp dport}-style field implies (6, 17, 132), or 0 for {@code th}
 * @param modulus  for {@code numgen random mod N}: N
 * @param offset   for {@code numgen ... offset K}: K (numgen's register is 32 bits: 0 to 2^32-1)
 */
record Selector(Kind kind, String text, int ipFamily, int protocol, int modulus, long offset) {

    enum Kind {
        SADDR, DADDR, L4PROTO, SPORT, DPORT, MARK, CT_STATE, CT_STATUS, FIB_SADDR_TYPE, FIB_DADDR_TYPE, IIFNAME,
        OIFNAME, NFPROTO, NUMGEN;

        /** Fields whose packet value is a set of flags, matched when it holds the value. */
        boolean isFlags() {
            return this == CT_STATE || this == CT_STATUS;
        }

        boolean isAddress() {
            return this == SADDR || this == DADDR;
        }

        boolean isNumber() {
            return this == L4PROTO || this == SPORT || this == DPORT || this == MARK || this == NUMGEN;
        }
    }

    /**
     * Whether two keys read the same packet fields the same way (kind, family, protocol, numgen modulus and
     * offset), however they are spelt.
     */
    static boolean sameFields(List<Selector> a, List<Selector> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            Selector x = a.get(i);
            Selector y = b.get(i);
            if (x.kind != y.kind || x.ipFamily != y.ipFamily || x.protocol != y.protocol || x.modulus != y.modulus
                    || x.offset != y.offset) {
                return false;
            }
        }
        return true;
    }

    static Selector of(Kind kind, String text) {
        return new Selector(kind, text, 0, 0, 0, 0);
    }

    /** The protocol number of a protocol name, or -1. */
    static int protocolNumber(String name) {
        switch (name.toLowerCase(Locale.ROOT)) {
            case "tcp":
                return 6;
            case "udp":
                return 17;
            case "sctp":
                return 132;
            case "icmp":
                return 1;
            case "icmpv6":
            case "ipv6-icmp":
                return 58;
            case "udplite":
                return 136;
            case "dccp":
                return 33;
            case "gre":
                return 47;
            case "esp":
                return 50;
            case "ah":
                return 51;
            default:
                return -1;
        }
    }

    static String protocolName(long number) {
        return switch ((int) number) {
            case 6 -> "tcp";
            case 17 -> "udp";
            case 132 -> "sctp";
            case 1 -> "icmp";
            case 58 -> "icmpv6";
            default -> String.valueOf(number);
        };
    }
}
