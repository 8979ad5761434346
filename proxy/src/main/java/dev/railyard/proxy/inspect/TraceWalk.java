package dev.railyard.proxy.inspect;

import dev.railyard.proxy.model.IpFamily;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * One trace being run, with what every evaluator does the same way: following each branch from stop to stop and
 * rule to rule, splitting at random choices (the side not taken waits and runs after the taken one has ended),
 * routing between hooks, a base chain's policy, the outcome where a branch ends, the steps put into words only
 * when the path is recorded, and the bounds on the work. Each evaluator says what its hooks run and what a rule
 * does.
 *
 * @param <B> the evaluator's branch
 * @param <F> the evaluator's chain frame
 */
public abstract class TraceWalk<B extends TraceBranch<?, F>, F extends TraceFrame<F>> {
    /** A bound on the work of one trace, which only a ruleset built to explode could reach. */
    protected static final int MAX_BRANCHES = 100_000;
    private static final long MAX_RULE_TESTS = 50_000_000L;

    protected final Packet packet;
    protected final LocalAddresses local;
    protected final IpFamily family;
    /**
     * Whether steps are put into words: a diff runs thousands of traces and reads only their outcomes, so
     * evaluators may also skip rules that cannot match when it is false.
     */
    protected final boolean recordPath;
    /** Branches waiting to run, the next on top. */
    protected final Deque<B> pending = new ArrayDeque<>();
    /** The work bound was reached: no more branches run. */
    protected boolean stopped;
    private int branches = 1;
    private long ruleTests;
    private final List<Step> path = new ArrayList<>();
    private final List<Outcome> outcomes = new ArrayList<>();
    private final List<String> notes;

    protected TraceWalk(Packet packet, PacketEvaluator.Detail detail, LocalAddresses local,
                        List<String> rulesetNotes) {
        this.packet = Objects.requireNonNull(packet, "packet");
        this.local = Objects.requireNonNull(local, "local");
        this.recordPath = detail == PacketEvaluator.Detail.PATH;
        this.family = packet.family();
        this.notes = new ArrayList<>(rulesetNotes);
    }

    /** The branch every packet starts on, at the first hook of its way. */
    protected abstract B start();

    /** Runs one of the evaluator's own stops (a hook): queues its chains as frames or stops. */
    protected abstract void enter(B b, TraceStop stop);

    /** Runs the next rule of {@code frame}; false when that ended the branch. */
    protected abstract boolean applyNext(B b, F frame);

    /**
     * The stops after routing: for a packet that arrived, local delivery ({@code toLocal}) or forwarding; for
     * one the node sends, out and back in over lo ({@code toLocal}) or out.
     */
    protected abstract List<TraceStop> routed(boolean arrived, boolean toLocal);

    /** A hook's name as the ruleset writes it ("input" -> "INPUT" for iptables), for routing steps. */
    protected abstract String hookLabel(String hook);

    public final Trace run() {
        pending.push(start());
        while (!pending.isEmpty() && !stopped) {
            B branch = pending.pop();
            if (branch.resume != null) {
                var resume = branch.resume;
                branch.resume = null;
                if (!resume.getAsBoolean()) {
                    continue;
                }
            }
            runBranch(branch);
        }
        if (stopped) {
            notes.add("the trace stopped after " + branches + " branches and " + ruleTests
                    + " rule tests; the outcomes listed are incomplete");
        }
        return new Trace(packet, path, outcomes, notes);
    }

    private void runBranch(B b) {
        while (true) {
            if (b.frames.isEmpty()) {
                TraceStop stop = b.stops.poll();
                if (stop == null) {
                    throw new IllegalStateException("a trace branch ran out of stops");
                }
                if (stop instanceof TraceStop.Leave leave) {
                    outcome(b, b.packet.endpoint != null ? Verdict.DNAT : Verdict.ACCEPT, leave.how());
                    return;
                }
                if (stop instanceof TraceStop.RouteArriving) {
                    routeArriving(b);
                } else if (stop instanceof TraceStop.RouteSent) {
                    routeSent(b);
                } else {
                    enter(b, stop);
                }
                continue;
            }
            F frame = b.frames.peek();
            if (frame.done()) {
                b.frames.pop();
                if (frame.policy() != null && !applyPolicy(b, frame)) {
                    return;
                }
                continue;
            }
            if (++ruleTests > MAX_RULE_TESTS) {
                stopped = true;
                return;
            }
            if (!applyNext(b, frame)) {
                return;
            }
        }
    }

    /**
     * Counts {@code more} branches a random choice adds; false, and the trace stopped, when that is beyond the
     * bound.
     */
    protected boolean split(int more) {
        branches += more;
        if (branches > MAX_BRANCHES) {
            stopped = true;
            return false;
        }
        return true;
    }

    /** Applies a base chain's policy; false when it ends the trace (a drop). */
    protected boolean applyPolicy(B b, F frame) {
        TraceFrame.Policy policy = frame.policy();
        if (policy.drop() || policy.hasRules()) {
            record(() -> step(frame, policy.rule(), Step.Result.POLICY, "end of base chain " + policy.chain()
                    + ": its policy " + policy.verdict() + " applies", b));
        }
        if (policy.drop()) {
            outcome(b, Verdict.DROP, policy.table() + " " + policy.chain() + " policy " + policy.verdict());
            return false;
        }
        b.frames.clear();
        return true;
    }

    /** A rule (or part of one) that is not modelled: counted, reported, and treated as not matching. */
    protected boolean cannot(B b, F frame, String rule, String why) {
        b.unevaluated++;
        record(() -> step(frame, rule, Step.Result.CANNOT_EVALUATE, "cannot evaluate: " + why
                + "; treated as not matching", b));
        return true;
    }

    private void routeArriving(B b) {
        PacketState p = b.packet;
        boolean toLocal = local.isLocal(p.destination());
        String why = p.destinationText() + (toLocal ? " is a local address: delivered (" + hookLabel("input") + ")"
                : " is not a local address: forwarded (" + hookLabel("forward") + ")");
        record(() -> new Step("", "routing", "route " + p.destinationText(), Step.Result.ROUTE, why, 0, b.reach));
        b.stops.clear();
        if (toLocal) {
            p.outInterface = null;
        }
        b.stops.addAll(routed(true, toLocal));
    }

    private void routeSent(B b) {
        PacketState p = b.packet;
        boolean toLocal = local.isLocal(p.destination());
        p.outInterface = toLocal ? "lo" : null;
        record(() -> new Step("", "routing", "route " + p.destinationText(), Step.Result.ROUTE, p.destinationText()
                + (toLocal ? " is a local address: out and back in over lo" : " is not a local address: sent out"),
                0, b.reach));
        b.stops.clear();
        b.stops.addAll(routed(false, toLocal));
        if (toLocal) {
            p.inInterface = "lo";
        }
    }

    /** Where a branch ends: its share of packets with the verdict, and the step that says so. */
    protected void outcome(B b, Verdict verdict, String decidedBy) {
        boolean passes = verdict == Verdict.DNAT || verdict == Verdict.ACCEPT;
        Outcome outcome = new Outcome(b.reach, verdict, verdict == Verdict.DNAT ? b.packet.endpoint : null,
                passes && b.packet.masqueraded, decidedBy, b.packet.affinity(), b.unevaluated);
        outcomes.add(outcome);
        record(() -> new Step("", "end", verdict + (outcome.endpoint() != null ? " to " + outcome.endpoint() : "")
                + (passes ? (outcome.masquerade() ? ", masqueraded" : ", source kept") : ""), Step.Result.END,
                decidedBy, 0, b.reach));
    }

    /** The loopback address of the packet's family. */
    protected String loopback() {
        return family == IpFamily.V4 ? "127.0.0.1" : "::1";
    }

    protected Step step(F frame, String rule, Step.Result result, String why, B b) {
        return frame.step(rule, result, why, b.reach);
    }

    /** Builds and keeps the step when the path is recorded; otherwise nothing is put into words. */
    protected void record(Supplier<Step> step) {
        if (recordPath) {
            path.add(step.get());
        }
    }

    /** "33.3%", "50%", "0.01%". */
    protected static String percent(double share) {
        double value = share * 100;
        if (Math.abs(value - Math.rint(value)) < 1e-6) {
            return String.format(Locale.ROOT, "%.0f%%", value);
        }
        return String.format(Locale.ROOT, value >= 1 ? "%.1f%%" : "%.3g%%", value);
    }
}
