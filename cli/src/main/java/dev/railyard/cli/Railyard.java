package dev.railyard.cli;

import dev.railyard.cli.logging.LogFormat;
import dev.railyard.cli.logging.LogSetup;
import dev.railyard.cli.logging.LoggingOptions;
import dev.railyard.overlay.cli.OverlayCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParseResult;

/** The railyard command: one binary, one subcommand per job. */
@Command(name = "railyard",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = "A Kubernetes node networking engine: kube-proxy-compatible service rules and a "
                + "flannel-compatible pod network.",
        subcommands = {RenderCommand.class, ApplyCommand.class, TraceCommand.class, DiffCommand.class,
            ProxyCommand.class, OverlayCommand.class, CommandLine.HelpCommand.class})
public final class Railyard {
    @Mixin
    LoggingOptions logging;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        return new CommandLine(new Railyard())
                .setCaseInsensitiveEnumValuesAllowed(true)
                .setExitCodeExceptionMapper(e -> ExitCodes.USAGE)
                .setExecutionStrategy(Railyard::configureLoggingThenRun);
    }

    /**
     * The logging options may be given after any subcommand (they are inherited), so they are read from the
     * whole parse result, the last occurrence winning, before the command logs anything.
     */
    private static int configureLoggingThenRun(ParseResult parseResult) {
        LogFormat format = LogFormat.TEXT;
        int verbosity = 2;
        for (ParseResult level = parseResult; level != null; level = level.subcommand()) {
            format = level.matchedOptionValue("--logging-format", format);
            verbosity = level.matchedOptionValue("--v", verbosity);
        }
        if (verbosity < 0) {
            throw new CommandLine.ParameterException(parseResult.commandSpec().commandLine(),
                    "--v: " + verbosity + " must be 0 or more");
        }
        LogSetup.configure(format, verbosity);
        return new CommandLine.RunLast().execute(parseResult);
    }
}
