package dev.railyard.cli;

import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.render.IptablesRenderer;
import dev.railyard.proxy.apply.RestoreInput;
import dev.railyard.proxy.render.nftables.NftablesRenderer;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.source.ClusterSnapshot;
import dev.railyard.proxy.source.ManifestLoader;
import dev.railyard.proxy.source.ManifestSyntaxException;
import dev.railyard.proxy.source.Problem;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * railyard render: manifests in, the iptables-restore input (or, with --proxy-mode nftables, the nft script)
 * kube-proxy would program out.
 */
@Command(name = "render",
        mixinStandardHelpOptions = true,
        description = {
            "Render the iptables-restore input (filter and nat tables) that kube-proxy's iptables mode would "
                    + "program for the Services and EndpointSlices in FILE..., as this node would see them; with "
                    + "--proxy-mode nftables, the nft -f script that creates (or replaces) kube-proxy's nftables "
                    + "table instead.",
            "FILEs are YAML or JSON: single objects, multi-document YAML, or a List as printed by "
                    + "`kubectl get svc,endpointslices -A -o yaml`."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "0:rules written",
            "1:rules written, but invalid objects were skipped (listed on stderr)",
            "2:nothing written (bad usage, unreadable or unparseable file)"})
final class RenderCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Parameters(paramLabel = "FILE", arity = "1..*", description = "Manifest files.")
    private List<Path> files;

    @Option(names = "--proxy-mode", paramLabel = "iptables|nftables", defaultValue = "iptables",
            description = "Which of kube-proxy's modes to render: iptables (iptables-restore input) or nftables "
                    + "(an nft -f script for table kube-proxy). Default: ${DEFAULT-VALUE}.")
    private String proxyMode;

    @Mixin
    private RenderOptions render;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write the rules to FILE "
            + "(atomically) instead of standard output.")
    private Path output;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        RenderConfig config;
        boolean nftables;
        try {
            nftables = switch (proxyMode) {
                case "iptables" -> false;
                case "nftables" -> true;
                default -> throw new IllegalArgumentException("--proxy-mode: \"" + proxyMode + "\" is not "
                        + "supported; use iptables or nftables");
            };
            config = render.config(render.family(), nftables);
        } catch (IllegalArgumentException e) {
            err.println("railyard render: " + e.getMessage());
            return ExitCodes.USAGE;
        }

        ClusterSnapshot snapshot;
        try {
            snapshot = ManifestLoader.load(files);
        } catch (NoSuchFileException e) {
            err.println("railyard render: " + e.getFile() + ": no such file");
            return ExitCodes.USAGE;
        } catch (IOException e) {
            err.println("railyard render: " + e.getMessage());
            return ExitCodes.USAGE;
        } catch (ManifestSyntaxException e) {
            err.println("railyard render: " + e.getMessage());
            return ExitCodes.USAGE;
        }

        ProxyState state = snapshot.state(config.family(), config.nodeName());
        RestoreInput rules = nftables ? nftScript(config, state) : new IptablesRenderer(config).render(state)::writeTo;
        try {
            if (output == null) {
                OutputStream out = System.out;
                rules.writeTo(out);
                out.flush();
            } else {
                writeAtomically(output, rules);
            }
        } catch (IOException e) {
            err.println("railyard render: cannot write " + (output == null ? "output" : output) + ": "
                    + e.getMessage());
            return ExitCodes.USAGE;
        }

        for (Problem problem : snapshot.problems()) {
            err.println("skipped " + problem);
        }
        if (!snapshot.problems().isEmpty()) {
            err.printf(Locale.ROOT, "railyard render: %d invalid object%s skipped; rendered %d service ports and "
                            + "%d endpoints (%s)%n", snapshot.problems().size(),
                    snapshot.problems().size() == 1 ? "" : "s", state.serviceCount(), state.endpointCount(),
                    config.family().kubernetesName());
            err.flush();
            return ExitCodes.SKIPPED_OBJECTS;
        }
        return ExitCodes.OK;
    }

    private static RestoreInput nftScript(RenderConfig config, ProxyState state) {
        byte[] script = NftablesRenderer.script(config, state).script().getBytes(StandardCharsets.US_ASCII);
        return out -> out.write(script);
    }

    private static void writeAtomically(Path target, RestoreInput rules) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path temp = Files.createTempFile(absolute.getParent(), "." + absolute.getFileName(), ".tmp");
        try {
            try (OutputStream out = Files.newOutputStream(temp)) {
                rules.writeTo(out);
            }
            try {
                Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, absolute, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** kube-proxy's default node name: the host name, lower-cased. */
    static String localHostname() {
        try {
            return InetAddress.getLocalHost().getHostName().toLowerCase(Locale.ROOT);
        } catch (UnknownHostException e) {
            return "";
        }
    }
}
