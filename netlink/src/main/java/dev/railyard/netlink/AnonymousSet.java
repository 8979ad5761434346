package dev.railyard.netlink;

import java.util.List;
import java.util.Objects;

/**
 * An inline set or verdict map bound to one rule ({@code { 10.0.0.0/8, 192.168.0.0/16 }}, {@code vmap { 0 : goto
 * a , 1 : goto b }}). The batch creates it (flags anonymous|constant, name {@code __set%d} / {@code __map%d}
 * numbered by the kernel) with its elements right before the rule that uses it; it disappears with that rule.
 * Identity matters: one instance is one kernel set.
 */
public final class AnonymousSet {

    private final DataType keyType;
    private final DataType dataType;
    private final boolean interval;
    private final List<SetElement> elements;

    private AnonymousSet(DataType keyType, DataType dataType, boolean interval, List<SetElement> elements) {
        this.keyType = Objects.requireNonNull(keyType, "keyType");
        this.dataType = dataType;
        this.interval = interval;
        this.elements = List.copyOf(elements);
        if (this.elements.isEmpty()) {
            throw new IllegalArgumentException("an anonymous set needs at least one element");
        }
    }

    /** {@code { a, b, c }} of exact values. */
    public static AnonymousSet of(DataType keyType, List<SetElement> elements) {
        return new AnonymousSet(keyType, null, false, elements);
    }

    /** {@code { 10.0.0.0/8, 172.16.0.0/12 }}: an interval set of prefixes, merged and ended as nft does. */
    public static AnonymousSet ofPrefixes(List<Prefix> prefixes) {
        if (prefixes.isEmpty()) {
            throw new IllegalArgumentException("an anonymous prefix set needs at least one prefix");
        }
        DataType type = prefixes.get(0).address().length == 4 ? DataType.IPV4_ADDR : DataType.IPV6_ADDR;
        return new AnonymousSet(type, null, true, Intervals.merged(prefixes));
    }

    /** {@code vmap { key : verdict, ... }}: every element must map to a verdict. */
    public static AnonymousSet verdictMap(DataType keyType, List<SetElement> elements) {
        for (SetElement element : elements) {
            if (element.verdict() == null) {
                throw new IllegalArgumentException("anonymous verdict map element without a verdict: " + element);
            }
        }
        return new AnonymousSet(keyType, DataType.VERDICT, false, elements);
    }

    public DataType keyType() {
        return keyType;
    }

    public DataType dataType() {
        return dataType;
    }

    public boolean interval() {
        return interval;
    }

    public List<SetElement> elements() {
        return elements;
    }

    boolean isMap() {
        return dataType != null;
    }

    /** The name template the kernel completes with a number ({@code __set0}, {@code __map3}...). */
    String nameTemplate() {
        return isMap() ? "__map%d" : "__set%d";
    }

    @Override
    public String toString() {
        return "{ " + elements.size() + " " + (isMap() ? "map" : "set") + " elements }";
    }
}
