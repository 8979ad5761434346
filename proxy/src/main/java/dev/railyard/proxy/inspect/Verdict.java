package dev.railyard.proxy.inspect;

/** What finally happens to a traced packet. */
public enum Verdict {
    /** Delivered or forwarded with its destination rewritten to an endpoint. */
    DNAT,
    /** Delivered or forwarded to its original destination. */
    ACCEPT,
    /** Silently discarded. */
    DROP,
    /** Discarded with an error sent back (ICMP unreachable or TCP reset). */
    REJECT
}
