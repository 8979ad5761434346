package dev.railyard.nftables;

import dev.railyard.nftables.NftException.Reason;
import dev.railyard.nftables.Transaction.Operation;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Tables, chains, rules, sets, maps and elements held in memory, changed only by whole transactions with the
 * kernel's rules: a transaction applies completely or not at all; {@code add} leaves an existing object as it
 * is, {@code create} refuses it; flush and delete need the object; a rule or map element may only name chains,
 * sets and maps that exist; a regular chain is deleted with its rules but not while a rule or element elsewhere
 * still jumps to it; a set or map is not deleted while a rule uses it; a base chain cannot be jumped to or
 * re-added with another hook or priority; an element cannot be re-added with another value. These are the
 * checks knftables' Fake makes and some it does not (references on delete, element clashes), since what the
 * kernel refuses is what a sync must never send.
 *
 * <p>{@link #dump()} prints the contents as knftables' Fake does, so kube-proxy's expectations compare with
 * it. Not thread-safe.
 */
public final class Ruleset {
    private final Map<String, TableState> tables = new TreeMap<>();

    /** Applies {@code tx} whole, or not at all. */
    public void apply(Transaction tx) throws NftException {
        Deque<Runnable> undo = new ArrayDeque<>();
        List<Operation> operations = tx.operations();
        for (int i = 0; i < operations.size(); i++) {
            Operation op = operations.get(i);
            try {
                apply(tx, op, undo);
            } catch (Refusal refusal) {
                while (!undo.isEmpty()) {
                    undo.pop().run();
                }
                throw new NftException(refusal.reason, refusal.getMessage(), i, tx.line(op));
            }
        }
    }

    /** Whether table {@code family name} exists. */
    public boolean hasTable(Family family, String name) {
        return tables.containsKey(key(family, name));
    }

    /** The table's comment, or null. */
    public Table table(Family family, String name) {
        TableState table = tables.get(key(family, name));
        return table == null ? null : table.table;
    }

    /** Chain names of the table in name order; empty if there is no such table. */
    public List<String> chainNames(Family family, String table) {
        TableState state = tables.get(key(family, table));
        return state == null ? List.of() : List.copyOf(state.chains.keySet());
    }

    /** The chain, or null. */
    public Chain chain(Family family, String table, String chain) {
        ChainState state = chainState(family, table, chain);
        return state == null ? null : state.chain;
    }

    /** The chain's rules in order, or an empty list when there is no such chain. */
    public List<Rule> rules(Family family, String table, String chain) {
        ChainState state = chainState(family, table, chain);
        return state == null ? List.of() : Collections.unmodifiableList(state.rules);
    }

    /** Set names of the table in name order. */
    public List<String> setNames(Family family, String table) {
        TableState state = tables.get(key(family, table));
        return state == null ? List.of() : List.copyOf(state.sets.keySet());
    }

    /** Map names of the table in name order. */
    public List<String> mapNames(Family family, String table) {
        TableState state = tables.get(key(family, table));
        return state == null ? List.of() : List.copyOf(state.maps.keySet());
    }

    public NftSet set(Family family, String table, String name) {
        TableState state = tables.get(key(family, table));
        Container<NftSet> set = state == null ? null : state.sets.get(name);
        return set == null ? null : set.definition;
    }

    public NftMap map(Family family, String table, String name) {
        TableState state = tables.get(key(family, table));
        Container<NftMap> map = state == null ? null : state.maps.get(name);
        return map == null ? null : map.definition;
    }

    /** Elements of a set or map, in the order they were added; empty when there is no such container. */
    public List<Element> elements(Family family, String table, String container) {
        TableState state = tables.get(key(family, table));
        if (state == null) {
            return List.of();
        }
        Container<?> found = state.sets.containsKey(container) ? state.sets.get(container)
                : state.maps.get(container);
        return found == null ? List.of() : List.copyOf(found.elements.values());
    }

    /** The element of {@code container} with this key, or null. */
    public Element element(Family family, String table, String container, List<String> key) {
        TableState state = tables.get(key(family, table));
        if (state == null) {
            return null;
        }
        Container<?> found = state.sets.containsKey(container) ? state.sets.get(container)
                : state.maps.get(container);
        return found == null ? null : found.elements.get(String.join(" . ", key));
    }

    /**
     * Everything, as knftables' Fake dumps it: per table (by family, then name), the table, its chains, sets and
     * maps (each by name), then every chain's rules, every set's and every map's elements.
     */
    public String dump() {
        StringBuilder out = new StringBuilder();
        for (TableState table : tables.values()) {
            table.dump(out);
        }
        return out.toString();
    }

    private ChainState chainState(Family family, String table, String chain) {
        TableState state = tables.get(key(family, table));
        return state == null ? null : state.chains.get(chain);
    }

    private static String key(Family family, String table) {
        return family.keyword() + " " + table;
    }

    private void apply(Transaction tx, Operation op, Deque<Runnable> undo) throws Refusal {
        String tableKey = key(tx.family(), tx.table());
        TableState table = tables.get(tableKey);
        if (op.object() instanceof Table definition) {
            applyTable(tx, op.verb(), definition, tableKey, table, undo);
            return;
        }
        if (table == null) {
            throw new Refusal(Reason.NOT_FOUND, "no such table " + tableKey);
        }
        NftObject object = op.object();
        if (object instanceof Chain chain) {
            table.applyChain(op.verb(), chain, undo);
        } else if (object instanceof Rule rule) {
            table.applyRule(op.verb(), rule, undo);
        } else if (object instanceof NftSet set) {
            table.applyContainer(op.verb(), set.name(), set, table.sets, "set", undo);
        } else if (object instanceof NftMap map) {
            table.applyContainer(op.verb(), map.name(), map, table.maps, "map", undo);
        } else if (object instanceof Element element) {
            table.applyElement(op.verb(), element, undo);
        }
    }

    private void applyTable(Transaction tx, Verb verb, Table definition, String tableKey, TableState table,
                            Deque<Runnable> undo) throws Refusal {
        switch (verb) {
            case ADD, CREATE -> {
                if (table != null) {
                    if (verb == Verb.CREATE) {
                        throw new Refusal(Reason.EXISTS, "table " + tableKey + " exists");
                    }
                    return;
                }
                tables.put(tableKey, new TableState(tx.family(), tx.table(), definition));
                undo.push(() -> tables.remove(tableKey));
            }
            case DELETE -> {
                if (table == null) {
                    throw new Refusal(Reason.NOT_FOUND, "no such table " + tableKey);
                }
                tables.remove(tableKey);
                undo.push(() -> tables.put(tableKey, table));
            }
            case FLUSH -> {
                if (table == null) {
                    throw new Refusal(Reason.NOT_FOUND, "no such table " + tableKey);
                }
                for (ChainState chain : table.chains.values()) {
                    table.flushChain(chain, undo);
                }
            }
            default -> throw new Refusal(Reason.INVALID, "cannot " + verb + " a table");
        }
    }

    /** A refused operation, before it is tied to its index. */
    private static final class Refusal extends Exception {
        private static final long serialVersionUID = 1L;
        final transient Reason reason;

        Refusal(Reason reason, String message) {
            super(message, null, false, false);
            this.reason = reason;
        }
    }

    private static final class ChainState {
        final Chain chain;
        final List<Rule> rules = new ArrayList<>();

        ChainState(Chain chain) {
            this.chain = chain;
        }
    }

    private static final class Container<D> {
        final D definition;
        final Map<String, Element> elements = new LinkedHashMap<>();

        Container(D definition) {
            this.definition = definition;
        }
    }

    private static final class TableState {
        final Family family;
        final String name;
        final Table table;
        final Map<String, ChainState> chains = new TreeMap<>();
        final Map<String, Container<NftSet>> sets = new TreeMap<>();
        final Map<String, Container<NftMap>> maps = new TreeMap<>();
        /** How many rules (of other chains) and map elements jump or go to each chain. */
        final Map<String, Integer> chainUses = new HashMap<>();
        /** How many rules look each set or map up. */
        final Map<String, Integer> containerUses = new HashMap<>();

        TableState(Family family, String name, Table table) {
            this.family = family;
            this.name = name;
            this.table = table;
        }

        void applyChain(Verb verb, Chain chain, Deque<Runnable> undo) throws Refusal {
            ChainState existing = chains.get(chain.name());
            switch (verb) {
                case ADD, CREATE -> {
                    if (existing != null) {
                        if (verb == Verb.CREATE) {
                            throw new Refusal(Reason.EXISTS, "chain " + chain.name() + " exists");
                        }
                        // A plain "add chain" names the existing chain; only a different hook spec is a change.
                        if (chain.base() != null && !Objects.equals(existing.chain.base(), chain.base())) {
                            throw new Refusal(Reason.INVALID, "chain " + chain.name() + " exists with another "
                                    + "type, hook or priority");
                        }
                        return;
                    }
                    chains.put(chain.name(), new ChainState(chain));
                    undo.push(() -> chains.remove(chain.name()));
                }
                case FLUSH -> flushChain(require(existing, chain.name()), undo);
                case DELETE -> {
                    ChainState state = require(existing, chain.name());
                    flushChain(state, undo);
                    if (chainUses.getOrDefault(chain.name(), 0) > 0) {
                        throw new Refusal(Reason.BUSY, "chain " + chain.name() + " is still jumped to");
                    }
                    chains.remove(chain.name());
                    undo.push(() -> chains.put(chain.name(), state));
                }
                default -> throw new Refusal(Reason.INVALID, "cannot " + verb + " a chain");
            }
        }

        private ChainState require(ChainState state, String name) throws Refusal {
            if (state == null) {
                throw new Refusal(Reason.NOT_FOUND, "no such chain " + name);
            }
            return state;
        }

        void flushChain(ChainState state, Deque<Runnable> undo) {
            if (state.rules.isEmpty()) {
                return;
            }
            List<Rule> removed = new ArrayList<>(state.rules);
            for (Rule rule : removed) {
                countReferences(rule, -1);
            }
            state.rules.clear();
            undo.push(() -> {
                state.rules.addAll(removed);
                for (Rule rule : removed) {
                    countReferences(rule, +1);
                }
            });
        }

        void applyRule(Verb verb, Rule rule, Deque<Runnable> undo) throws Refusal {
            ChainState chain = require(chains.get(rule.chain()), rule.chain());
            checkReferences(rule);
            if (verb == Verb.ADD) {
                chain.rules.add(rule);
                undo.push(() -> chain.rules.remove(chain.rules.size() - 1));
            } else if (verb == Verb.INSERT) {
                chain.rules.add(0, rule);
                undo.push(() -> chain.rules.remove(0));
            } else {
                throw new Refusal(Reason.INVALID, "cannot " + verb + " a rule by content");
            }
            countReferences(rule, +1);
            undo.push(() -> countReferences(rule, -1));
        }

        private void checkReferences(Rule rule) throws Refusal {
            for (RuleReferences.Reference ref : RuleReferences.of(rule.body())) {
                switch (ref.kind()) {
                    case CHAIN -> {
                        ChainState target = chains.get(ref.name());
                        if (target == null) {
                            throw new Refusal(Reason.NOT_FOUND, "no such chain " + ref.name());
                        }
                        if (target.chain.isBaseChain()) {
                            throw new Refusal(Reason.INVALID, "cannot jump to base chain " + ref.name());
                        }
                    }
                    case MAP -> {
                        if (!maps.containsKey(ref.name())) {
                            throw new Refusal(Reason.NOT_FOUND, "no such map " + ref.name());
                        }
                    }
                    case SET -> {
                        if (!sets.containsKey(ref.name()) && !maps.containsKey(ref.name())) {
                            throw new Refusal(Reason.NOT_FOUND, "no such set " + ref.name());
                        }
                    }
                }
            }
        }

        private void countReferences(Rule rule, int delta) {
            for (RuleReferences.Reference ref : RuleReferences.of(rule.body())) {
                Map<String, Integer> uses = ref.kind() == RuleReferences.Kind.CHAIN ? chainUses : containerUses;
                uses.merge(ref.name(), delta, Integer::sum);
            }
        }

        <D extends NftObject> void applyContainer(Verb verb, String name, D definition,
                                                  Map<String, Container<D>> containers, String kind,
                                                  Deque<Runnable> undo) throws Refusal {
            Container<D> existing = containers.get(name);
            switch (verb) {
                case ADD, CREATE -> {
                    if (existing != null) {
                        if (verb == Verb.CREATE) {
                            throw new Refusal(Reason.EXISTS, kind + " " + name + " exists");
                        }
                        if (!sameType(existing.definition, definition)) {
                            throw new Refusal(Reason.EXISTS, kind + " " + name + " exists with another type, "
                                    + "flags or timeout");
                        }
                        return;
                    }
                    if (otherContainerNamed(name, containers)) {
                        throw new Refusal(Reason.EXISTS, "a set or map named " + name + " exists");
                    }
                    containers.put(name, new Container<>(definition));
                    undo.push(() -> containers.remove(name));
                }
                case FLUSH -> flushContainer(requireContainer(existing, kind, name), undo);
                case DELETE -> {
                    Container<D> container = requireContainer(existing, kind, name);
                    if (containerUses.getOrDefault(name, 0) > 0) {
                        throw new Refusal(Reason.BUSY, kind + " " + name + " is still used by a rule");
                    }
                    flushContainer(container, undo);
                    containers.remove(name);
                    undo.push(() -> containers.put(name, container));
                }
                default -> throw new Refusal(Reason.INVALID, "cannot " + verb + " a " + kind);
            }
        }

        private boolean otherContainerNamed(String name, Map<String, ? extends Container<?>> containers) {
            return containers == sets ? maps.containsKey(name) : sets.containsKey(name);
        }

        private static boolean sameType(NftObject existing, NftObject added) {
            if (existing instanceof NftSet a && added instanceof NftSet b) {
                return a.type().equals(b.type()) && a.flags().equals(b.flags())
                        && a.timeoutSeconds() == b.timeoutSeconds();
            }
            if (existing instanceof NftMap a && added instanceof NftMap b) {
                return a.type().equals(b.type()) && a.typeOf() == b.typeOf() && a.flags().equals(b.flags());
            }
            return false;
        }

        private static <D> Container<D> requireContainer(Container<D> container, String kind, String name)
                throws Refusal {
            if (container == null) {
                throw new Refusal(Reason.NOT_FOUND, "no such " + kind + " " + name);
            }
            return container;
        }

        private void flushContainer(Container<?> container, Deque<Runnable> undo) {
            if (container.elements.isEmpty()) {
                return;
            }
            Map<String, Element> removed = new LinkedHashMap<>(container.elements);
            for (Element element : removed.values()) {
                countElementReference(element, -1);
            }
            container.elements.clear();
            undo.push(() -> {
                container.elements.putAll(removed);
                for (Element element : removed.values()) {
                    countElementReference(element, +1);
                }
            });
        }

        void applyElement(Verb verb, Element element, Deque<Runnable> undo) throws Refusal {
            Container<?> container = sets.containsKey(element.container()) ? sets.get(element.container())
                    : maps.get(element.container());
            if (container == null) {
                throw new Refusal(Reason.NOT_FOUND, "no such " + (element.inMap() ? "map " : "set ")
                        + element.container());
            }
            boolean isMap = container.definition instanceof NftMap;
            if (verb != Verb.DELETE && isMap != element.inMap()) {
                throw new Refusal(Reason.INVALID, element.container() + " is a " + (isMap ? "map" : "set")
                        + (isMap ? ": an element needs a value" : ": an element cannot have a value"));
            }
            String key = element.keyText();
            Element existing = container.elements.get(key);
            if (verb == Verb.DELETE) {
                if (existing == null) {
                    throw new Refusal(Reason.NOT_FOUND, "no element " + key + " in " + element.container());
                }
                container.elements.remove(key);
                countElementReference(existing, -1);
                undo.push(() -> {
                    container.elements.put(key, existing);
                    countElementReference(existing, +1);
                });
                return;
            }
            if (verb != Verb.ADD && verb != Verb.CREATE) {
                throw new Refusal(Reason.INVALID, "cannot " + verb + " an element");
            }
            if (existing != null) {
                if (verb == Verb.CREATE) {
                    throw new Refusal(Reason.EXISTS, "element " + key + " exists in " + element.container());
                }
                if (!existing.value().equals(element.value())) {
                    throw new Refusal(Reason.EXISTS, "element " + key + " exists in " + element.container()
                            + " with value " + existing.valueText());
                }
                return;
            }
            String target = element.verdictChain();
            if (target != null) {
                ChainState chain = chains.get(target);
                if (chain == null) {
                    throw new Refusal(Reason.NOT_FOUND, "no such chain " + target);
                }
                if (chain.chain.isBaseChain()) {
                    throw new Refusal(Reason.INVALID, "cannot jump to base chain " + target);
                }
            }
            container.elements.put(key, element);
            countElementReference(element, +1);
            undo.push(() -> {
                container.elements.remove(key);
                countElementReference(element, -1);
            });
        }

        private void countElementReference(Element element, int delta) {
            String target = element.verdictChain();
            if (target != null) {
                chainUses.merge(target, delta, Integer::sum);
            }
        }

        void dump(StringBuilder out) {
            table.writeOperation(Verb.ADD, family, name, out);
            out.append('\n');
            dumpAdds(chains.values().stream().map(state -> state.chain).toList(), out);
            dumpAdds(sets.values().stream().map(set -> set.definition).toList(), out);
            dumpAdds(maps.values().stream().map(map -> map.definition).toList(), out);
            for (ChainState chain : chains.values()) {
                dumpAdds(chain.rules, out);
            }
            for (Container<NftSet> set : sets.values()) {
                dumpAdds(set.elements.values(), out);
            }
            for (Container<NftMap> map : maps.values()) {
                dumpAdds(map.elements.values(), out);
            }
        }

        private void dumpAdds(Collection<? extends NftObject> objects, StringBuilder out) {
            for (NftObject object : objects) {
                object.writeOperation(Verb.ADD, family, name, out);
                out.append('\n');
            }
        }
    }
}
