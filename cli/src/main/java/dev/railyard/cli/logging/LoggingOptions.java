package dev.railyard.cli.logging;

import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * kube-proxy's logging flags, accepted by every subcommand. Declared here for help and parsing; the command line's
 * execution strategy reads them from the parse result and calls {@link LogSetup} before the command runs.
 */
public final class LoggingOptions {
    @Option(names = "--logging-format", paramLabel = "text|json", defaultValue = "text", scope = ScopeType.INHERIT,
            description = "Log line format: text (key=value fields) or json (one object per line). Default: text.")
    LogFormat format;

    @Option(names = {"-v", "--v"}, paramLabel = "N", defaultValue = "2", scope = ScopeType.INHERIT,
            description = "Log verbosity as klog counts it: up to 3 info, 4-5 debug, 6+ trace. Default: 2.")
    int verbosity;
}
