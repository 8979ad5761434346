package dev.railyard.overlay.ip;

import java.util.List;

/** The outcome of one {@code -batch} run: which lines failed and what iproute2 said about each. */
public record BatchResult(List<String> lines, List<Failure> failures) {

    public BatchResult {
        lines = List.copyOf(lines);
        failures = List.copyOf(failures);
    }

    public boolean ok() {
        return failures.isEmpty();
    }

    /** @param lineNumber 1-based, as iproute2 reports it */
    public record Failure(int lineNumber, String line, String message) {
    }
}
