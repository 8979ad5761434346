package dev.railyard.proxy.inspect;

/** A ruleset text that cannot be read: it names where (source and line) and what is wrong. */
public final class RulesetInputException extends Exception {
    private final String source;
    private final int line;

    public RulesetInputException(String source, int line, String message) {
        super(source + (line > 0 ? ":" + line : "") + ": " + message);
        this.source = source;
        this.line = line;
    }

    public String source() {
        return source;
    }

    /** 1-based; 0 when the problem is not on one line. */
    public int line() {
        return line;
    }
}
