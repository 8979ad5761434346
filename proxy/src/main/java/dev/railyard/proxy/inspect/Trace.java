package dev.railyard.proxy.inspect;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Where one packet goes on a node and why: every step it met (in the order met; at a random choice the taken
 * branch is followed to its end before the other continues) and every way it can end.
 *
 * @param packet   the packet traced
 * @param path     the steps met; empty when the trace was run without recording them
 * @param outcomes the ways the packet can end, in the order found; probabilities add up to 1
 * @param notes    what the reader should know about the ruleset or the assumptions (e.g. jump rules added)
 */
public record Trace(Packet packet, List<Step> path, List<Outcome> outcomes, List<String> notes) {

    public Trace {
        Objects.requireNonNull(packet, "packet");
        path = List.copyOf(path);
        outcomes = List.copyOf(outcomes);
        notes = List.copyOf(notes);
    }

    /** The share of packets per verdict, in enum order (DNAT, ACCEPT, DROP, REJECT), verdicts that occur only. */
    public Map<Verdict, Double> verdicts() {
        Map<Verdict, Double> shares = new EnumMap<>(Verdict.class);
        for (Outcome outcome : outcomes) {
            shares.merge(outcome.verdict(), outcome.probability(), Double::sum);
        }
        return shares;
    }

    /** The most likely verdict (the only one, for traces without a random choice between verdicts). */
    public Verdict verdict() {
        Verdict best = Verdict.ACCEPT;
        double bestShare = -1;
        for (Map.Entry<Verdict, Double> entry : verdicts().entrySet()) {
            if (entry.getValue() > bestShare + 1e-12) {
                best = entry.getKey();
                bestShare = entry.getValue();
            }
        }
        return best;
    }

    /**
     * The endpoints of DNAT outcomes, merged by address in the order first met, each with the total chance of
     * going there; masquerade is true when any path to it masquerades. Empty when nothing is DNATed.
     */
    public List<EndpointShare> endpoints() {
        Map<String, EndpointShare> byAddress = new LinkedHashMap<>();
        for (Outcome outcome : outcomes) {
            if (outcome.verdict() != Verdict.DNAT) {
                continue;
            }
            byAddress.merge(outcome.endpoint(),
                    new EndpointShare(outcome.endpoint(), outcome.probability(), outcome.masquerade()),
                    (a, b) -> new EndpointShare(a.address(), a.probability() + b.probability(),
                            a.masquerade() || b.masquerade()));
        }
        return List.copyOf(byAddress.values());
    }

    /** Whether any packet that gets through (DNAT or ACCEPT) has its source rewritten to the node's. */
    public boolean masquerade() {
        for (Outcome outcome : outcomes) {
            if (outcome.masquerade() && (outcome.verdict() == Verdict.DNAT || outcome.verdict() == Verdict.ACCEPT)) {
                return true;
            }
        }
        return false;
    }

    /** The session-affinity checks met on any path, without repeats, in the order met. */
    public List<Affinity> affinity() {
        List<Affinity> all = new ArrayList<>();
        for (Outcome outcome : outcomes) {
            for (Affinity affinity : outcome.affinity()) {
                if (!all.contains(affinity)) {
                    all.add(affinity);
                }
            }
        }
        return all;
    }

    /** The steps whose rule could not be evaluated (each treated as not matching). */
    public List<Step> unevaluated() {
        List<Step> steps = new ArrayList<>();
        for (Step step : path) {
            if (step.result() == Step.Result.CANNOT_EVALUATE) {
                steps.add(step);
            }
        }
        return steps;
    }
}
