package dev.railyard.proxy.inspect.iptables;

import java.util.function.Supplier;

/**
 * What one condition of a rule says about a packet, with the reason in words. The reason is only put into
 * words when a trace records its path: a diff runs thousands of traces that never show one.
 */
record Check(Kind kind, Supplier<String> reason) {
    enum Kind {
        MATCH,
        NO_MATCH,
        /** The condition is not modelled, or depends on something the trace does not know. */
        UNKNOWN
    }

    static final Check MATCH = new Check(Kind.MATCH, () -> "");

    String why() {
        return reason.get();
    }

    static Check match(Supplier<String> why) {
        return new Check(Kind.MATCH, why);
    }

    static Check noMatch(Supplier<String> why) {
        return new Check(Kind.NO_MATCH, why);
    }

    static Check unknown(String why) {
        return new Check(Kind.UNKNOWN, () -> why);
    }
}
