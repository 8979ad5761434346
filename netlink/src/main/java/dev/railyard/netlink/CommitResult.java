package dev.railyard.netlink;

import java.util.List;
import java.util.stream.Collectors;

/**
 * The outcome of one batch: committed (every operation applied atomically) or not (nothing applied: nf_tables
 * aborts the whole transaction on any error), with every refusal mapped to its operation, and the size of the
 * datagram that carried the batch.
 */
public record CommitResult(boolean committed, int operations, int bytesSent, List<OperationError> errors) {

    public CommitResult {
        errors = List.copyOf(errors);
    }

    /** The errors, one per line, or "committed N operations". */
    public String describe() {
        if (committed) {
            return "committed " + operations + " operations";
        }
        return "batch of " + operations + " operations refused, nothing applied:\n"
                + errors.stream().map(OperationError::toString).collect(Collectors.joining("\n"));
    }

    @Override
    public String toString() {
        return describe();
    }
}
