package dev.railyard.proxy.inspect;

/**
 * One stop on a traced packet's way through the node. Routing and leaving are the same for every ruleset and are
 * run by {@link TraceWalk}; each evaluator adds its own stops for the hooks (an iptables table's chain, the base
 * chains nftables runs at a hook).
 */
public interface TraceStop {

    /** After the hooks a packet meets on arrival: local delivery or forwarding. */
    record RouteArriving() implements TraceStop {
    }

    /** After the hooks a packet the node sends meets first: it is routed again (DNAT may have changed where). */
    record RouteSent() implements TraceStop {
    }

    /** The end of the way: delivered to a local socket, forwarded out, or sent out by the node. */
    record Leave(String how) implements TraceStop {
    }
}
