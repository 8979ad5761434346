package dev.railyard.proxy.render.nftables;

import dev.railyard.nftables.Chain;
import dev.railyard.nftables.Element;
import dev.railyard.nftables.NftMap;
import dev.railyard.nftables.NftObject;
import dev.railyard.nftables.NftSet;
import dev.railyard.nftables.Rule;
import dev.railyard.nftables.Transaction;
import dev.railyard.nftables.Transaction.Operation;
import dev.railyard.nftables.Verb;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The flat layout's partial syncs write only the objects of a service port that changed: its chains, sets and
 * maps as rendered for the kernel's current state and for the new one are compared object by object, and an
 * object whose operations are the same is left alone. A pod replaced then touches one endpoint data map and no
 * rule: data map elements cost the kernel no re-validation of the jump graph, rules do, and that validation grows
 * with the cluster. (kube-proxy's layout keeps kube-proxy's writes exactly, and does not use this.)
 */
final class ChangedObjects {
    private int chains;
    private int rules;

    /**
     * Appends to {@code into} the operations of {@code now} on every chain, set and map whose operations differ
     * from those in {@code before} (or that {@code before} does not have), in {@code now}'s order.
     */
    void copy(Transaction before, Transaction now, Transaction into) {
        Map<String, List<Operation>> previous = byObject(before);
        Map<String, List<Operation>> current = byObject(now);
        for (Operation op : now.operations()) {
            String object = objectOf(op.object());
            if (current.get(object).equals(previous.get(object))) {
                continue;
            }
            into.append(op);
            if (op.object() instanceof Chain && op.verb() == Verb.ADD) {
                chains++;
            } else if (op.object() instanceof Rule) {
                rules++;
            }
        }
    }

    int chainsWritten() {
        return chains;
    }

    int rulesWritten() {
        return rules;
    }

    private static Map<String, List<Operation>> byObject(Transaction tx) {
        Map<String, List<Operation>> groups = new HashMap<>();
        for (Operation op : tx.operations()) {
            groups.computeIfAbsent(objectOf(op.object()), k -> new ArrayList<>(4)).add(op);
        }
        return groups;
    }

    /** The chain, set or map an operation writes: a rule belongs to its chain, an element to its set or map. */
    private static String objectOf(NftObject object) {
        if (object instanceof Chain chain) {
            return "chain " + chain.name();
        }
        if (object instanceof Rule rule) {
            return "chain " + rule.chain();
        }
        if (object instanceof NftMap map) {
            return "map " + map.name();
        }
        if (object instanceof NftSet set) {
            return "set " + set.name();
        }
        if (object instanceof Element element) {
            return (element.inMap() ? "map " : "set ") + element.container();
        }
        throw new IllegalArgumentException("a service port writes no " + object.kind());
    }
}
