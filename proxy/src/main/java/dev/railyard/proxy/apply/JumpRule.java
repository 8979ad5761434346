package dev.railyard.proxy.apply;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One rule in a built-in chain that sends traffic into one of our chains, e.g. filter INPUT
 * {@code -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals"
 * -j KUBE-EXTERNAL-SERVICES}. The comment is null for kubelet's KUBE-FIREWALL jumps, which have none.
 */
public record JumpRule(String table, String chain, String target, List<String> extraArgs, String comment) {

    public JumpRule {
        Objects.requireNonNull(table);
        Objects.requireNonNull(chain);
        Objects.requireNonNull(target);
        extraArgs = List.copyOf(extraArgs);
    }

    /**
     * The rule as argv for {@code iptables -t TABLE -C/-I/-D CHAIN <spec>}, in kube-proxy's order: extra
     * matches, then the comment, then the jump. The comment is one argv element with no quotes; quotes are
     * only needed in iptables-restore text.
     */
    public List<String> spec() {
        List<String> spec = new ArrayList<>(extraArgs);
        if (comment != null) {
            spec.addAll(List.of("-m", "comment", "--comment", comment));
        }
        spec.addAll(List.of("-j", target));
        return spec;
    }

    /** How {@code iptables -S} / iptables-save prints this rule, e.g. for comparing with the kernel's state. */
    public String toSaveFormat() {
        StringBuilder sb = new StringBuilder("-A ").append(chain);
        for (String arg : spec()) {
            sb.append(' ').append(arg.chars().anyMatch(Character::isWhitespace) ? "\"" + arg + "\"" : arg);
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return table + " " + toSaveFormat();
    }
}
