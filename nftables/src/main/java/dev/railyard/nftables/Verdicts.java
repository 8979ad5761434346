package dev.railyard.nftables;

/** Reading the chain out of a verdict such as "goto service-X" or "jump mark-for-masquerade". */
public final class Verdicts {
    private Verdicts() {
    }

    /** The chain {@code verdict} jumps or goes to, or null for accept, drop, return and the like. */
    public static String chainOf(String verdict) {
        if (verdict.startsWith("goto ")) {
            return verdict.substring(5);
        }
        if (verdict.startsWith("jump ")) {
            return verdict.substring(5);
        }
        return null;
    }
}
