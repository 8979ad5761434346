package dev.railyard.proxy.render.nftables;

import dev.railyard.nftables.Element;
import dev.railyard.proxy.model.ServicePortName;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The elements of the shared sets and maps (cluster-ips, service-ips, ...): which service ports want each key,
 * and which element the kernel holds for it. Two services may want the same key (an external IP given to
 * both); the port first in name order wins, deterministically, where kube-proxy's winner depends on Go's map
 * order. A sync changes claims only for the ports it rebuilt, so a partial sync touches only their keys
 * ({@link Changes}); its element operations follow from the winners that changed. Not thread-safe.
 */
final class ElementClaims {
    private static final Claim[] NONE = new Claim[0];

    /** One port's wish for one element. */
    record Claim(ServicePortName owner, Element element) {
    }

    /**
     * An element to add to or delete from the kernel; {@code owner} is the port the added (or replaced) element is
     * for, null for a deletion no port asks for; {@code newKey} for an addition of a key the kernel does not hold.
     */
    record Operation(Element element, boolean delete, ServicePortName owner, boolean newKey) {
    }

    /**
     * A key held by the kernel that no port, or more than one port, claims. The common case, one port's claim on
     * the element the kernel holds, is stored as that {@link Claim} alone: with 100,000 endpoints a slot object
     * and a claims array for every key cost ~10 MB of a daemon meant to fit in 300 MB.
     */
    private static final class Slot {
        final Element held;
        final Claim[] claims;

        Slot(Element held, Claim[] claims) {
            this.held = held;
            this.claims = claims;
        }
    }

    /**
     * container -> key fields -> a {@link Claim} (the only one, and the element held) or a {@link Slot}. Keyed by
     * the element's own list of fields rather than a joined text, which would be one more string per key.
     */
    private final Map<String, Map<List<String>, Object>> slots = new HashMap<>();

    private static Element heldOf(Object slot) {
        return slot == null ? null : slot instanceof Claim claim ? claim.element() : ((Slot) slot).held;
    }

    private static Claim[] claimsOf(Object slot) {
        return slot == null ? NONE : slot instanceof Claim claim ? new Claim[] {claim} : ((Slot) slot).claims;
    }

    /**
     * Claims on a kernel that holds {@code elements} (as listed, by container) and no port has asked for
     * anything yet: a full sync that does not flush the containers claims what it needs against them.
     */
    static ElementClaims holding(Map<String, List<Element>> elements) {
        ElementClaims claims = new ElementClaims();
        elements.forEach((container, list) -> {
            Map<List<String>, Object> keys = claims.slots.computeIfAbsent(container, c -> new HashMap<>());
            for (Element element : list) {
                keys.put(element.key(), new Slot(element, NONE));
            }
        });
        return claims;
    }

    /** How many keys of {@code container} the kernel holds. */
    int heldKeys(String container) {
        int held = 0;
        for (Object slot : slots.getOrDefault(container, Map.of()).values()) {
            held += heldOf(slot) != null ? 1 : 0;
        }
        return held;
    }

    /** Every element the kernel holds, by container. */
    Map<String, List<Element>> held() {
        Map<String, List<Element>> result = new HashMap<>();
        slots.forEach((container, keys) -> keys.values().forEach(slot -> {
            Element held = heldOf(slot);
            if (held != null) {
                result.computeIfAbsent(container, c -> new ArrayList<>()).add(held);
            }
        }));
        return result;
    }

    Changes changes() {
        return new Changes();
    }

    /**
     * Claims given up and made by the ports a sync rebuilds, and the element operations they lead to. Nothing
     * changes in the claims until {@link #commit()}, so a sync that fails leaves them as the kernel has them.
     */
    final class Changes {
        /** container -> key -> the claims after this sync, for the keys it touched. */
        private final Map<String, Map<List<String>, Claim[]>> touched = new LinkedHashMap<>();

        void release(ServicePortName owner, Element element) {
            Claim[] claims = claimsOf(element);
            for (int i = 0; i < claims.length; i++) {
                if (claims[i].owner().equals(owner)) {
                    Claim[] fewer = new Claim[claims.length - 1];
                    System.arraycopy(claims, 0, fewer, 0, i);
                    System.arraycopy(claims, i + 1, fewer, i, claims.length - i - 1);
                    put(element, fewer);
                    return;
                }
            }
        }

        void claim(ServicePortName owner, Element element) {
            Claim[] claims = claimsOf(element);
            int at = 0;
            while (at < claims.length && claims[at].owner().compareTo(owner) < 0) {
                at++;
            }
            if (at < claims.length && claims[at].owner().equals(owner)) {
                // The same port names the same key twice (a cluster IP also listed as an external IP): its first
                // wish stands, as kube-proxy's storage keeps one element per key.
                return;
            }
            Claim[] more = new Claim[claims.length + 1];
            System.arraycopy(claims, 0, more, 0, at);
            more[at] = new Claim(owner, element);
            System.arraycopy(claims, at, more, at + 1, claims.length - at);
            put(element, more);
        }

        private Claim[] claimsOf(Element element) {
            Map<List<String>, Claim[]> keys = touched.get(element.container());
            Claim[] pending = keys == null ? null : keys.get(element.key());
            if (pending != null) {
                return pending;
            }
            return ElementClaims.claimsOf(slotOf(element.container(), element.key()));
        }

        private void put(Element element, Claim[] claims) {
            touched.computeIfAbsent(element.container(), c -> new LinkedHashMap<>()).put(element.key(), claims);
        }

        /**
         * Every held element this round of claims did not touch counts as touched with no claim: the kernel loses
         * it. For a full sync against a kernel whose elements were listed rather than flushed.
         */
        void releaseUnclaimed() {
            slots.forEach((container, keys) -> keys.forEach((key, slot) -> {
                Map<List<String>, Claim[]> pending = touched.get(container);
                if (heldOf(slot) != null && (pending == null || !pending.containsKey(key))) {
                    touched.computeIfAbsent(container, c -> new LinkedHashMap<>()).put(key,
                            ElementClaims.claimsOf(slot));
                }
            }));
        }

        /**
         * What the kernel must lose and gain: held elements whose winner is gone (deleted) or has another value
         * (deleted, then the winner added), and winners it does not hold.
         */
        List<Operation> operations() {
            List<Operation> result = new ArrayList<>();
            touched.forEach((container, keys) -> keys.forEach((key, claims) -> {
                Element held = heldOf(slotOf(container, key));
                Claim winner = claims.length == 0 ? null : claims[0];
                boolean same = held != null && winner != null && winner.element().value().equals(held.value());
                if (held != null && !same) {
                    result.add(new Operation(Element.keyOf(container, held.key()), true,
                            winner == null ? null : winner.owner(), false));
                }
                if (winner != null && !same) {
                    result.add(new Operation(winner.element(), false, winner.owner(), held == null));
                }
            }));
            return result;
        }

        /** The kernel now holds every winner: the claims become the new view. */
        void commit() {
            touched.forEach((container, keys) -> {
                Map<List<String>, Object> containerSlots = slots.computeIfAbsent(container, c -> new HashMap<>());
                keys.forEach((key, claims) -> {
                    if (claims.length == 0) {
                        containerSlots.remove(key);
                    } else if (claims.length == 1) {
                        containerSlots.put(key, claims[0]);
                    } else {
                        containerSlots.put(key, new Slot(claims[0].element(), claims));
                    }
                });
            });
            touched.clear();
        }

        @Override
        public String toString() {
            StringBuilder out = new StringBuilder();
            touched.forEach((container, keys) -> keys.forEach((key, claims) ->
                    out.append(container).append(' ').append(key).append(" <- ").append(Arrays.toString(claims))
                            .append('\n')));
            return out.toString();
        }
    }

    private Object slotOf(String container, List<String> key) {
        Map<List<String>, Object> keys = slots.get(container);
        return keys == null ? null : keys.get(key);
    }
}
