package dev.railyard.proxy.source;

/** A manifest file that cannot be parsed at all; names the file and line. */
public final class ManifestSyntaxException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final int line;

    public ManifestSyntaxException(String source, int line, String message, Throwable cause) {
        super(source + (line > 0 ? ":" + line : "") + ": " + message, cause);
        this.source = source;
        this.line = line;
    }

    public String source() {
        return source;
    }

    /** 1-based; 0 when unknown. */
    public int line() {
        return line;
    }
}
