package dev.railyard.netlink;

import java.util.Objects;

/** What a lookup or dynset refers to: a named set of the rule's table, or an anonymous set bound to the rule. */
public record SetRef(String name, AnonymousSet anonymous) {

    public SetRef {
        if ((name == null) == (anonymous == null)) {
            throw new IllegalArgumentException("a set reference is either a name or an anonymous set");
        }
        if (name != null) {
            Names.check("set", name, "set reference");
        }
    }

    public static SetRef named(String name) {
        return new SetRef(Objects.requireNonNull(name, "name"), null);
    }

    public static SetRef anonymous(AnonymousSet set) {
        return new SetRef(null, Objects.requireNonNull(set, "set"));
    }

    @Override
    public String toString() {
        return name != null ? "@" + name : anonymous.toString();
    }
}
