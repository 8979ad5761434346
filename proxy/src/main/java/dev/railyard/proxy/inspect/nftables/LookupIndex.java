package dev.railyard.proxy.inspect.nftables;

import dev.railyard.proxy.inspect.LocalAddresses;
import inet.ipaddr.IPAddress;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The elements of one set or map, read as values of the key a rule looks them up with ({@code ip daddr . meta
 * l4proto . th dport}), so that a lookup costs a hash probe: elements of exact values by their text, those with
 * a prefix or range in a list. Built once per (set, key) when the evaluator is made; read-only afterwards.
 */
final class LookupIndex {
    /**
     * One element with its key read as values and, when its value is an address (and port) to DNAT to, that
     * address (null otherwise) and port (0 for none).
     */
    record Entry(NftablesRuleset.Element element, List<Value> key, IPAddress target, int port) {
        static Entry of(NftablesRuleset.Element element, List<Value> key) {
            List<String> value = element.value();
            IPAddress target = null;
            int port = 0;
            try {
                if (value.size() == 2) {
                    target = NftRuleParser.address(value.get(0));
                    port = Integer.parseInt(value.get(1));
                } else if (value.size() == 1 && !value.get(0).contains(" ")) {
                    String[] hostPort = NftRuleParser.hostPort(value.get(0));
                    target = NftRuleParser.address(hostPort[0]);
                    port = hostPort[1] == null ? 0 : Integer.parseInt(hostPort[1]);
                }
            } catch (Exception e) {
                target = null;
            }
            if (port < 0 || port > 65535) {
                target = null;
            }
            return new Entry(element, key, target, port);
        }
    }

    /** The outcome of a lookup: the element found (or null), or why it cannot be told. */
    record Found(Entry entry, String unknown) {
        static final Found NONE = new Found(null, null);
    }

    private final List<Selector> key;
    private final Map<String, Entry> exact = new HashMap<>();
    private final List<Entry> ranged = new ArrayList<>();
    private final boolean hashable;
    private final String problem;

    LookupIndex(NftablesRuleset.Container container, List<Selector> key) {
        this.key = List.copyOf(key);
        boolean flags = false;
        for (Selector selector : key) {
            flags |= selector.kind().isFlags() || selector.kind() == Selector.Kind.NUMGEN && key.size() > 1;
        }
        this.hashable = !flags;
        String trouble = null;
        for (NftablesRuleset.Element element : container.elements()) {
            if (element.key().size() != key.size()) {
                trouble = "element " + String.join(" . ", element.key()) + " of " + name(container) + " has "
                        + element.key().size() + " fields; the rule's key has " + key.size();
                continue;
            }
            List<Value> values = new ArrayList<>();
            boolean allExact = true;
            try {
                for (int i = 0; i < key.size(); i++) {
                    Value value = Value.parse(key.get(i).kind(), element.key().get(i));
                    values.add(value);
                    allExact &= value.exact();
                }
            } catch (IllegalArgumentException e) {
                trouble = "element " + String.join(" . ", element.key()) + " of " + name(container) + ": "
                        + e.getMessage();
                continue;
            }
            Entry entry = Entry.of(element, values);
            if (allExact && hashable) {
                exact.putIfAbsent(text(values), entry);
            } else {
                ranged.add(entry);
            }
        }
        this.problem = trouble;
    }

    private static String name(NftablesRuleset.Container container) {
        return container.name() == null ? "the rule's anonymous map" : "@" + container.name();
    }

    private static String text(List<Value> values) {
        if (values.size() == 1) {
            return values.get(0).key();
        }
        StringBuilder text = new StringBuilder();
        for (Value value : values) {
            text.append(value.key()).append('|');
        }
        return text.toString();
    }

    /** An element of a numgen-keyed map: the one for {@code number}, or null. */
    Entry forNumber(long number) {
        Entry entry = exact.get(Long.toString(number));
        if (entry != null) {
            return entry;
        }
        for (Entry candidate : ranged) {
            if (candidate.key().get(0) instanceof Value.Num n && n.contains(number)) {
                return candidate;
            }
        }
        return null;
    }

    /** The element the packet's key finds. */
    Found find(NftPacketState packet, LocalAddresses local) {
        if (problem != null) {
            return new Found(null, problem);
        }
        if (hashable && !exact.isEmpty()) {
            String text;
            if (key.size() == 1) {
                text = packet.text(key.get(0), local);
            } else {
                StringBuilder joined = new StringBuilder();
                for (Selector selector : key) {
                    String part = packet.text(selector, local);
                    if (part == null) {
                        joined = null;
                        break;
                    }
                    joined.append(part).append('|');
                }
                text = joined == null ? null : joined.toString();
            }
            if (text != null) {
                Entry entry = exact.get(text);
                if (entry != null) {
                    return new Found(entry, null);
                }
            }
        }
        String unknown = null;
        for (Entry entry : ranged) {
            boolean all = true;
            for (int i = 0; i < key.size() && all; i++) {
                NftPacketState.Result result = packet.test(key.get(i), -1, entry.key().get(i), local);
                if (result == NftPacketState.Result.UNKNOWN) {
                    unknown = key.get(i).text() + " is not known for this packet";
                    all = false;
                } else {
                    all = result == NftPacketState.Result.MATCH;
                }
            }
            if (all) {
                return new Found(entry, null);
            }
        }
        if (unknown == null && !exact.isEmpty()) {
            for (Selector selector : key) {
                if (packet.text(selector, local) == null && packet.test(selector, -1, new Value.Sym(""), local)
                        == NftPacketState.Result.UNKNOWN) {
                    unknown = selector.text() + " is not known for this packet";
                }
            }
        }
        return unknown == null ? Found.NONE : new Found(null, unknown);
    }
}
