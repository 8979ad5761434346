package dev.railyard.proxy.inspect.nftables;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The tables, chains, rules, sets and maps of one node's nftables ruleset, as {@code nft list ruleset} prints it
 * or as an {@code add ...} script builds it, ready to evaluate. Immutable.
 */
public final class NftablesRuleset {

    /** nft's named priorities for the ip, ip6 and inet families. */
    static final Map<String, Integer> PRIORITY_NAMES = Map.of("raw", -300, "mangle", -150, "dstnat", -100,
            "filter", 0, "security", 50, "srcnat", 100);

    /**
     * What makes a chain a base chain.
     *
     * @param type     filter, nat or route
     * @param hook     prerouting, input, forward, output, postrouting (or ingress, egress: not traced)
     * @param priority numeric
     * @param policy   accept or drop
     */
    public record Hook(String type, String hook, int priority, String policy) {
        public Hook {
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(hook, "hook");
            policy = policy == null ? "accept" : policy;
        }
    }

    /** One chain: its hook (null for a regular chain) and rules in order. */
    public record Chain(String name, Hook hook, List<NftablesRule> rules) {
        public Chain {
            rules = List.copyOf(rules);
        }

        public boolean isBase() {
            return hook != null;
        }
    }

    /**
     * One element of a set or map: its key (one token per field), its value for a map (tokens, or one verdict
     * such as {@code goto X}), and its comment.
     */
    public record Element(List<String> key, List<String> value, String comment) {
        public Element {
            key = List.copyOf(key);
            value = List.copyOf(value);
        }
    }

    /**
     * A named set or map (or an anonymous map written inside a rule, with a null name).
     *
     * @param type           the key type (and for a map "key : value"), as nft prints it after type or typeof
     * @param flags          e.g. interval, dynamic, timeout
     * @param timeoutSeconds the default element timeout; 0 for none
     */
    public record Container(String name, boolean map, String type, Set<String> flags, long timeoutSeconds,
                            List<Element> elements) {
        public Container {
            flags = Set.copyOf(flags);
            elements = List.copyOf(elements);
        }

        /** A set the packet path fills itself ({@code update @set}), such as a session-affinity set. */
        public boolean dynamic() {
            return flags.contains("dynamic") || flags.contains("timeout");
        }
    }

    /** One table: family (ip, ip6, inet, ...), name, chains in creation order, sets and maps. */
    public record Table(String family, String name, Map<String, Chain> chains, Map<String, Container> containers) {
        public Table {
            chains = Collections.unmodifiableMap(new LinkedHashMap<>(chains));
            containers = Collections.unmodifiableMap(new LinkedHashMap<>(containers));
        }

        /** "ip kube-proxy". */
        public String label() {
            return family + " " + name;
        }

        /** Whether IPv4 (4) or IPv6 (6) packets meet its base chains. */
        public boolean sees(int ipVersion) {
            return family.equals("inet") || family.equals(ipVersion == 4 ? "ip" : "ip6");
        }
    }

    private final String source;
    private final List<Table> tables;
    private final List<String> notes;

    /** The hooks a trace follows; base chains on others (ingress, egress) are named in a note. */
    static final Set<String> TRACED_HOOKS = Set.of("prerouting", "input", "forward", "output", "postrouting");

    NftablesRuleset(String source, List<Table> tables, List<String> notes) {
        this.source = source;
        this.tables = List.copyOf(tables);
        List<String> all = new java.util.ArrayList<>(notes);
        for (Table table : tables) {
            if (!table.sees(4) && !table.sees(6)) {
                continue;
            }
            for (Chain chain : table.chains().values()) {
                if (chain.isBase() && !TRACED_HOOKS.contains(chain.hook().hook())) {
                    all.add("table " + table.label() + ": chain " + chain.name() + " (hook " + chain.hook().hook()
                            + ") is not traced");
                }
            }
        }
        this.notes = List.copyOf(all);
    }

    /** What the rules were read from. */
    public String source() {
        return source;
    }

    public List<Table> tables() {
        return tables;
    }

    /** The table, or null. */
    public Table table(String family, String name) {
        for (Table table : tables) {
            if (table.family.equals(family) && table.name.equals(name)) {
                return table;
            }
        }
        return null;
    }

    /** What was assumed or left out while reading (shown with every trace). */
    public List<String> notes() {
        return notes;
    }

    public int ruleCount() {
        int count = 0;
        for (Table table : tables) {
            for (Chain chain : table.chains.values()) {
                count += chain.rules().size();
            }
        }
        return count;
    }
}
