package dev.railyard.proxy.inspect.iptables;

/** What a matching iptables rule does ({@code -j}/{@code -g}), or nothing for a rule without a target. */
sealed interface Target {

    /** No {@code -j}: the rule only counts packets. */
    record None() implements Target {
    }

    /** {@code -j CHAIN}: run CHAIN, then come back. */
    record Jump(String chain) implements Target {
    }

    /** {@code -g CHAIN}: run CHAIN instead; its end returns to this chain's caller. */
    record Goto(String chain) implements Target {
    }

    /** ACCEPT, DROP, REJECT or RETURN. */
    record Verdict(Kind kind) implements Target {
        enum Kind { ACCEPT, DROP, REJECT, RETURN }
    }

    /** {@code -j DNAT --to-destination ADDRESS[:PORT]}; port 0 keeps the packet's port. */
    record Dnat(String address, int port) implements Target {
    }

    /** {@code -j REDIRECT [--to-ports PORT]}: DNAT to the node's own address; port 0 keeps the port. */
    record Redirect(int port) implements Target {
    }

    /** {@code -j MASQUERADE} or {@code -j SNAT}: the source becomes the node's (or the given) address. */
    record SourceNat(String name) implements Target {
    }

    /**
     * {@code -j MARK}: the mark becomes {@code (mark & ~clear) ^ flip}, which expresses every MARK option
     * (iptables-save prints them all as {@code --set-xmark flip/clear}).
     */
    record SetMark(long clear, long flip) implements Target {
        long apply(long mark) {
            return (mark & ~clear & 0xffffffffL) ^ flip;
        }
    }

    /** {@code -j NOTRACK} or {@code -j CT --notrack}: the connection is not tracked, so it is never NATed. */
    record NoTrack() implements Target {
    }

    /** LOG, NFLOG and other targets that only observe: the packet goes on to the next rule. */
    record Observe(String name) implements Target {
    }

    /** A target the trace does not model; the rule is reported and treated as not matching. */
    record Unsupported(String name, String why) implements Target {
    }

    /** A {@code -j NAME} not yet known to be a chain or a target; resolved once the table's chains are known. */
    record Named(String name, java.util.List<String> options) implements Target {
    }
}
