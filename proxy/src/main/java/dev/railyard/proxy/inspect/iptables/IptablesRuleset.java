package dev.railyard.proxy.inspect.iptables;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The tables, chains and rules of one iptables-save dump or iptables-restore input, for one IP family.
 * Immutable; {@link #withJumpRules} returns a copy.
 */
public final class IptablesRuleset {

    /** The built-in chains of each table, which iptables-save always declares with their policy. */
    public static final Map<String, List<String>> BUILT_IN_CHAINS = Map.of(
            "raw", List.of("PREROUTING", "OUTPUT"),
            "mangle", List.of("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
            "nat", List.of("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
            "filter", List.of("INPUT", "FORWARD", "OUTPUT"),
            "security", List.of("INPUT", "FORWARD", "OUTPUT"));

    /** One chain: its policy (null for a user-defined chain) and rules in order. */
    public record Chain(String name, String policy, List<IptablesRule> rules) {
        public Chain {
            rules = List.copyOf(rules);
        }

        public boolean builtIn() {
            return policy != null;
        }
    }

    private final String source;
    private final Map<String, Map<String, Chain>> tables;
    private final List<String> notes;

    IptablesRuleset(String source, Map<String, Map<String, Chain>> tables, List<String> notes) {
        this.source = source;
        Map<String, Map<String, Chain>> copy = new LinkedHashMap<>();
        tables.forEach((name, chains) -> copy.put(name, Collections.unmodifiableMap(new LinkedHashMap<>(chains))));
        this.tables = Collections.unmodifiableMap(copy);
        this.notes = List.copyOf(notes);
    }

    /** What the rules were read from, e.g. a file name or "iptables-save". */
    public String source() {
        return source;
    }

    public Set<String> tableNames() {
        return tables.keySet();
    }

    /** The chains of {@code table} by name, in declaration order; empty when the table is absent. */
    public Map<String, Chain> chains(String table) {
        return tables.getOrDefault(table, Map.of());
    }

    /** The chain, or null. */
    public Chain chain(String table, String chain) {
        return chains(table).get(chain);
    }

    /** What was assumed or added while reading (shown with every trace). */
    public List<String> notes() {
        return notes;
    }

    public int ruleCount() {
        int count = 0;
        for (Map<String, Chain> chains : tables.values()) {
            for (Chain chain : chains.values()) {
                count += chain.rules().size();
            }
        }
        return count;
    }

    /** Whether {@code table} is present and declares none of its built-in chains (an iptables-restore input). */
    public boolean lacksBuiltInChains(String table) {
        Map<String, Chain> chains = tables.get(table);
        if (chains == null) {
            return false;
        }
        for (String builtIn : BUILT_IN_CHAINS.getOrDefault(table, List.of())) {
            if (chains.containsKey(builtIn)) {
                return false;
            }
        }
        return true;
    }

    /**
     * A copy where each rule is inserted at the top of its built-in chain, in order (so the last one given
     * ends up first, as successive {@code iptables -I} calls leave them). Missing built-in chains are created
     * with policy ACCEPT; missing jump targets are created empty.
     */
    IptablesRuleset withJumpRules(String table, List<IptablesRule> rules, String note) {
        Map<String, Map<String, Chain>> copy = new LinkedHashMap<>();
        tables.forEach((name, chains) -> copy.put(name, new LinkedHashMap<>(chains)));
        Map<String, Chain> chains = copy.computeIfAbsent(table, t -> new LinkedHashMap<>());
        for (IptablesRule rule : rules) {
            Chain chain = chains.get(rule.chain());
            List<IptablesRule> chainRules = new ArrayList<>();
            chainRules.add(rule);
            if (chain != null) {
                chainRules.addAll(chain.rules());
            }
            chains.put(rule.chain(), new Chain(rule.chain(), chain == null ? "ACCEPT" : chain.policy(), chainRules));
            if (rule.target() instanceof Target.Jump jump && !chains.containsKey(jump.chain())) {
                chains.put(jump.chain(), new Chain(jump.chain(), null, List.of()));
            }
        }
        List<String> allNotes = new ArrayList<>(notes);
        allNotes.add(note);
        return new IptablesRuleset(source, copy, allNotes);
    }
}
