package dev.railyard.proxy.inspect.iptables;

/** What one condition of a rule says about a packet, with the reason in words. */
record Check(Kind kind, String why) {
    enum Kind {
        MATCH,
        NO_MATCH,
        /** The condition is not modelled, or depends on something the trace does not know. */
        UNKNOWN
    }

    static final Check MATCH = new Check(Kind.MATCH, "");

    static Check match(String why) {
        return new Check(Kind.MATCH, why);
    }

    static Check noMatch(String why) {
        return new Check(Kind.NO_MATCH, why);
    }

    static Check unknown(String why) {
        return new Check(Kind.UNKNOWN, why);
    }
}
