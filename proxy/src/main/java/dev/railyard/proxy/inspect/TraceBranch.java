package dev.railyard.proxy.inspect;

import java.util.ArrayDeque;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * One branch of a trace: the packet as this branch has it, the stops still ahead, the chains being run, and the
 * share of packets that go this way. Evaluators subclass it to copy it (and to add what else their branches
 * carry); the fields are public because the evaluators' walks, in other packages, work on them rule by rule.
 *
 * @param <P> the evaluator's packet state
 * @param <F> the evaluator's chain frame
 */
public abstract class TraceBranch<P extends PacketState, F extends TraceFrame<F>> {
    public final P packet;
    public final ArrayDeque<TraceStop> stops;
    /** The chains being run, innermost first. */
    public final ArrayDeque<F> frames;
    public double reach;
    /** Rules met on this branch's way that could not be evaluated. */
    public int unevaluated;
    /**
     * What this branch (a side of a random choice not followed yet) does first when it resumes: record the
     * choice, or run the chosen element; false if that ends the branch.
     */
    public BooleanSupplier resume;

    /** The first branch of a trace: every packet. */
    protected TraceBranch(P packet, List<TraceStop> stops) {
        this.packet = packet;
        this.stops = new ArrayDeque<>(stops);
        this.frames = new ArrayDeque<>();
        this.reach = 1.0;
    }

    /** A copy of {@code other} with its own copy of the packet ({@code packet}) and of every frame. */
    protected TraceBranch(TraceBranch<P, F> other, P packet) {
        this.packet = packet;
        this.stops = new ArrayDeque<>(other.stops);
        this.frames = new ArrayDeque<>();
        // ArrayDeque iterates from the top; rebuild in the same order.
        other.frames.descendingIterator().forEachRemaining(f -> this.frames.push(f.copy()));
        this.reach = other.reach;
        this.unevaluated = other.unevaluated;
    }
}
