package dev.railyard.nftables;

import java.util.Objects;
import java.util.Set;

/**
 * What makes a chain a base chain: netfilter calls it from {@code hook} at {@code priority} (lower first).
 *
 * @param type     "filter", "nat" or "route"
 * @param hook     "prerouting", "input", "forward", "output" or "postrouting"
 * @param priority numeric, as knftables writes it (dstnat = -100, filter = 0, srcnat = 100)
 */
public record BaseChain(String type, String hook, int priority) {
    /** knftables' named priorities for the ip and ip6 families. */
    public static final int DSTNAT = -100;
    public static final int FILTER = 0;
    public static final int SRCNAT = 100;

    private static final Set<String> TYPES = Set.of("filter", "nat", "route");
    private static final Set<String> HOOKS = Set.of("prerouting", "input", "forward", "output", "postrouting",
            "ingress", "egress");

    public BaseChain {
        if (!TYPES.contains(Objects.requireNonNull(type, "type"))) {
            throw new IllegalArgumentException("unknown base chain type \"" + type + "\"");
        }
        if (!HOOKS.contains(Objects.requireNonNull(hook, "hook"))) {
            throw new IllegalArgumentException("unknown hook \"" + hook + "\"");
        }
    }
}
