package dev.railyard.proxy.inspect.iptables;

import dev.railyard.proxy.inspect.Affinity;
import dev.railyard.proxy.inspect.LocalAddresses;
import dev.railyard.proxy.inspect.Packet;
import dev.railyard.proxy.inspect.PacketEvaluator;
import dev.railyard.proxy.inspect.PacketState;
import dev.railyard.proxy.inspect.Step;
import dev.railyard.proxy.inspect.Trace;
import dev.railyard.proxy.inspect.TraceBranch;
import dev.railyard.proxy.inspect.TraceFrame;
import dev.railyard.proxy.inspect.TraceStop;
import dev.railyard.proxy.inspect.TraceWalk;
import dev.railyard.proxy.inspect.Verdict;
import dev.railyard.proxy.model.IpAddresses;
import inet.ipaddr.IPAddress;

import java.util.ArrayList;
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

    @Override
    public Trace trace(Packet packet, Detail detail) {
        return new Walk(packet, detail).run();
    }

    // ---------------------------------------------------------------------------------------------------------

    /** A table's chain at a hook; skipped when the ruleset does not have it. */
    private record Hook(String table, String chain) implements TraceStop {
    }

    private static List<TraceStop> arriving() {
        return List.of(new Hook("raw", "PREROUTING"), new Hook("mangle", "PREROUTING"), new Hook("nat", "PREROUTING"),
                new TraceStop.RouteArriving());
    }

    private static List<TraceStop> localInput(String how) {
        return List.of(new Hook("mangle", "INPUT"), new Hook("filter", "INPUT"), new Hook("security", "INPUT"),
                new Hook("nat", "INPUT"), new TraceStop.Leave(how));
    }

    private static List<TraceStop> forwarding() {
        return List.of(new Hook("mangle", "FORWARD"), new Hook("filter", "FORWARD"), new Hook("security", "FORWARD"),
                new Hook("mangle", "POSTROUTING"), new Hook("nat", "POSTROUTING"), new TraceStop.Leave("forwarded"));
    }

    private static List<TraceStop> sending() {
        return List.of(new Hook("raw", "OUTPUT"), new Hook("mangle", "OUTPUT"), new Hook("nat", "OUTPUT"),
                new TraceStop.RouteSent());
    }

    private static List<TraceStop> sentOn(boolean toLocal) {
        List<TraceStop> stops = new ArrayList<>(List.of(new Hook("filter", "OUTPUT"), new Hook("security", "OUTPUT"),
                new Hook("mangle", "POSTROUTING"), new Hook("nat", "POSTROUTING")));
        if (toLocal) {
            // Back in over lo. NAT was settled in OUTPUT and POSTROUTING, so nat PREROUTING/INPUT are not run.
            stops.addAll(List.of(new Hook("raw", "PREROUTING"), new Hook("mangle", "PREROUTING"),
                    new Hook("mangle", "INPUT"), new Hook("filter", "INPUT"), new Hook("security", "INPUT"),
                    new TraceStop.Leave("delivered to a local socket over lo")));
        } else {
            stops.add(new TraceStop.Leave("sent out by the node"));
        }
        return stops;
    }

    /**
     * A chain being run: where it is, how deep, the policy that applies if it ends (base chains), and, when
     * skipping rules that cannot match, the rule numbers still to consider.
     */
    private static final class Frame implements TraceFrame<Frame> {
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

        @Override
        public boolean done() {
            return next >= (order == null ? chain.rules().size() : order.length);
        }

        IptablesRule nextRule() {
            int position = next++;
            return chain.rules().get(order == null ? position : order[position]);
        }

        @Override
        public Policy policy() {
            return policy == null ? null : new Policy(":" + chain.name() + " " + policy, chain.name(), policy,
                    policy.equals("DROP"), !chain.rules().isEmpty(), table);
        }

        @Override
        public Step step(String rule, Step.Result result, String why, double reach) {
            return new Step(table, chain.name(), rule, result, why, depth, reach);
        }

        @Override
        public Frame copy() {
            Frame copy = new Frame(table, chain, depth, policy, order);
            copy.next = next;
            return copy;
        }
    }

    private static final class Branch extends TraceBranch<PacketState, Frame> {
        Branch(PacketState packet, List<TraceStop> stops) {
            super(packet, stops);
        }

        private Branch(Branch other) {
            super(other, other.packet.copy());
        }

        Branch copy() {
            return new Branch(this);
        }
    }

    /** One trace being run. */
    private final class Walk extends TraceWalk<Branch, Frame> {
        Walk(Packet packet, Detail detail) {
            super(packet, detail, IptablesEvaluator.this.local, ruleset.notes());
        }

        @Override
        protected Branch start() {
            return new Branch(new PacketState(packet, local), packet.origin().arrives() ? arriving() : sending());
        }

        @Override
        protected void enter(Branch b, TraceStop stop) {
            Hook hook = (Hook) stop;
            if (hook.table().equals("nat") && b.packet.untracked) {
                return; // no conntrack entry, no NAT
            }
            IptablesRuleset.Chain chain = ruleset.chain(hook.table(), hook.chain());
            if (chain != null) {
                b.frames.push(new Frame(hook.table(), chain, 0, chain.policy() == null ? "ACCEPT"
                        : chain.policy(), order(chain, b.packet)));
            }
        }

        @Override
        protected List<TraceStop> routed(boolean arrived, boolean toLocal) {
            if (!arrived) {
                return sentOn(toLocal);
            }
            return toLocal ? localInput("delivered to a local socket") : forwarding();
        }

        @Override
        protected String hookLabel(String hook) {
            return hook.toUpperCase(Locale.ROOT);
        }

        @Override
        protected boolean applyNext(Branch b, Frame frame) {
            return apply(b, frame, frame.nextRule());
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
                return cannot(b, frame, rule, unknown.why());
            }
            if (affinityCheck != null) {
                Condition.Recent recent = affinityCheck;
                String target = rule.target() instanceof Target.Jump jump ? jump.chain()
                        : rule.target() instanceof Target.Goto jump ? jump.chain() : null;
                String endpoint = target == null ? null : endpointOf(frame.table, target);
                if (affinityCheck.mode() == Condition.Recent.Mode.CHECK && !affinityCheck.negated()) {
                    Affinity affinity = new Affinity(affinityCheck.name(), affinityCheck.seconds(), target, endpoint);
                    p.meetAffinity(affinity);
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
                if (!split(1)) {
                    return false;
                }
                Branch other = b.copy();
                other.reach = b.reach * (1 - probability);
                double notTaken = 1 - probability;
                other.resume = () -> {
                    record(() -> step(frame, rule.text(), Step.Result.NO_MATCH, "random choice not taken ("
                            + percent(notTaken) + " of the packets that get here)", other));
                    return true;
                };
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
                    return cannot(b, frame, rule, chain == null ? "chain " + name + " does not exist"
                            : name + " is a base chain");
                }
                if (frame.depth + 1 >= MAX_DEPTH) {
                    return cannot(b, frame, rule, "jumps nested " + MAX_DEPTH + " deep (a loop?)");
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
                    port = dnat.port() == 0 ? p.port() : dnat.port();
                    how = "DNAT";
                } else {
                    Target.Redirect redirect = (Target.Redirect) target;
                    address = packet.origin().arrives() ? local.primary(family) : loopback();
                    port = redirect.port() == 0 ? p.port() : redirect.port();
                    how = "REDIRECT (to " + (packet.origin().arrives() ? "the incoming interface's address, taken as "
                            + "the node's primary" : "loopback") + ")";
                }
                IPAddress to = IpAddresses.parse(address);
                if (to.getIPVersion() != p.destination().getIPVersion()) {
                    return cannot(b, frame, rule, "DNAT to an address of the other IP family");
                }
                p.dnatTo(to, port);
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
            return cannot(b, frame, rule.text(), why);
        }

        /** The rules to consider in {@code chain}: all of them when recording the path, else the candidates. */
        private int[] order(IptablesRuleset.Chain chain, PacketState packet) {
            if (recordPath) {
                return null;
            }
            ChainIndex index = indexes.get(chain);
            return index == null ? null : index.candidates(packet.destinationText(), packet.port());
        }

        private String baseChain(Branch b) {
            Frame bottom = b.frames.peekLast();
            return bottom == null ? "" : bottom.chain.name();
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
}
