package dev.railyard.proxy.inspect.iptables;

import dev.railyard.proxy.inspect.Affinity;
import dev.railyard.proxy.inspect.LocalAddresses;
import dev.railyard.proxy.inspect.Outcome;
import dev.railyard.proxy.inspect.Packet;
import dev.railyard.proxy.inspect.PacketEvaluator;
import dev.railyard.proxy.inspect.Step;
import dev.railyard.proxy.inspect.Trace;
import dev.railyard.proxy.inspect.Verdict;
import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.IpFamily;
import inet.ipaddr.IPAddress;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Objects;

/**
 * Follows the first packet of a new connection through an iptables ruleset the way the kernel does.
 *
 * <p>Hooks, in order: a packet that arrives (from outside or from a pod) meets raw, mangle and nat PREROUTING;
 * then routing: to a local address (after DNAT) it meets mangle, filter, security and nat INPUT and is
 * delivered; otherwise mangle, filter and security FORWARD, then mangle and nat POSTROUTING, and leaves. A packet
 * the node sends meets raw, mangle and nat OUTPUT, is routed again, meets filter and security OUTPUT, mangle and
 * nat POSTROUTING; to a local address it then comes back over {@code lo} through raw and mangle PREROUTING and
 * mangle, filter and security INPUT (nat is not consulted again: the connection's NAT is already set up).
 * Tables the ruleset does not have are skipped.
 *
 * <p>In each chain every rule is tested in order; a rule matches when all its conditions do. Targets: jumps and
 * gotos (a chain's end returns to its caller; a base chain's end applies its policy), ACCEPT (ends this table's
 * chain for this hook), DROP and REJECT (end the trace), RETURN, DNAT and REDIRECT (rewrite the destination; end
 * nat for this hook), MASQUERADE and SNAT (rewrite the source), MARK, NOTRACK, and LOG-like targets that only
 * observe. {@code -m statistic --mode random} splits the trace: the branch that takes the rule is followed to its
 * end, then the one that does not, each with its probability, so endpoints come out with the product of the
 * choices down the cascade. {@code -m recent --rcheck} (ClientIP affinity) is assumed not to hold for the traced
 * client and is reported. Anything not modelled is reported on its rule as "cannot evaluate" and the rule is
 * treated as not matching.
 */
public final class IptablesEvaluator implements PacketEvaluator {
    /** iptables itself refuses chains nested deeper than this (XT_MAX_DEPTH is smaller); a loop stops here. */
    private static final int MAX_DEPTH = 100;
    /** A bound on the work of one trace, which only a ruleset built to explode could reach. */
    private static final int MAX_BRANCHES = 100_000;
    private static final long MAX_RULE_TESTS = 50_000_000L;

    /** Chains shorter than this are walked rule by rule even when only outcomes are wanted. */
    private static final int INDEX_MIN_RULES = 16;

    private final IptablesRuleset ruleset;
    private final LocalAddresses local;
    /** For long chains: which rules can match a destination (see {@link ChainIndex}); read-only once built. */
    private final Map<IptablesRuleset.Chain, ChainIndex> indexes = new IdentityHashMap<>();

    public IptablesEvaluator(IptablesRuleset ruleset, LocalAddresses local) {
        this.ruleset = Objects.requireNonNull(ruleset, "ruleset");
        this.local = Objects.requireNonNull(local, "local");
        for (String table : ruleset.tableNames()) {
            for (IptablesRuleset.Chain chain : ruleset.chains(table).values()) {
                if (chain.rules().size() >= INDEX_MIN_RULES) {
                    indexes.put(chain, ChainIndex.of(chain));
                }
            }
        }
    }

    /**
     * The rules of a chain that can match a given destination and port, in order: those that test exactly that
     * address with {@code -d}, those without a single {@code -d} address that test exactly that port with
     * {@code --dport}, and those that test neither. The others are certain not to match, so a trace that does not
     * record its path (a diff runs thousands) skips them: KUBE-SERVICES and KUBE-NODEPORTS chains of 10,000
     * services cost a hash lookup instead of 10,000 rule tests. Destination and port cannot change while a chain
     * runs (DNAT ends the chain), so the candidates are chosen once on entry.
     */
    private record ChainIndex(Map<String, int[]> byDestination, Map<Integer, int[]> byPort, int[] others) {
        private static final int[] NONE = new int[0];

        static ChainIndex of(IptablesRuleset.Chain chain) {
            Map<String, List<Integer>> byDestination = new HashMap<>();
            Map<Integer, List<Integer>> byPort = new HashMap<>();
            List<Integer> others = new ArrayList<>();
            for (int i = 0; i < chain.rules().size(); i++) {
                IptablesRule rule = chain.rules().get(i);
                String destination = singleDestination(rule);
                Integer port = destination == null ? singlePort(rule) : null;
                if (destination != null) {
                    byDestination.computeIfAbsent(destination, k -> new ArrayList<>()).add(i);
                } else if (port != null) {
                    byPort.computeIfAbsent(port, k -> new ArrayList<>()).add(i);
                } else {
                    others.add(i);
                }
            }
            return new ChainIndex(arrays(byDestination), arrays(byPort), ints(others));
        }

        private static String singleDestination(IptablesRule rule) {
            for (Condition condition : rule.conditions()) {
                if (condition instanceof Condition.Address address && !address.source() && !address.negated()) {
                    IPAddress cidr = address.cidr();
                    if (!cidr.isPrefixed() || cidr.getNetworkPrefixLength() == cidr.getBitCount()) {
                        return IpAddresses.canonical(cidr.withoutPrefixLength());
                    }
                }
            }
            return null;
        }

        private static Integer singlePort(IptablesRule rule) {
            for (Condition condition : rule.conditions()) {
                if (condition instanceof Condition.Ports ports && !ports.negated()
                        && ports.which() == Condition.Ports.Which.DESTINATION && ports.ranges().size() == 1
                        && ports.ranges().get(0)[0] == ports.ranges().get(0)[1]) {
                    return ports.ranges().get(0)[0];
                }
            }
            return null;
        }

        private static <K> Map<K, int[]> arrays(Map<K, List<Integer>> lists) {
            Map<K, int[]> arrays = new HashMap<>();
            lists.forEach((key, list) -> arrays.put(key, ints(list)));
            return arrays;
        }

        private static int[] ints(List<Integer> list) {
            return list.stream().mapToInt(Integer::intValue).toArray();
        }

        /** The merged, ordered rule numbers that can match {@code destination} and {@code port}. */
        int[] candidates(String destination, int port) {
            int[] a = byDestination.getOrDefault(destination, NONE);
            int[] b = byPort.getOrDefault(port, NONE);
            int[] merged = new int[a.length + b.length + others.length];
            int i = 0;
            int j = 0;
            int k = 0;
            for (int m = 0; m < merged.length; m++) {
                int next = Integer.MAX_VALUE;
                int from = -1;
                if (i < a.length && a[i] < next) {
                    next = a[i];
                    from = 0;
                }
                if (j < b.length && b[j] < next) {
                    next = b[j];
                    from = 1;
                }
                if (k < others.length && others[k] < next) {
                    next = others[k];
                    from = 2;
                }
                merged[m] = next;
                if (from == 0) {
                    i++;
                } else if (from == 1) {
                    j++;
                } else {
                    k++;
                }
            }
            return merged;
        }
    }

    public IptablesRuleset ruleset() {
        return ruleset;
    }

    public LocalAddresses localAddresses() {
        return local;
    }

    @Override
    public Trace trace(Packet packet, Detail detail) {
        return new Walk(packet, detail).run();
    }

    // ---------------------------------------------------------------------------------------------------------

    /** One stop on a packet's way through the node. */
    private sealed interface Stop {
    }

    private record Hook(String table, String chain) implements Stop {
    }

    /** After PREROUTING: local delivery or forwarding. */
    private record RouteArriving() implements Stop {
    }

    /** After nat OUTPUT: the node's packet is routed again (DNAT may have changed where it goes). */
    private record RouteSent() implements Stop {
    }

    /** The end of the way: delivered to a local socket, forwarded out, or sent out by the node. */
    private record Leave(String how) implements Stop {
    }

    private static List<Stop> arriving() {
        return List.of(new Hook("raw", "PREROUTING"), new Hook("mangle", "PREROUTING"), new Hook("nat", "PREROUTING"),
                new RouteArriving());
    }

    private static List<Stop> localInput(String how) {
        return List.of(new Hook("mangle", "INPUT"), new Hook("filter", "INPUT"), new Hook("security", "INPUT"),
                new Hook("nat", "INPUT"), new Leave(how));
    }

    private static List<Stop> forwarding() {
        return List.of(new Hook("mangle", "FORWARD"), new Hook("filter", "FORWARD"), new Hook("security", "FORWARD"),
                new Hook("mangle", "POSTROUTING"), new Hook("nat", "POSTROUTING"), new Leave("forwarded"));
    }

    private static List<Stop> sending() {
        return List.of(new Hook("raw", "OUTPUT"), new Hook("mangle", "OUTPUT"), new Hook("nat", "OUTPUT"),
                new RouteSent());
    }

    private static List<Stop> sentOn(boolean toLocal) {
        List<Stop> stops = new ArrayList<>(List.of(new Hook("filter", "OUTPUT"), new Hook("security", "OUTPUT"),
                new Hook("mangle", "POSTROUTING"), new Hook("nat", "POSTROUTING")));
        if (toLocal) {
            // Back in over lo. NAT was settled in OUTPUT and POSTROUTING, so nat PREROUTING/INPUT are not run.
            stops.addAll(List.of(new Hook("raw", "PREROUTING"), new Hook("mangle", "PREROUTING"),
                    new Hook("mangle", "INPUT"), new Hook("filter", "INPUT"), new Hook("security", "INPUT"),
                    new Leave("delivered to a local socket over lo")));
        } else {
            stops.add(new Leave("sent out by the node"));
        }
        return stops;
    }

    /**
     * A chain being run: where it is, how deep, the policy that applies if it ends (base chains), and, when
     * skipping rules that cannot match, the rule numbers still to consider.
     */
    private static final class Frame {
        final String table;
        final IptablesRuleset.Chain chain;
        final int depth;
        final String policy;
        /** Null: every rule, in order. */
        final int[] order;
        int next;

        Frame(String table, IptablesRuleset.Chain chain, int depth, String policy, int[] order) {
            this.table = table;
            this.chain = chain;
            this.depth = depth;
            this.policy = policy;
            this.order = order;
        }

        boolean done() {
            return next >= (order == null ? chain.rules().size() : order.length);
        }

        IptablesRule nextRule() {
            int position = next++;
            return chain.rules().get(order == null ? position : order[position]);
        }

        Frame copy() {
            Frame copy = new Frame(table, chain, depth, policy, order);
            copy.next = next;
            return copy;
        }
    }

    /** One branch of a trace: the packet, where it is, and the share of packets that go this way. */
    private static final class Branch {
        final PacketState packet;
        final ArrayDeque<Stop> stops;
        final ArrayDeque<Frame> frames;
        double reach;
        /** Rules met on this branch's way that could not be evaluated. */
        int unevaluated;
        /** The step to record when this branch (the not-taken side of a random choice) resumes. */
        java.util.function.Supplier<Step> resumeStep;

        Branch(PacketState packet, List<Stop> stops, double reach) {
            this.packet = packet;
            this.stops = new ArrayDeque<>(stops);
            this.frames = new ArrayDeque<>();
            this.reach = reach;
        }

        private Branch(Branch other) {
            this.packet = other.packet.copy();
            this.stops = new ArrayDeque<>(other.stops);
            this.frames = new ArrayDeque<>();
            // ArrayDeque iterates from the top; rebuild in the same order.
            other.frames.descendingIterator().forEachRemaining(f -> this.frames.push(f.copy()));
            this.reach = other.reach;
            this.unevaluated = other.unevaluated;
        }

        Branch copy() {
            return new Branch(this);
        }
    }

    /** One trace being run. */
    private final class Walk {
        private final Packet packet;
        private final boolean recordPath;
        private final IpFamily family;
        private final List<Step> path = new ArrayList<>();
        private final List<Outcome> outcomes = new ArrayList<>();
        private final List<String> notes = new ArrayList<>(ruleset.notes());
        private final Deque<Branch> pending = new ArrayDeque<>();
        private long ruleTests;
        private int branches = 1;
        private boolean stopped;

        Walk(Packet packet, Detail detail) {
            this.packet = packet;
            this.recordPath = detail == Detail.PATH;
            this.family = packet.family();
        }

        Trace run() {
            IPAddress source = IpAddresses.parse(packet.source());
            IPAddress destination = IpAddresses.parse(packet.destination());
            PacketState state = new PacketState(source, packet.sourcePort(), destination, packet.port(),
                    packet.protocol(), packet.origin().arrives() ? packet.inInterface() : null);
            if (!packet.origin().arrives()) {
                state.outInterface = local.isLocal(destination) ? "lo" : null;
            }
            pending.push(new Branch(state, packet.origin().arrives() ? arriving() : sending(), 1.0));
            while (!pending.isEmpty() && !stopped) {
                Branch branch = pending.pop();
                if (branch.resumeStep != null) {
                    record(branch.resumeStep);
                }
                runBranch(branch);
            }
            if (stopped) {
                notes.add("the trace stopped after " + branches + " branches and " + ruleTests
                        + " rule tests; the outcomes listed are incomplete");
            }
            return new Trace(packet, path, outcomes, notes);
        }

        private void runBranch(Branch b) {
            while (true) {
                if (b.frames.isEmpty()) {
                    Stop stop = b.stops.poll();
                    if (stop == null) {
                        throw new IllegalStateException("a trace branch ran out of stops");
                    }
                    if (stop instanceof Leave leave) {
                        leave(b, leave.how());
                        return;
                    }
                    if (stop instanceof RouteArriving) {
                        routeArriving(b);
                        continue;
                    }
                    if (stop instanceof RouteSent) {
                        routeSent(b);
                        continue;
                    }
                    Hook hook = (Hook) stop;
                    if (hook.table().equals("nat") && b.packet.untracked) {
                        continue; // no conntrack entry, no NAT
                    }
                    IptablesRuleset.Chain chain = ruleset.chain(hook.table(), hook.chain());
                    if (chain != null) {
                        b.frames.push(new Frame(hook.table(), chain, 0, chain.policy() == null ? "ACCEPT"
                                : chain.policy(), order(chain, b.packet)));
                    }
                    continue;
                }
                Frame frame = b.frames.peek();
                if (frame.done()) {
                    b.frames.pop();
                    if (frame.policy != null && !applyPolicy(b, frame)) {
                        return;
                    }
                    continue;
                }
                IptablesRule rule = frame.nextRule();
                if (++ruleTests > MAX_RULE_TESTS) {
                    stopped = true;
                    return;
                }
                if (!apply(b, frame, rule)) {
                    return;
                }
            }
        }

        /** Applies a base chain's policy; false when it ends the trace (DROP). */
        private boolean applyPolicy(Branch b, Frame frame) {
            boolean drop = frame.policy.equals("DROP");
            if (drop || !frame.chain.rules().isEmpty()) {
                record(() -> step(frame, ":" + frame.chain.name() + " " + frame.policy, Step.Result.POLICY, "end of base chain "
                        + frame.chain.name() + ": its policy " + frame.policy + " applies", b));
            }
            if (drop) {
                outcome(b, Verdict.DROP, frame.table + " " + frame.chain.name() + " policy DROP");
                return false;
            }
            b.frames.clear();
            return true;
        }

        /** Tests one rule and applies its target; false when the branch ended. */
        private boolean apply(Branch b, Frame frame, IptablesRule rule) {
            PacketState p = b.packet;
            Check unknown = null;
            List<String> matchNotes = new ArrayList<>();
            double probability = 1;
            Condition.Recent affinityCheck = null;
            for (Condition condition : rule.conditions()) {
                if (condition instanceof Condition.Random random) {
                    probability *= random.probability();
                    continue;
                }
                if (condition instanceof Condition.Recent recent && recent.mode() != Condition.Recent.Mode.SET) {
                    affinityCheck = recent;
                    continue;
                }
                Check check = condition.test(p, local);
                if (check.kind() == Check.Kind.NO_MATCH) {
                    record(() -> step(frame, rule.text(), Step.Result.NO_MATCH, check.why(), b));
                    return true;
                }
                if (check.kind() == Check.Kind.UNKNOWN) {
                    if (unknown == null) {
                        unknown = check;
                    }
                } else if (recordPath) {
                    String why = check.why();
                    if (!why.isEmpty()) {
                        matchNotes.add(why);
                    }
                }
            }
            if (unknown != null) {
                b.unevaluated++;
                Check cannot = unknown;
                record(() -> step(frame, rule.text(), Step.Result.CANNOT_EVALUATE, "cannot evaluate: " + cannot.why()
                        + "; treated as not matching", b));
                return true;
            }
            if (affinityCheck != null) {
                Condition.Recent recent = affinityCheck;
                String target = rule.target() instanceof Target.Jump jump ? jump.chain()
                        : rule.target() instanceof Target.Goto jump ? jump.chain() : null;
                String endpoint = target == null ? null : endpointOf(frame.table, target);
                if (affinityCheck.mode() == Condition.Recent.Mode.CHECK && !affinityCheck.negated()) {
                    Affinity affinity = new Affinity(affinityCheck.name(), affinityCheck.seconds(), target, endpoint);
                    if (!p.affinity.contains(affinity)) {
                        p.affinity.add(affinity);
                    }
                    record(() -> step(frame, rule.text(), Step.Result.NO_MATCH, "session affinity: assuming this client has "
                            + "no entry in " + recent.name() + " (a client seen within "
                            + recent.seconds() + " s would go to " + (target == null ? "this rule's target"
                            : target) + (endpoint == null ? "" : ", " + endpoint) + ")", b));
                    return true;
                }
                Check check = affinityCheck.test(p, local);
                if (check.kind() != Check.Kind.MATCH) {
                    record(() -> step(frame, rule.text(), Step.Result.NO_MATCH, check.why(), b));
                    return true;
                }
                matchNotes.add(check.why());
            }
            if (probability <= 0) {
                record(() -> step(frame, rule.text(), Step.Result.NO_MATCH, "random choice with probability 0", b));
                return true;
            }
            if (probability < 1) {
                if (++branches > MAX_BRANCHES) {
                    stopped = true;
                    return false;
                }
                Branch other = b.copy();
                other.reach = b.reach * (1 - probability);
                double notTaken = 1 - probability;
                other.resumeStep = () -> step(frame, rule.text(), Step.Result.NO_MATCH, "random choice not taken ("
                        + percent(notTaken) + " of the packets that get here)", other);
                pending.push(other);
                b.reach *= probability;
                if (recordPath) {
                    matchNotes.add(0, "random choice taken (" + percent(probability) + " of the packets that get here)");
                }
            }
            return applyTarget(b, frame, rule, matchNotes);
        }

        private boolean applyTarget(Branch b, Frame frame, IptablesRule rule, List<String> matchNotes) {
            PacketState p = b.packet;
            Target target = rule.target();
            String prefix = matchNotes.isEmpty() ? "" : String.join("; ", matchNotes) + "; ";
            if (target instanceof Target.None) {
                record(() -> step(frame, rule.text(), Step.Result.MATCH, prefix + "no target: only counts", b));
                return true;
            }
            if (target instanceof Target.Jump || target instanceof Target.Goto) {
                boolean isGoto = target instanceof Target.Goto;
                String name = isGoto ? ((Target.Goto) target).chain() : ((Target.Jump) target).chain();
                IptablesRuleset.Chain chain = ruleset.chain(frame.table, name);
                if (chain == null || chain.builtIn()) {
                    b.unevaluated++;
                    record(() -> step(frame, rule.text(), Step.Result.CANNOT_EVALUATE, "cannot evaluate: "
                            + (chain == null ? "chain " + name + " does not exist" : name + " is a base chain")
                            + "; treated as not matching", b));
                    return true;
                }
                if (frame.depth + 1 >= MAX_DEPTH) {
                    b.unevaluated++;
                    record(() -> step(frame, rule.text(), Step.Result.CANNOT_EVALUATE, "cannot evaluate: jumps nested "
                            + MAX_DEPTH + " deep (a loop?); treated as not matching", b));
                    return true;
                }
                record(() -> step(frame, rule.text(), Step.Result.MATCH, prefix + (isGoto ? "go to " : "jump to ") + name, b));
                if (isGoto) {
                    Frame replaced = b.frames.pop();
                    b.frames.push(new Frame(frame.table, chain, replaced.depth, replaced.policy, order(chain, p)));
                } else {
                    b.frames.push(new Frame(frame.table, chain, frame.depth + 1, null, order(chain, p)));
                }
                return true;
            }
            if (target instanceof Target.Verdict verdict) {
                switch (verdict.kind()) {
                    case ACCEPT -> {
                        record(() -> step(frame, rule.text(), Step.Result.MATCH, prefix + "ACCEPT: done with "
                                + frame.table + " " + baseChain(b), b));
                        b.frames.clear();
                        return true;
                    }
                    case RETURN -> {
                        record(() -> step(frame, rule.text(), Step.Result.MATCH, prefix + "RETURN", b));
                        Frame returned = b.frames.pop();
                        return returned.policy == null || applyPolicy(b, returned);
                    }
                    default -> {
                        Verdict end = verdict.kind() == Target.Verdict.Kind.DROP ? Verdict.DROP : Verdict.REJECT;
                        record(() -> step(frame, rule.text(), Step.Result.MATCH, prefix + end, b));
                        outcome(b, end, frame.table + " " + frame.chain.name() + ": " + rule.text());
                        return false;
                    }
                }
            }
            if (target instanceof Target.Dnat || target instanceof Target.Redirect) {
                if (!frame.table.equals("nat")) {
                    return cannot(b, frame, rule, "DNAT and REDIRECT only work in the nat table");
                }
                String address;
                int port;
                String how;
                if (target instanceof Target.Dnat dnat) {
                    address = dnat.address();
                    port = dnat.port() == 0 ? p.port : dnat.port();
                    how = "DNAT";
                } else {
                    Target.Redirect redirect = (Target.Redirect) target;
                    address = packet.origin().arrives() ? local.primary(family) : loopback();
                    port = redirect.port() == 0 ? p.port : redirect.port();
                    how = "REDIRECT (to " + (packet.origin().arrives() ? "the incoming interface's address, taken as "
                            + "the node's primary" : "loopback") + ")";
                }
                IPAddress to = IpAddresses.parse(address);
                if (to.getIPVersion() != p.destination.getIPVersion()) {
                    return cannot(b, frame, rule, "DNAT to an address of the other IP family");
                }
                p.destination = to;
                p.port = port;
                p.dnatted = true;
                p.endpoint = Packet.hostPort(IpAddresses.canonical(to), port);
                record(() -> step(frame, rule.text(), Step.Result.MATCH, prefix + how + " to " + p.endpoint, b));
                b.frames.clear();
                return true;
            }
            if (target instanceof Target.SourceNat snat) {
                if (!frame.table.equals("nat")) {
                    return cannot(b, frame, rule, snat.name() + " only works in the nat table");
                }
                p.masqueraded = true;
                record(() -> step(frame, rule.text(), Step.Result.MATCH, prefix + snat.name() + ": the source becomes the "
                        + "node's address", b));
                b.frames.clear();
                return true;
            }
            if (target instanceof Target.SetMark mark) {
                p.mark = mark.apply(p.mark);
                record(() -> step(frame, rule.text(), Step.Result.MATCH, prefix + "mark is now 0x"
                        + Long.toHexString(p.mark), b));
                return true;
            }
            if (target instanceof Target.NoTrack) {
                p.untracked = true;
                record(() -> step(frame, rule.text(), Step.Result.MATCH, prefix + "not tracked: no NAT for this packet", b));
                return true;
            }
            if (target instanceof Target.Observe observe) {
                record(() -> step(frame, rule.text(), Step.Result.MATCH, prefix + observe.name()
                        + " does not change where the packet goes; the chain continues", b));
                return true;
            }
            if (target instanceof Target.Unsupported unsupported) {
                return cannot(b, frame, rule, unsupported.why());
            }
            return cannot(b, frame, rule, "target " + target + " is not modelled");
        }

        private boolean cannot(Branch b, Frame frame, IptablesRule rule, String why) {
            b.unevaluated++;
            record(() -> step(frame, rule.text(), Step.Result.CANNOT_EVALUATE, "cannot evaluate: " + why
                    + "; treated as not matching", b));
            return true;
        }

        private void routeArriving(Branch b) {
            PacketState p = b.packet;
            boolean toLocal = local.isLocal(p.destination);
            String why = p.destinationText() + (toLocal ? " is a local address: delivered (INPUT)"
                    : " is not a local address: forwarded (FORWARD)");
            record(() -> new Step("", "routing", "route " + p.destinationText(), Step.Result.ROUTE, why, 0, b.reach));
            b.stops.clear();
            if (toLocal) {
                p.outInterface = null;
                b.stops.addAll(localInput("delivered to a local socket"));
            } else {
                b.stops.addAll(forwarding());
            }
        }

        private void routeSent(Branch b) {
            PacketState p = b.packet;
            boolean toLocal = local.isLocal(p.destination);
            p.outInterface = toLocal ? "lo" : null;
            record(() -> new Step("", "routing", "route " + p.destinationText(), Step.Result.ROUTE, p.destinationText()
                    + (toLocal ? " is a local address: out and back in over lo" : " is not a local address: sent out"),
                    0, b.reach));
            b.stops.clear();
            b.stops.addAll(sentOn(toLocal));
            if (toLocal) {
                p.inInterface = "lo";
            }
        }

        private void leave(Branch b, String how) {
            outcome(b, b.packet.endpoint != null ? Verdict.DNAT : Verdict.ACCEPT, how);
        }

        private void outcome(Branch b, Verdict verdict, String decidedBy) {
            boolean passes = verdict == Verdict.DNAT || verdict == Verdict.ACCEPT;
            Outcome outcome = new Outcome(b.reach, verdict, verdict == Verdict.DNAT ? b.packet.endpoint : null,
                    passes && b.packet.masqueraded, decidedBy, b.packet.affinity, b.unevaluated);
            outcomes.add(outcome);
            record(() -> new Step("", "end", verdict + (outcome.endpoint() != null ? " to " + outcome.endpoint() : "")
                    + (passes ? (outcome.masquerade() ? ", masqueraded" : ", source kept") : ""), Step.Result.END,
                    decidedBy, 0, b.reach));
        }

        /** The rules to consider in {@code chain}: all of them when recording the path, else the candidates. */
        private int[] order(IptablesRuleset.Chain chain, PacketState packet) {
            if (recordPath) {
                return null;
            }
            ChainIndex index = indexes.get(chain);
            return index == null ? null : index.candidates(packet.destinationText(), packet.port);
        }

        private String baseChain(Branch b) {
            Frame bottom = b.frames.peekLast();
            return bottom == null ? "" : bottom.chain.name();
        }

        private String loopback() {
            return family == IpFamily.V4 ? "127.0.0.1" : "::1";
        }

        private Step step(Frame frame, String rule, Step.Result result, String why, Branch b) {
            return new Step(frame.table, frame.chain.name(), rule, result, why, frame.depth, b.reach);
        }

        /** Builds and keeps the step when the path is recorded; otherwise nothing is put into words. */
        private void record(java.util.function.Supplier<Step> step) {
            if (recordPath) {
                path.add(step.get());
            }
        }
    }

    /** The endpoint a chain DNATs to, when it has exactly one DNAT rule (a KUBE-SEP chain); null otherwise. */
    private String endpointOf(String table, String chainName) {
        IptablesRuleset.Chain chain = ruleset.chain(table, chainName);
        if (chain == null) {
            return null;
        }
        String found = null;
        for (IptablesRule rule : chain.rules()) {
            if (rule.target() instanceof Target.Dnat dnat) {
                if (found != null) {
                    return null;
                }
                found = dnat.port() == 0 ? dnat.address() : Packet.hostPort(dnat.address(), dnat.port());
            }
        }
        return found;
    }

    /** "33.3%", "50%", "0.01%". */
    static String percent(double share) {
        double value = share * 100;
        if (Math.abs(value - Math.rint(value)) < 1e-6) {
            return String.format(Locale.ROOT, "%.0f%%", value);
        }
        return String.format(Locale.ROOT, value >= 1 ? "%.1f%%" : "%.3g%%", value);
    }
}
