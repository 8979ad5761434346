package dev.railyard.proxy.inspect;

/**
 * Runs packets through one node's rules, as the kernel would: the iptables evaluator over an iptables-save dump
 * or rendered rules, and (later) an nftables one over {@code nft list ruleset}. Implementations are immutable
 * and may be used from several threads.
 */
public interface PacketEvaluator {

    /** How much a trace records. */
    enum Detail {
        /** Every step met, for people reading the trace. */
        PATH,
        /** Only the outcomes, for comparisons that run many traces. */
        OUTCOMES
    }

    /** Follows the first packet of a new connection through the node's hooks and returns where it can end. */
    Trace trace(Packet packet, Detail detail);

    default Trace trace(Packet packet) {
        return trace(packet, Detail.PATH);
    }
}
