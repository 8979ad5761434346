package dev.railyard.proxy.inspect;

import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * A {@link ServiceRuleset} over rules read into memory: traces go to an evaluator of the rules, and the frontends
 * are found in the rules on first use, because a trace does not need them and finding them walks every rule.
 *
 * @param <R> the rules as read (an iptables or nftables ruleset)
 */
public abstract class EvaluatedServiceRuleset<R> implements ServiceRuleset {
    private final String description;
    private final R ruleset;
    private final List<String> notes;
    private final LocalAddresses local;
    private final PacketEvaluator evaluator;
    private final BiFunction<R, LocalAddresses, FoundFrontends> frontendFinder;
    private FoundFrontends found;

    /**
     * @param notes          what was assumed or added while reading the rules
     * @param evaluator      makes the evaluator that traces packets through the rules
     * @param frontendFinder finds the frontends in the rules, once, when first asked
     */
    protected EvaluatedServiceRuleset(String description, R ruleset, List<String> notes, LocalAddresses local,
                                      BiFunction<R, LocalAddresses, PacketEvaluator> evaluator,
                                      BiFunction<R, LocalAddresses, FoundFrontends> frontendFinder) {
        this.description = Objects.requireNonNull(description, "description");
        this.ruleset = Objects.requireNonNull(ruleset, "ruleset");
        this.notes = List.copyOf(notes);
        this.local = Objects.requireNonNull(local, "local");
        this.evaluator = evaluator.apply(ruleset, local);
        this.frontendFinder = frontendFinder;
    }

    public R ruleset() {
        return ruleset;
    }

    private synchronized FoundFrontends found() {
        if (found == null) {
            found = frontendFinder.apply(ruleset, local);
        }
        return found;
    }

    @Override
    public Trace trace(Packet packet, Detail detail) {
        return evaluator.trace(packet, detail);
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public List<Frontend> frontends() {
        return found().frontends();
    }

    @Override
    public Set<String> sourceCidrs(Frontend frontend) {
        return found().sourceCidrs(frontend);
    }

    @Override
    public LocalAddresses localAddresses() {
        return local;
    }

    @Override
    public List<String> notes() {
        return notes;
    }
}
