package dev.railyard.proxy.inspect;

import java.util.List;

/**
 * One way a traced packet can end. A trace has one outcome per branch of every random choice it met; their
 * probabilities add up to 1.
 *
 * @param probability the share of packets that end this way
 * @param verdict     what happens to them
 * @param endpoint    the DNAT destination (address:port, IPv6 in brackets) when the verdict is DNAT; null otherwise
 * @param masquerade  whether the source is rewritten to the node's address on the way out (MASQUERADE or SNAT)
 * @param decidedBy   the table, chain and rule that decided the verdict, or how the packet left
 * @param affinity    the session-affinity checks met on the way (assumed not to hold)
 * @param unevaluated how many rules on the way could not be evaluated (each treated as not matching)
 */
public record Outcome(double probability, Verdict verdict, String endpoint, boolean masquerade, String decidedBy,
                      List<Affinity> affinity, int unevaluated) {

    public Outcome {
        affinity = List.copyOf(affinity);
    }
}
