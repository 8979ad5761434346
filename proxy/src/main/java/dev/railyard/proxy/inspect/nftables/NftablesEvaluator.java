package dev.railyard.proxy.inspect.nftables;

import dev.railyard.proxy.inspect.Affinity;
import dev.railyard.proxy.inspect.LocalAddresses;
import dev.railyard.proxy.inspect.Packet;
import dev.railyard.proxy.inspect.PacketEvaluator;
import dev.railyard.proxy.inspect.Step;
import dev.railyard.proxy.inspect.Trace;
import dev.railyard.proxy.inspect.TraceBranch;
import dev.railyard.proxy.inspect.TraceFrame;
import dev.railyard.proxy.inspect.TraceStop;
import dev.railyard.proxy.inspect.TraceWalk;
import dev.railyard.proxy.inspect.Verdict;
import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.IpFamily;
import inet.ipaddr.IPAddress;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Follows the first packet of a new connection through an nftables ruleset the way the kernel does.
 *
 * <p>Hooks, in order: a packet that arrives (from outside or from a pod) meets prerouting; then routing: to a
 * local address (after DNAT) it meets input and is delivered; otherwise forward, then postrouting, and leaves. A
 * packet the node sends meets output, is routed, meets postrouting; to a local address it then comes back over
 * {@code lo} through prerouting and input (nat chains are not consulted again: the connection's NAT is set up).
 * At each hook every base chain of every table of the packet's family (ip or ip6, and inet) runs, lowest priority
 * first; nat chains run where the kernel's NAT core sits (-100 in prerouting and output, 100 in postrouting and
 * input), among themselves by priority, and once one of them NATs, the others of that hook are skipped. A base
 * chain ends with {@code accept} (the next base chain runs), its policy, or {@code drop}/{@code reject}, which
 * end the trace.
 *
 * <p>In each chain every rule runs its statements in order; a comparison that fails ends the rule. Modelled:
 * {@code ip/ip6 saddr/daddr}, {@code meta l4proto}, {@code th/tcp/udp/sctp dport/sport}, {@code meta mark} (with
 * {@code &} masks), {@code ct state}, {@code ct status}, {@code fib saddr/daddr type}, {@code iifname} and
 * {@code oifname} when known, {@code meta nfproto}; values, prefixes, ranges, anonymous sets, named sets and
 * concatenations; {@code vmap} (named or inline), {@code numgen random mod N vmap {...}} and {@code dnat ... to
 * numgen random mod N map @m}, which split the trace into N branches of 1/N each (a value without an element
 * does not match); a comparison of {@code numgen random mod N} with constants ({@code numgen random mod 3 0 goto
 * ...}, {@code != 0}, a set, a range), which splits it in two: the share of the N values that match goes on with
 * the rule, the rest with the next rule; {@code dnat to}, {@code redirect}, {@code masquerade}, {@code snat},
 * {@code meta mark set}, {@code notrack}, {@code counter}, {@code log}, {@code update @set}, verdicts, jumps and gotos. A lookup of the
 * packet's source (alone, or with a constant {@code numgen random mod 1 offset K}: the flat layout's one shared
 * set) in a dynamic set whose rule jumps or goes to an endpoint's chain is ClientIP affinity: the trace assumes a
 * new client and reports the check, with the timeout that chain's {@code update @set} gives (else the set's).
 * Anything else is reported on its rule as "cannot evaluate" and the rule is treated as not matching.
 */
public final class NftablesEvaluator implements PacketEvaluator {
    /** nft refuses deeper jump stacks (NFT_JUMP_STACK_SIZE is 16); a loop stops here. */
    private static final int MAX_DEPTH = 64;

    private final NftablesRuleset ruleset;
    private final LocalAddresses local;
    /** Base chains per hook, in the order the kernel runs them, for IPv4 (index 0) and IPv6 (index 1). */
    private final List<Map<String, List<Base>>> hooks = List.of(new HashMap<>(), new HashMap<>());
    /** Lookup indexes per set (or inline map) and key. */
    private final Map<NftablesRuleset.Container, Map<List<Selector.Kind>, LookupIndex>> indexes =
            new IdentityHashMap<>();
    /** The index each lookup statement uses (by statement identity), so that a trace finds it in one probe. */
    private final Map<Statement, LookupIndex> statementIndexes = new IdentityHashMap<>();
    /** What each comparison of a numgen random value with constants matches, worked out once (by identity). */
    private final Map<Statement, NumgenComparison> numgenComparisons = new IdentityHashMap<>();

    /** A base chain of a table, ready to run. */
    private record Base(NftablesRuleset.Table table, NftablesRuleset.Chain chain, boolean nat, int order) {
    }

    public NftablesEvaluator(NftablesRuleset ruleset, LocalAddresses local) {
        this.ruleset = Objects.requireNonNull(ruleset, "ruleset");
        this.local = Objects.requireNonNull(local, "local");
        int order = 0;
        for (NftablesRuleset.Table table : ruleset.tables()) {
            for (NftablesRuleset.Chain chain : table.chains().values()) {
                order++;
                indexRules(table, chain);
                if (!chain.isBase()) {
                    continue;
                }
                for (int version : new int[] {4, 6}) {
                    if (table.sees(version)) {
                        hooks.get(version == 4 ? 0 : 1).computeIfAbsent(chain.hook().hook(), h -> new ArrayList<>())
                                .add(new Base(table, chain, chain.hook().type().equals("nat"), order));
                    }
                }
            }
        }
        for (Map<String, List<Base>> byHook : hooks) {
            byHook.forEach((hook, bases) -> bases.sort(Comparator
                    .comparingInt((Base b) -> b.nat ? natCorePriority(hook) : b.chain.hook().priority())
                    .thenComparingInt(b -> b.chain.hook().priority())
                    .thenComparingInt(Base::order)));
        }
    }

    /** Where the kernel's NAT core calls nat chains from (NF_IP_PRI_NAT_DST, NF_IP_PRI_NAT_SRC). */
    private static int natCorePriority(String hook) {
        return hook.equals("prerouting") || hook.equals("output") ? -100 : 100;
    }

    private void indexRules(NftablesRuleset.Table table, NftablesRuleset.Chain chain) {
        for (NftablesRule rule : chain.rules()) {
            for (Statement statement : rule.statements()) {
                LookupIndex index = null;
                if (statement instanceof Statement.Match match && match.set() == null) {
                    NumgenComparison numgen = NumgenComparison.of(match);
                    if (numgen != null) {
                        numgenComparisons.put(statement, numgen);
                    }
                } else if (statement instanceof Statement.Match match) {
                    index = index(table.containers().get(match.set()), match.key());
                } else if (statement instanceof Statement.VerdictMap map) {
                    index = index(map.inline() != null ? map.inline() : table.containers().get(map.map()), map.key());
                } else if (statement instanceof Statement.DnatMap map) {
                    index = index(map.inline() != null ? map.inline() : table.containers().get(map.map()), map.key());
                }
                if (index != null) {
                    statementIndexes.put(statement, index);
                }
            }
        }
    }

    private LookupIndex index(NftablesRuleset.Container container, List<Selector> key) {
        if (container == null) {
            return null;
        }
        List<Selector.Kind> kinds = key.stream().map(Selector::kind).toList();
        return indexes.computeIfAbsent(container, c -> new HashMap<>())
                .computeIfAbsent(kinds, k -> new LookupIndex(container, key));
    }

    @Override
    public Trace trace(Packet packet, Detail detail) {
        return new Walk(packet, detail).run();
    }

    // ---------------------------------------------------------------------------------------------------------

    /** The base chains of a hook; nat ones only when {@code nat} (not on the way back in over lo). */
    private record Hook(String hook, boolean nat) implements TraceStop {
    }

    /** One base chain, queued when its hook is reached. */
    private record Call(Base base, String hook) implements TraceStop {
    }

    private static List<TraceStop> arriving() {
        return List.of(new Hook("prerouting", true), new TraceStop.RouteArriving());
    }

    private static List<TraceStop> sending() {
        return List.of(new Hook("output", true), new TraceStop.RouteSent());
    }

    /** A chain being run: where it is, how deep, whether its end applies a policy (the hook's base chain). */
    private static final class Frame implements TraceFrame<Frame> {
        final NftablesRuleset.Table table;
        final NftablesRuleset.Chain chain;
        final int depth;
        /** The base chain this frame's policy belongs to; null for a jumped-to chain. */
        final Call base;
        int next;

        Frame(NftablesRuleset.Table table, NftablesRuleset.Chain chain, int depth, Call base) {
            this.table = table;
            this.chain = chain;
            this.depth = depth;
            this.base = base;
        }

        @Override
        public boolean done() {
            return next >= chain.rules().size();
        }

        @Override
        public Policy policy() {
            if (base == null) {
                return null;
            }
            NftablesRuleset.Chain baseChain = base.base.chain;
            String policy = baseChain.hook().policy();
            return new Policy("policy " + policy, baseChain.name(), policy, policy.equals("drop"),
                    !baseChain.rules().isEmpty(), table.label());
        }

        @Override
        public Step step(String rule, Step.Result result, String why, double reach) {
            return new Step(table.label(), chain.name(), rule, result, why, depth, reach);
        }

        @Override
        public Frame copy() {
            Frame copy = new Frame(table, chain, depth, base);
            copy.next = next;
            return copy;
        }
    }

    /** One branch of a trace, with where it stands on NAT at the hook it is in. */
    private static final class Branch extends TraceBranch<NftPacketState, Frame> {
        /** The hook whose NAT is set up: its other nat chains are skipped. */
        String natDone;
        /** The hook and base chain now running. */
        Call current;

        Branch(NftPacketState packet, List<TraceStop> stops) {
            super(packet, stops);
        }

        private Branch(Branch other) {
            super(other, other.packet.copy());
            this.natDone = other.natDone;
            this.current = other.current;
        }

        Branch copy() {
            return new Branch(this);
        }
    }

    /** One trace being run. */
    private final class Walk extends TraceWalk<Branch, Frame> {
        private final int version;

        Walk(Packet packet, Detail detail) {
            super(packet, detail, NftablesEvaluator.this.local, ruleset.notes());
            this.version = family == IpFamily.V4 ? 4 : 6;
        }

        @Override
        protected Branch start() {
            return new Branch(new NftPacketState(packet, local), packet.origin().arrives() ? arriving() : sending());
        }

        @Override
        protected void enter(Branch b, TraceStop stop) {
            if (stop instanceof Hook hook) {
                List<Base> bases = hooks.get(version == 4 ? 0 : 1).getOrDefault(hook.hook(), List.of());
                for (int i = bases.size() - 1; i >= 0; i--) {
                    Base base = bases.get(i);
                    if (!base.nat || hook.nat()) {
                        b.stops.push(new Call(base, hook.hook()));
                    }
                }
                return;
            }
            Call call = (Call) stop;
            if (call.base.nat && (b.packet.untracked || call.hook().equals(b.natDone))) {
                return; // no conntrack entry, or this hook's NAT is already set up
            }
            b.current = call;
            b.frames.push(new Frame(call.base.table, call.base.chain, 0, call));
        }

        @Override
        protected List<TraceStop> routed(boolean arrived, boolean toLocal) {
            if (arrived) {
                return toLocal ? List.of(new Hook("input", true), new TraceStop.Leave("delivered to a local socket"))
                        : List.of(new Hook("forward", true), new Hook("postrouting", true),
                        new TraceStop.Leave("forwarded"));
            }
            if (toLocal) {
                // Back in over lo. NAT was settled in output and postrouting; nat chains are not run again.
                return List.of(new Hook("postrouting", true), new Hook("prerouting", false), new Hook("input", false),
                        new TraceStop.Leave("delivered to a local socket over lo"));
            }
            return List.of(new Hook("postrouting", true), new TraceStop.Leave("sent out by the node"));
        }

        @Override
        protected String hookLabel(String hook) {
            return hook;
        }

        @Override
        protected boolean applyNext(Branch b, Frame frame) {
            return apply(b, frame, frame.chain.rules().get(frame.next++));
        }

        /** Runs one rule; false when the branch ended. */
        private boolean apply(Branch b, Frame frame, NftablesRule rule) {
            NftPacketState p = b.packet;
            Statement.Unsupported unsupported = rule.unsupported();
            if (unsupported != null) {
                return unsupported(b, frame, rule, unsupported);
            }
            List<String> done = recordPath ? new ArrayList<>() : null;
            List<Statement> statements = rule.statements();
            for (int i = 0; i < statements.size(); i++) {
                Statement statement = statements.get(i);
                if (statement instanceof Statement.Match match) {
                    Boolean affinity = affinityCheck(b, frame, rule, match, statements);
                    if (affinity != null) {
                        return true;
                    }
                    NumgenComparison numgen = numgenComparisons.get(match);
                    if (numgen != null) {
                        Boolean ruleOver = randomMatch(b, frame, rule, match, numgen, done);
                        if (ruleOver != null) {
                            return ruleOver;
                        }
                        continue;
                    }
                    String[] why = new String[1];
                    NftPacketState.Result result = test(frame.table, match, p, why);
                    if (result == NftPacketState.Result.UNKNOWN) {
                        return cannot(b, frame, rule, why[0]);
                    }
                    if (result == NftPacketState.Result.NO_MATCH) {
                        record(() -> step(frame, rule.text(), Step.Result.NO_MATCH, why[0], b));
                        return true;
                    }
                } else if (statement instanceof Statement.VerdictMap map) {
                    return verdictMap(b, frame, rule, map, done);
                } else if (statement instanceof Statement.Verdict verdict) {
                    return verdict(b, frame, rule, verdict, done, null);
                } else if (statement instanceof Statement.SetMark mark) {
                    p.mark = mark.apply(p.mark);
                    note(done, () -> "mark is now 0x" + Long.toHexString(p.mark));
                } else if (statement instanceof Statement.Dnat dnat) {
                    if (dnat.target() == null) {
                        return cannot(b, frame, rule, "DNAT target " + dnat.address() + " is not an address");
                    }
                    return dnat(b, frame, rule, dnat.target(), dnat.port() == 0 ? p.port() : dnat.port(), "DNAT",
                            done);
                } else if (statement instanceof Statement.DnatMap map) {
                    return dnatMap(b, frame, rule, map, done);
                } else if (statement instanceof Statement.Redirect redirect) {
                    IPAddress address = IpAddresses.parse(packet.origin().arrives() ? local.primary(family)
                            : loopback());
                    return dnat(b, frame, rule, address, redirect.port() == 0 ? p.port() : redirect.port(),
                            "redirect (to " + (packet.origin().arrives() ? "the incoming interface's address, "
                                    + "taken as the node's primary" : "loopback") + ")", done);
                } else if (statement instanceof Statement.SourceNat snat) {
                    if (!natChain(b)) {
                        return cannot(b, frame, rule, snat.name() + " only works in a nat chain");
                    }
                    p.masqueraded = true;
                    note(done, () -> snat.name() + ": the source becomes the node's address");
                    record(() -> step(frame, rule.text(), Step.Result.MATCH, String.join("; ", done), b));
                    b.natDone = b.current.hook();
                    b.frames.clear();
                    return true;
                } else if (statement instanceof Statement.NoTrack) {
                    p.untracked = true;
                    note(done, () -> "not tracked: no NAT for this packet");
                } else if (statement instanceof Statement.Observe observe) {
                    note(done, () -> observe.set() != null ? observe.what() + " (remembers the packet; does not "
                            + "change where it goes)" : observe.what() + " does not change where the packet goes");
                }
            }
            record(() -> step(frame, rule.text(), Step.Result.MATCH, done.isEmpty() ? "no verdict: the chain goes "
                    + "on" : String.join("; ", done) + "; the chain goes on", b));
            return true;
        }

        /**
         * A comparison of a random number: this branch goes on with the rule's next statement as the share of the
         * packets that match (null is returned); the rest, a branch of its own, waits and then goes on with the
         * next rule. When every value or none matches there is no split. Otherwise what {@link #apply} returns.
         */
        private Boolean randomMatch(Branch b, Frame frame, NftablesRule rule, Statement.Match match,
                                    NumgenComparison numgen, List<String> done) {
            if (numgen.unknown() != null) {
                return cannot(b, frame, rule, numgen.unknown());
            }
            String gives = numgen.numgen().text() + " gives ";
            if (numgen.matching() == 0) {
                record(() -> step(frame, rule.text(), Step.Result.NO_MATCH, gives + numgen.unmatched()
                        + ", none of which matches \"" + match.text() + "\"", b));
                return Boolean.TRUE;
            }
            if (numgen.matching() == numgen.modulus()) {
                note(done, () -> gives + numgen.matched() + ", all of which match");
                return null;
            }
            if (!split(1)) {
                return Boolean.FALSE;
            }
            long others = numgen.modulus() - numgen.matching();
            Branch rest = b.copy();
            rest.reach = b.reach * others / numgen.modulus();
            rest.resume = () -> {
                record(() -> step(frame, rule.text(), Step.Result.NO_MATCH, "random choice: " + gives
                        + numgen.unmatched() + " (" + others + " of its " + numgen.modulus() + " values: "
                        + percent((double) others / numgen.modulus()) + " of the packets that get here), which "
                        + "does not match \"" + match.text() + "\"", rest));
                return true;
            };
            pending.push(rest);
            b.reach = b.reach * numgen.matching() / numgen.modulus();
            note(done, () -> "random choice: " + gives + numgen.matched() + " (" + numgen.matching() + " of its "
                    + numgen.modulus() + " values: " + percent(numgen.share()) + " of the packets that get here)");
            return null;
        }

        /**
         * A lookup of the source in a dynamic set whose rule then jumps or goes to a chain: ClientIP session
         * affinity. A new client has no entry; the check is reported. Null when the match is not one.
         */
        private Boolean affinityCheck(Branch b, Frame frame, NftablesRule rule, Statement.Match match,
                                      List<Statement> statements) {
            String target = affinityTarget(frame.table, match, statements);
            if (target == null) {
                return null;
            }
            NftablesRuleset.Container set = frame.table.containers().get(match.set());
            String endpoint = endpointOf(frame.table, target);
            long seconds = affinitySeconds(frame.table, target, set, match.key());
            Affinity affinity = new Affinity(set.name(), seconds, target, endpoint);
            b.packet.meetAffinity(affinity);
            String chain = target;
            record(() -> step(frame, rule.text(), Step.Result.NO_MATCH, "session affinity: assuming this client has "
                    + "no entry in @" + set.name() + " (a client seen " + (seconds > 0 ? "within " + seconds + " s"
                    : "before") + " would go to " + chain + (endpoint == null ? "" : ", " + endpoint) + ")", b));
            return Boolean.TRUE;
        }

        /** The chain an affinity check sends a remembered client to, or null when the match is not one. */
        private String affinityTarget(NftablesRuleset.Table table, Statement.Match match, List<Statement> statements) {
            if (match.set() == null || match.negated() || !affinityKey(match.key())) {
                return null;
            }
            NftablesRuleset.Container set = table.containers().get(match.set());
            if (set == null || !set.dynamic() || set.map()) {
                return null;
            }
            for (Statement statement : statements) {
                if (statement instanceof Statement.Verdict verdict && verdict.chain() != null) {
                    return verdict.chain();
                }
            }
            return null;
        }

        /**
         * The client's address alone (kube-proxy's layout, one set per endpoint), or the client's address and the
         * endpoint's own constant ({@code ip saddr . numgen random mod 1 offset K}: a numgen of modulus 1 always
         * reads K, so one shared set holds every endpoint's clients). A larger modulus is a random value, not an
         * endpoint's key.
         */
        private static boolean affinityKey(List<Selector> key) {
            if (key.isEmpty() || key.size() > 2 || key.get(0).kind() != Selector.Kind.SADDR) {
                return false;
            }
            return key.size() == 1 || key.get(1).kind() == Selector.Kind.NUMGEN && key.get(1).modulus() == 1;
        }

        /**
         * How long the target chain keeps a client: the timeout its {@code update @set} of the checked key gives,
         * else the set's default (0 for none).
         */
        private long affinitySeconds(NftablesRuleset.Table table, String target, NftablesRuleset.Container set,
                                     List<Selector> key) {
            NftablesRuleset.Chain chain = table.chains().get(target);
            if (chain != null) {
                for (NftablesRule rule : chain.rules()) {
                    for (Statement statement : rule.statements()) {
                        if (statement instanceof Statement.Observe observe && observe.refreshes(set.name(), key)
                                && observe.timeoutSeconds() > 0) {
                            return observe.timeoutSeconds();
                        }
                    }
                }
            }
            return set.timeoutSeconds();
        }

        private NftPacketState.Result test(NftablesRuleset.Table table, Statement.Match match, NftPacketState p,
                                           String[] why) {
            if (match.set() != null) {
                NftablesRuleset.Container set = table.containers().get(match.set());
                if (set == null) {
                    why[0] = "there is no set @" + match.set();
                    return NftPacketState.Result.UNKNOWN;
                }
                LookupIndex index = statementIndexes.get(match);
                LookupIndex.Found found = index.find(p, local);
                if (found.unknown() != null) {
                    why[0] = found.unknown();
                    return NftPacketState.Result.UNKNOWN;
                }
                boolean in = found.entry() != null;
                if (recordPath) {
                    why[0] = keyText(match.key(), p) + (in ? " is in @" : " is not in @") + match.set();
                }
                return in != match.negated() ? NftPacketState.Result.MATCH : NftPacketState.Result.NO_MATCH;
            }
            boolean any = false;
            for (List<Value> alternative : match.values()) {
                boolean all = true;
                for (int i = 0; i < match.key().size() && all; i++) {
                    NftPacketState.Result result = p.test(match.key().get(i), match.mask(), alternative.get(i), local);
                    if (result == NftPacketState.Result.UNKNOWN) {
                        why[0] = match.key().get(i).text() + " is not known for this packet (give --in-interface)";
                        return result;
                    }
                    all = result == NftPacketState.Result.MATCH;
                }
                if (all) {
                    any = true;
                    break;
                }
            }
            boolean matched = any != match.negated();
            if (recordPath && !matched) {
                why[0] = keyText(match.key(), p) + " does not match \"" + match.text() + "\"";
            }
            return matched ? NftPacketState.Result.MATCH : NftPacketState.Result.NO_MATCH;
        }

        private String keyText(List<Selector> key, NftPacketState p) {
            List<String> parts = new ArrayList<>();
            for (Selector selector : key) {
                parts.add(selector.text() + " " + p.describe(selector, local));
            }
            return String.join(" . ", parts);
        }

        private NftablesRuleset.Container container(NftablesRuleset.Table table, String name,
                                                    NftablesRuleset.Container inline) {
            return inline != null ? inline : table.containers().get(name);
        }

        private boolean verdictMap(Branch b, Frame frame, NftablesRule rule, Statement.VerdictMap map,
                                   List<String> done) {
            NftablesRuleset.Container container = container(frame.table, map.map(), map.inline());
            if (container == null) {
                return cannot(b, frame, rule, "there is no map @" + map.map());
            }
            LookupIndex index = statementIndexes.get(map);
            String where = map.map() == null ? "the rule's map" : "@" + map.map();
            if (map.key().size() == 1 && map.key().get(0).kind() == Selector.Kind.NUMGEN) {
                Selector numgen = map.key().get(0);
                List<LookupIndex.Entry> choices = numgenChoices(index, numgen);
                if (choices == null) {
                    return false;
                }
                return branchOver(b, frame, rule, numgen, choices, done, (branch, entry, notes) -> {
                    Statement.Verdict verdict = verdictOf(entry.element());
                    if (verdict == null) {
                        return cannot(branch, frame, rule, "the element's value " + String.join(" . ",
                                entry.element().value()) + " is not a verdict");
                    }
                    return verdict(branch, frame, rule, verdict, notes, entry);
                });
            }
            LookupIndex.Found found = index.find(b.packet, local);
            if (found.unknown() != null) {
                return cannot(b, frame, rule, found.unknown());
            }
            if (found.entry() == null) {
                record(() -> step(frame, rule.text(), Step.Result.NO_MATCH, keyText(map.key(), b.packet)
                        + " is not in " + where, b));
                return true;
            }
            Statement.Verdict verdict = verdictOf(found.entry().element());
            if (verdict == null) {
                return cannot(b, frame, rule, "the element's value " + String.join(" . ",
                        found.entry().element().value()) + " is not a verdict");
            }
            return verdict(b, frame, rule, verdict, done, found.entry());
        }

        /**
         * The element each value of {@code numgen random mod N offset B} finds: keys B..B+N-1 (the flat layout's
         * dispatch chains each read their own block of one shared endpoint map), wrapping at 2^32 as the kernel's
         * 32-bit register does. Null, and the trace stopped, when N alone exceeds the branch budget.
         */
        private List<LookupIndex.Entry> numgenChoices(LookupIndex index, Selector numgen) {
            if (numgen.modulus() > MAX_BRANCHES) {
                stopped = true;
                return null;
            }
            List<LookupIndex.Entry> choices = new ArrayList<>(numgen.modulus());
            for (int v = 0; v < numgen.modulus(); v++) {
                choices.add(index.forNumber(numgenKey(numgen, v)));
            }
            return choices;
        }

        private static long numgenKey(Selector numgen, int choice) {
            return (numgen.offset() + choice) & 0xffffffffL;
        }

        /** What to do on one branch of a random choice with the element chosen, given what happened so far. */
        private interface Choice {
            boolean take(Branch branch, LookupIndex.Entry entry, List<String> done);
        }

        /**
         * Splits the trace over the {@code numgen} values: each value's branch (1/N of the packets) takes its
         * element; a value without one does not match the rule and goes on with the next. This branch takes the
         * first value; the others wait, in order.
         */
        private boolean branchOver(Branch b, Frame frame, NftablesRule rule, Selector numgen,
                                   List<LookupIndex.Entry> choices, List<String> done, Choice choice) {
            int n = choices.size();
            double share = 1.0 / n;
            if (n > 1 && !split(n - 1)) {
                return false;
            }
            for (int v = n - 1; v >= 0; v--) {
                Branch branch = v == 0 ? b : b.copy();
                branch.reach = b.reach * share;
                LookupIndex.Entry entry = choices.get(v);
                int choiceIndex = v;
                long key = numgenKey(numgen, v);
                BooleanSupplier take;
                if (entry == null) {
                    take = () -> {
                        record(() -> step(frame, rule.text(), Step.Result.NO_MATCH,
                                choiceText(choiceIndex, key, n, null), branch));
                        return true;
                    };
                } else {
                    take = () -> {
                        List<String> notes = done == null ? null : new ArrayList<>(done);
                        if (notes != null) {
                            notes.add(choiceText(choiceIndex, key, n, entry));
                        }
                        return choice.take(branch, entry, notes);
                    };
                }
                if (v == 0) {
                    return take.getAsBoolean();
                }
                branch.resume = take;
                pending.push(branch);
            }
            throw new IllegalStateException("numgen with no values");
        }

        /** Choice i of n; with an offset, also the key it reads (the element's key, not i, is what is listed). */
        private String choiceText(int choice, long key, int n, LookupIndex.Entry entry) {
            String share = percent(1.0 / n);
            String which = "random choice " + choice + " of " + n + (key == choice ? "" : ", key " + key);
            if (entry == null) {
                return which + " (" + share + " of the packets that get here) has no element: the rule does not "
                        + "match";
            }
            return which + " (" + share + " of the packets that get here)";
        }

        private Statement.Verdict verdictOf(NftablesRuleset.Element element) {
            if (element.value().size() != 1) {
                return null;
            }
            String value = element.value().get(0);
            String[] words = value.split(" ", 2);
            return switch (words[0]) {
                case "accept" -> new Statement.Verdict(Statement.Verdict.Kind.ACCEPT, null, value);
                case "drop" -> new Statement.Verdict(Statement.Verdict.Kind.DROP, null, value);
                case "return" -> new Statement.Verdict(Statement.Verdict.Kind.RETURN, null, value);
                case "continue" -> new Statement.Verdict(Statement.Verdict.Kind.CONTINUE, null, value);
                case "jump" -> words.length == 2 ? new Statement.Verdict(Statement.Verdict.Kind.JUMP, words[1], value)
                        : null;
                case "goto" -> words.length == 2 ? new Statement.Verdict(Statement.Verdict.Kind.GOTO, words[1], value)
                        : null;
                default -> null;
            };
        }

        private boolean verdict(Branch b, Frame frame, NftablesRule rule, Statement.Verdict verdict,
                                List<String> done, LookupIndex.Entry entry) {
            String prefix = (done == null || done.isEmpty() ? "" : String.join("; ", done) + "; ")
                    + (entry == null ? "" : String.join(" . ", entry.element().key()) + " : ");
            switch (verdict.kind()) {
                case ACCEPT -> {
                    record(() -> step(frame, rule.text(), Step.Result.MATCH, prefix + "accept: done with "
                            + frame.table.label() + " " + b.current.base.chain.name(), b));
                    b.frames.clear();
                    return true;
                }
                case CONTINUE -> {
                    record(() -> step(frame, rule.text(), Step.Result.MATCH, prefix + "continue", b));
                    return true;
                }
                case RETURN -> {
                    record(() -> step(frame, rule.text(), Step.Result.MATCH, prefix + "return", b));
                    Frame returned = b.frames.pop();
                    return returned.base == null || applyPolicy(b, returned);
                }
                case DROP, REJECT -> {
                    Verdict end = verdict.kind() == Statement.Verdict.Kind.DROP ? Verdict.DROP : Verdict.REJECT;
                    record(() -> step(frame, rule.text(), Step.Result.MATCH, prefix + end.name().toLowerCase(
                            Locale.ROOT), b));
                    outcome(b, end, frame.table.label() + " " + frame.chain.name() + ": " + rule.text()
                            + (entry == null ? "" : " (" + String.join(" . ", entry.element().key()) + " : "
                            + verdict.text() + ")"));
                    return false;
                }
                default -> {
                    boolean isGoto = verdict.kind() == Statement.Verdict.Kind.GOTO;
                    String name = verdict.chain();
                    NftablesRuleset.Chain chain = frame.table.chains().get(name);
                    if (chain == null || chain.isBase()) {
                        return cannot(b, frame, rule, chain == null ? "chain " + name + " does not exist"
                                : name + " is a base chain");
                    }
                    if (frame.depth + 1 >= MAX_DEPTH) {
                        return cannot(b, frame, rule, "jumps nested " + MAX_DEPTH + " deep (a loop?)");
                    }
                    record(() -> step(frame, rule.text(), Step.Result.MATCH, prefix + (isGoto ? "go to " : "jump to ")
                            + name, b));
                    if (isGoto) {
                        Frame replaced = b.frames.pop();
                        b.frames.push(new Frame(frame.table, chain, replaced.depth, replaced.base));
                    } else {
                        b.frames.push(new Frame(frame.table, chain, frame.depth + 1, null));
                    }
                    return true;
                }
            }
        }

        private boolean natChain(Branch b) {
            return b.current != null && b.current.base.nat;
        }

        private boolean dnat(Branch b, Frame frame, NftablesRule rule, IPAddress to, int port, String how,
                             List<String> done) {
            if (!natChain(b)) {
                return cannot(b, frame, rule, "DNAT only works in a nat chain");
            }
            NftPacketState p = b.packet;
            if ((to.isIPv4() ? 4 : 6) != p.version) {
                return cannot(b, frame, rule, "DNAT to an address of the other IP family");
            }
            p.dnatTo(to, port);
            if (!packet.origin().arrives()) {
                p.outInterface = local.isLocal(to) ? "lo" : null;
            }
            String prefix = done == null || done.isEmpty() ? "" : String.join("; ", done) + "; ";
            record(() -> step(frame, rule.text(), Step.Result.MATCH, prefix + how + " to " + p.endpoint, b));
            b.natDone = b.current.hook();
            b.frames.clear();
            return true;
        }

        private boolean dnatMap(Branch b, Frame frame, NftablesRule rule, Statement.DnatMap map, List<String> done) {
            NftablesRuleset.Container container = container(frame.table, map.map(), map.inline());
            if (container == null) {
                return cannot(b, frame, rule, "there is no map @" + map.map());
            }
            LookupIndex index = statementIndexes.get(map);
            Choice take = (branch, entry, notes) -> {
                if (entry.target() == null) {
                    return cannot(branch, frame, rule, "the element's value " + String.join(" . ",
                            entry.element().value()) + " is not an address and port");
                }
                int port = entry.port() == 0 ? branch.packet.port() : entry.port();
                return dnat(branch, frame, rule, entry.target(), port, "DNAT", notes);
            };
            if (map.key().size() == 1 && map.key().get(0).kind() == Selector.Kind.NUMGEN) {
                Selector numgen = map.key().get(0);
                List<LookupIndex.Entry> choices = numgenChoices(index, numgen);
                if (choices == null) {
                    return false;
                }
                return branchOver(b, frame, rule, numgen, choices, done, take);
            }
            LookupIndex.Found found = index.find(b.packet, local);
            if (found.unknown() != null) {
                return cannot(b, frame, rule, found.unknown());
            }
            if (found.entry() == null) {
                record(() -> step(frame, rule.text(), Step.Result.NO_MATCH, keyText(map.key(), b.packet)
                        + " is not in the map: no DNAT", b));
                return true;
            }
            return take.take(b, found.entry(), done);
        }

        /**
         * A rule with a part the trace does not model: it does not match when a comparison before that part fails
         * (nothing else is run); otherwise it cannot be evaluated.
         */
        private boolean unsupported(Branch b, Frame frame, NftablesRule rule, Statement.Unsupported part) {
            for (Statement statement : rule.statements()) {
                if (statement == part) {
                    break;
                }
                if (statement instanceof Statement.Match match && affinityTarget(frame.table, match,
                        rule.statements()) == null) {
                    String[] why = new String[1];
                    if (test(frame.table, match, b.packet, why) == NftPacketState.Result.NO_MATCH) {
                        record(() -> step(frame, rule.text(), Step.Result.NO_MATCH, why[0], b));
                        return true;
                    }
                }
            }
            return cannot(b, frame, rule, part.why());
        }

        private boolean cannot(Branch b, Frame frame, NftablesRule rule, String why) {
            return cannot(b, frame, rule.text(), why);
        }

        private void note(List<String> done, Supplier<String> what) {
            if (done != null) {
                done.add(what.get());
            }
        }
    }

    /** The endpoint a chain DNATs to, when it has exactly one DNAT (an endpoint chain); null otherwise. */
    private String endpointOf(NftablesRuleset.Table table, String chainName) {
        NftablesRuleset.Chain chain = table.chains().get(chainName);
        if (chain == null) {
            return null;
        }
        String found = null;
        for (NftablesRule rule : chain.rules()) {
            for (Statement statement : rule.statements()) {
                if (statement instanceof Statement.Dnat dnat) {
                    if (found != null || dnat.port() == 0) {
                        return null;
                    }
                    if (dnat.target() == null) {
                        return null;
                    }
                    found = Packet.hostPort(IpAddresses.canonical(dnat.target()), dnat.port());
                }
            }
        }
        return found;
    }
}
