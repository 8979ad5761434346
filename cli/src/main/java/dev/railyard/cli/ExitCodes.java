package dev.railyard.cli;

/** What the railyard command's exit status means, so scripts can tell a partial result from a failure. */
final class ExitCodes {
    static final int OK = 0;
    /** The output was written, but some objects were invalid and left out. */
    static final int SKIPPED_OBJECTS = 1;
    /** A long-running command (railyard proxy) failed after its settings were accepted. */
    static final int FAILED = 1;
    /** Nothing was written: bad usage, an unreadable or unparseable file. */
    static final int USAGE = 2;

    private ExitCodes() {
    }
}
