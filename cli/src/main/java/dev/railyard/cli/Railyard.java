package dev.railyard.cli;

import dev.railyard.overlay.cli.OverlayCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The railyard command: one binary, one subcommand per job. */
@Command(name = "railyard",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = "A Kubernetes node networking engine: kube-proxy-compatible service rules and a "
                + "flannel-compatible pod network.",
        subcommands = {RenderCommand.class, ProxyCommand.class, OverlayCommand.class, CommandLine.HelpCommand.class})
public final class Railyard {

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        return new CommandLine(new Railyard())
                .setCaseInsensitiveEnumValuesAllowed(true)
                .setExitCodeExceptionMapper(e -> ExitCodes.USAGE);
    }
}
