package dev.railyard.cli;

import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.render.IptablesRenderer;
import dev.railyard.proxy.apply.RestoreInput;
import dev.railyard.proxy.render.nftables.Layout;
import dev.railyard.proxy.render.nftables.NftablesRenderer;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.source.ClusterSnapshot;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
                    + "`kubectl get svc,endpointslices -A -o yaml`. This is a dry run: `railyard apply` takes the "
                    + "same options and programs the rules."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "0:rules written",
            "1:rules written, but invalid objects were skipped (listed on stderr)",
            "2:nothing written (bad usage, unreadable or unparseable file)"})
final class RenderCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Mixin
    private RenderOptions options;

    @Option(names = "--ip-family", paramLabel = "4|6", defaultValue = "4",
            description = "Which family to render: 4 (iptables; table ip) or 6 (ip6tables; table ip6). "
                    + "Default: ${DEFAULT-VALUE}.")
    private int ipFamily;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write the rules to FILE "
            + "(atomically) instead of standard output.")
    private Path output;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        RenderConfig config;
        boolean nftables;
        Layout layout;
        try {
            nftables = options.nftables();
            layout = options.nftablesLayout();
            config = options.renderConfig(IpFamily.of(ipFamily));
        } catch (IllegalArgumentException e) {
            err.println("railyard render: " + e.getMessage());
            return ExitCodes.USAGE;
        }

        ClusterSnapshot snapshot = options.load(err, "railyard render");
        if (snapshot == null) {
            return ExitCodes.USAGE;
        }

        config = options.renderConfig(config.family(), snapshot); // NodeCIDR: the Node among the manifests
        ProxyState state = options.state(snapshot, config);
        RestoreInput rules = nftables ? nftScript(config, layout, state)
                : new IptablesRenderer(config).render(state)::writeTo;
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
                    + whyNotWritten(e, output));
            return ExitCodes.USAGE;
        }

        if (RenderOptions.reportProblems(snapshot, err)) {
            err.printf(Locale.ROOT, "railyard render: %d invalid object%s skipped; rendered %d service ports and "
                            + "%d endpoints (%s)%n", snapshot.problems().size(),
                    snapshot.problems().size() == 1 ? "" : "s", state.serviceCount(), state.endpointCount(),
                    config.family().kubernetesName());
            err.flush();
            return ExitCodes.SKIPPED_OBJECTS;
        }
        return ExitCodes.OK;
    }

    private static RestoreInput nftScript(RenderConfig config, Layout layout, ProxyState state) {
        byte[] script = NftablesRenderer.script(config, layout, state).script().getBytes(StandardCharsets.US_ASCII);
        return out -> out.write(script);
    }

    /** The reason in words: the exceptions of java.nio.file name only the file (here a temporary one). */
    private static String whyNotWritten(IOException e, Path target) {
        if (e instanceof NoSuchFileException && target != null) {
            Path parent = target.toAbsolutePath().getParent();
            return "no such directory " + (parent == null ? "/" : parent);
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException fs && fs.getReason() != null) {
            return fs.getReason();
        }
        return e.getMessage();
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
}
