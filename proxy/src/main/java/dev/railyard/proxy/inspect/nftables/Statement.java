package dev.railyard.proxy.inspect.nftables;

import inet.ipaddr.IPAddress;

import java.util.List;

/** One piece of an nftables rule, as the evaluator runs it: a match, a lookup, an action or a verdict. */
sealed interface Statement {

    /** How the rule spells it. */
    String text();

    /**
     * {@code KEY [& MASK] [==|!=] VALUES}: the packet's key (one field or a concatenation) compared with one value,
     * an anonymous set of them (any may match), or a named set ({@code @name}).
     *
     * @param mask     ANDed to a single numeric field before comparing; -1 for none
     * @param values   the alternatives, each one value per key field; null for a named set
     * @param set      the named set, or null
     */
    record Match(List<Selector> key, long mask, boolean negated, List<List<Value>> values, String set, String text)
            implements Statement {
        public Match {
            key = List.copyOf(key);
            values = values == null ? null : List.copyOf(values);
        }
    }

    /** {@code KEY vmap @map} or {@code KEY vmap { k : verdict, ... }}: the element's verdict, if one matches. */
    record VerdictMap(List<Selector> key, String map, NftablesRuleset.Container inline, String text)
            implements Statement {
        public VerdictMap {
            key = List.copyOf(key);
        }
    }

    /** accept, drop, reject, return, continue, jump CHAIN, goto CHAIN. */
    record Verdict(Kind kind, String chain, String text) implements Statement {
        enum Kind { ACCEPT, DROP, REJECT, RETURN, CONTINUE, JUMP, GOTO }
    }

    /**
     * {@code meta mark set ...}: a constant, or the mark combined with constants ({@code |}, {@code &}, {@code ^}
     * in order); {@code ops} holds pairs (operator character, operand).
     */
    record SetMark(boolean keep, long constant, List<long[]> ops, String text) implements Statement {
        public SetMark {
            ops = List.copyOf(ops);
        }

        long apply(long mark) {
            long value = keep ? mark : constant;
            for (long[] op : ops) {
                value = switch ((char) op[0]) {
                    case '|' -> value | op[1];
                    case '&' -> value & op[1];
                    default -> value ^ op[1];
                };
            }
            return value & 0xffffffffL;
        }
    }

    /** {@code dnat to ADDRESS[:PORT]}; port 0 keeps the packet's port; target null when not an address. */
    record Dnat(String address, IPAddress target, int port, String text) implements Statement {
    }

    /**
     * {@code dnat [ip] [addr . port] to KEY map @m} (or an inline map): the address (and port) of the element the
     * key finds.
     */
    record DnatMap(List<Selector> key, String map, NftablesRuleset.Container inline, String text)
            implements Statement {
        public DnatMap {
            key = List.copyOf(key);
        }
    }

    /** {@code redirect [to :PORT]}: DNAT to the node itself. */
    record Redirect(int port, String text) implements Statement {
    }

    /** {@code masquerade} or {@code snat to ...}: the source becomes the node's (or the given) address. */
    record SourceNat(String name, String text) implements Statement {
    }

    /** {@code notrack}: no conntrack entry, hence no NAT. */
    record NoTrack(String text) implements Statement {
    }

    /**
     * Something that does not change where the packet goes: counter, log, {@code update @set { KEY [timeout T] }}
     * (also {@code add} and {@code delete}).
     *
     * @param set            the set written, or null for counter and log
     * @param verb           update, add or delete; null for counter and log
     * @param key            the key written to the set; null when there is none or it is not one the evaluator reads
     * @param timeoutSeconds the element timeout the statement gives; 0 for none (the set's default applies)
     */
    record Observe(String what, String set, String verb, List<Selector> key, long timeoutSeconds, String text)
            implements Statement {
        public Observe {
            key = key == null ? null : List.copyOf(key);
        }

        /** Counter, log: nothing written anywhere. */
        static Observe of(String what, String text) {
            return new Observe(what, null, null, null, 0, text);
        }

        /** Whether it writes {@code key} to {@code set} and refreshes the element's timeout when it is there. */
        boolean refreshes(String setName, List<Selector> checked) {
            return "update".equals(verb) && setName.equals(set) && key != null && Selector.sameFields(key, checked);
        }
    }

    /** What the evaluator does not model; a rule holding one cannot be evaluated. */
    record Unsupported(String why, String text) implements Statement {
    }
}
