package dev.railyard.proxy.render;

import java.util.AbstractSet;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * An immutable set of chain names: a shared base plus small lists of names added and removed since it was built.
 * A partial render changes a handful of the 100,000 or more per-service chains of a large cluster, and each
 * render must hand out an immutable set of the chains in use; copying the whole set every time cost more than
 * the rest of the render. The differences are folded into a new base once they grow past a fraction of it.
 */
final class ChainSet extends AbstractSet<String> {
    private static final int MIN_COMPACT_AT = 1024;

    /** Never mutated once wrapped. */
    private final Set<String> base;
    /** Names not in base. */
    private final Set<String> added;
    /** Names in base that are not in this set. */
    private final Set<String> removed;

    private ChainSet(Set<String> base, Set<String> added, Set<String> removed) {
        this.base = base;
        this.added = added;
        this.removed = removed;
    }

    /** Takes {@code names} over: the caller must not change it afterwards. */
    static ChainSet wrap(Set<String> names) {
        return new ChainSet(names, Set.of(), Set.of());
    }

    /** This set without {@code gone}, then with {@code come}; this one is unchanged. */
    ChainSet with(Collection<String> come, Collection<String> gone) {
        if (come.isEmpty() && gone.isEmpty()) {
            return this;
        }
        Set<String> newAdded = new HashSet<>(added);
        Set<String> newRemoved = new HashSet<>(removed);
        for (String name : gone) {
            if (!newAdded.remove(name) && base.contains(name)) {
                newRemoved.add(name);
            }
        }
        for (String name : come) {
            if (base.contains(name)) {
                newRemoved.remove(name);
            } else {
                newAdded.add(name);
            }
        }
        if (newAdded.size() + newRemoved.size() > Math.max(MIN_COMPACT_AT, base.size() / 8)) {
            Set<String> all = new HashSet<>(base);
            all.removeAll(newRemoved);
            all.addAll(newAdded);
            return wrap(all);
        }
        return new ChainSet(base, Collections.unmodifiableSet(newAdded), Collections.unmodifiableSet(newRemoved));
    }

    @Override
    public boolean contains(Object name) {
        return added.contains(name) || (base.contains(name) && !removed.contains(name));
    }

    @Override
    public int size() {
        return base.size() - removed.size() + added.size();
    }

    @Override
    public Iterator<String> iterator() {
        return new Iterator<>() {
            private final Iterator<String> inBase = base.iterator();
            private final Iterator<String> inAdded = added.iterator();
            private String next = advance();

            private String advance() {
                while (inBase.hasNext()) {
                    String name = inBase.next();
                    if (!removed.contains(name)) {
                        return name;
                    }
                }
                return inAdded.hasNext() ? inAdded.next() : null;
            }

            @Override
            public boolean hasNext() {
                return next != null;
            }

            @Override
            public String next() {
                if (next == null) {
                    throw new NoSuchElementException();
                }
                String result = next;
                next = advance();
                return result;
            }
        };
    }
}
