package dev.railyard.cli.logging;

/** kube-proxy's {@code --logging-format}: one line per event, either readable or for a log pipeline. */
public enum LogFormat {
    /** {@code 2026-11-23T10:00:00.123Z INFO  [thread] logger: message key=value key="two words"} */
    TEXT,
    /** One JSON object per line: ts, level, logger, thread, msg, then every key-value field as its own member. */
    JSON
}
