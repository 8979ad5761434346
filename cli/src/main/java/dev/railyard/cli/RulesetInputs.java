package dev.railyard.cli;

import dev.railyard.proxy.apply.IptablesBackend;
import dev.railyard.proxy.apply.IptablesException;
import dev.railyard.proxy.inspect.LocalAddresses;
import dev.railyard.nftables.NftException;
import dev.railyard.proxy.inspect.RulesetInputException;
import dev.railyard.proxy.inspect.ServiceRuleset;
import dev.railyard.proxy.inspect.iptables.IptablesServiceRuleset;
import dev.railyard.proxy.inspect.iptables.LiveNode;
import dev.railyard.proxy.inspect.nftables.LiveNftNode;
import dev.railyard.proxy.inspect.nftables.NftablesServiceRuleset;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.render.nftables.Layout;
import dev.railyard.proxy.source.ClusterSnapshot;
import dev.railyard.proxy.source.ManifestLoader;
import dev.railyard.proxy.source.ManifestSyntaxException;
import dev.railyard.proxy.source.Problem;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Where {@code trace} and {@code diff} get rules from: manifests rendered with the render options (iptables or
 * nftables mode), an iptables-save dump (or iptables-restore input), an {@code nft list ruleset} dump (or an nft
 * script of {@code add} commands), or the live node.
 */
final class RulesetInputs {
    /** What a file holds, judged from its first meaningful line. */
    enum Kind { IPTABLES, NFTABLES, MANIFESTS }

    /**
     * Which mode's rules manifests render to: iptables, or nftables in a layout.
     *
     * @param layout null for iptables
     */
    record Mode(Layout layout) {
        static final Mode IPTABLES = new Mode(null);

        boolean nftables() {
            return layout != null;
        }

        /**
         * --proxy-mode and --nftables-layout (null: not given, kube-proxy's layout).
         *
         * @throws BadInputException naming the option whose value is wrong
         */
        static Mode of(String proxyMode, String nftablesLayout) throws BadInputException {
            String mode = proxyMode.strip().toLowerCase(java.util.Locale.ROOT);
            Layout layout;
            try {
                layout = RenderOptions.layout(nftablesLayout);
            } catch (IllegalArgumentException e) {
                throw new BadInputException(e.getMessage());
            }
            return switch (mode) {
                case "iptables" -> {
                    if (nftablesLayout != null) {
                        throw new BadInputException("--nftables-layout only applies to --proxy-mode nftables");
                    }
                    yield IPTABLES;
                }
                case "nftables" -> new Mode(layout);
                default -> throw new BadInputException("--proxy-mode: \"" + proxyMode + "\" (must be iptables or "
                        + "nftables)");
            };
        }
    }

    private RulesetInputs() {
    }

    /**
     * Railyard's render of {@code files} for {@code config}: in iptables mode with the jump rules the proxy
     * installs, in nftables mode the table in the chosen layout.
     */
    static ServiceRuleset manifests(List<Path> files, RenderConfig config, Mode mode, PrintWriter err,
                                    String command) throws BadInputException {
        ClusterSnapshot snapshot;
        try {
            snapshot = ManifestLoader.load(files);
        } catch (NoSuchFileException e) {
            throw new BadInputException(e.getFile() + ": no such file");
        } catch (IOException e) {
            throw new BadInputException("cannot read manifests: " + e.getMessage(), e);
        } catch (ManifestSyntaxException e) {
            throw new BadInputException(e.getMessage(), e);
        }
        for (Problem problem : snapshot.problems()) {
            err.println(command + ": skipped " + problem);
        }
        ProxyState state = snapshot.state(config.family(), config.nodeName());
        String node = "node " + (config.nodeName().isEmpty() ? "unnamed" : config.nodeName())
                + (config.nodeIps().isEmpty() ? "" : ", " + String.join(", ", config.nodeIps()));
        if (mode.nftables()) {
            return NftablesServiceRuleset.fromRender("railyard render --proxy-mode nftables of " + names(files) + " ("
                    + node + ", " + mode.layout().flagValue() + " layout)", config, mode.layout(), state);
        }
        return IptablesServiceRuleset.fromRender("railyard render of " + names(files) + " (" + node + ")", config,
                state);
    }

    /** An {@code nft list ruleset} dump or an nft script of {@code add} commands ("-" for standard input). */
    static NftablesServiceRuleset nftText(String path, String text, LocalAddresses local) throws BadInputException {
        try {
            return NftablesServiceRuleset.fromText("nftables rules from " + displayName(path), displayName(path), text,
                    local);
        } catch (RulesetInputException e) {
            throw new BadInputException(e.getMessage(), e);
        }
    }

    /** The text of {@code path} as the kind of rules it holds, or a BadInputException for manifests. */
    static ServiceRuleset dumpText(String path, String text, LocalAddresses local) throws BadInputException {
        return switch (kindOf(text)) {
            case IPTABLES -> iptablesText(path, text, local);
            case NFTABLES -> nftText(path, text, local);
            case MANIFESTS -> throw new BadInputException(displayName(path) + " is neither an iptables-save dump nor "
                    + "an nft ruleset");
        };
    }

    /** An iptables-save dump or iptables-restore input from {@code path} ("-" for standard input). */
    static IptablesServiceRuleset iptablesText(String path, String text, LocalAddresses local)
            throws BadInputException {
        try {
            return IptablesServiceRuleset.fromText("iptables rules from " + displayName(path), displayName(path), text,
                    local);
        } catch (RulesetInputException e) {
            throw new BadInputException(e.getMessage(), e);
        }
    }

    /**
     * This node's rules: with {@code nftables} true, {@code nft list ruleset}; false, iptables-save; null, the
     * nftables rules when the node has kube-proxy's nftables table of {@code family}, else iptables-save (inside
     * network namespace {@code netns} when not null).
     */
    static ServiceRuleset live(IpFamily family, String backend, String netns, Boolean nftables)
            throws BadInputException {
        if (nftables == null || nftables) {
            LiveNftNode nft = LiveNftNode.of(family);
            if (netns != null) {
                nft = nft.withCommandPrefix(List.of("ip", "netns", "exec", netns));
            }
            try {
                String listing;
                try {
                    listing = nft.listRuleset();
                } catch (NftException e) {
                    if (nftables != null) {
                        throw e;
                    }
                    listing = "";
                }
                if (nftables != null || nft.hasProxyTable(listing)) {
                    if (listing.isBlank()) {
                        throw new BadInputException("cannot read this node's rules: nft list ruleset printed no "
                                + "tables");
                    }
                    return nft.read(listing);
                }
            } catch (NftException | RulesetInputException e) {
                throw new BadInputException("cannot read this node's rules: " + e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new BadInputException("interrupted while reading this node's rules");
            }
        }
        return liveIptables(family, backend, netns);
    }

    private static IptablesServiceRuleset liveIptables(IpFamily family, String backend, String netns)
            throws BadInputException {
        IptablesBackend chosen;
        try {
            chosen = IptablesBackend.fromFlag(backend);
        } catch (IllegalArgumentException e) {
            throw new BadInputException("--iptables-backend: " + e.getMessage());
        }
        LiveNode node = LiveNode.of(family, chosen);
        if (netns != null) {
            node = node.withCommandPrefix(List.of("ip", "netns", "exec", netns));
        }
        try {
            return node.read();
        } catch (IptablesException | RulesetInputException e) {
            throw new BadInputException("cannot read this node's rules: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BadInputException("interrupted while reading this node's rules");
        }
    }

    /** The text of {@code path}, or of standard input for "-". */
    static String read(String path) throws BadInputException {
        try {
            if (path.equals("-")) {
                InputStream in = System.in;
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            return Files.readString(Path.of(path), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new BadInputException(path + ": no such file");
        } catch (IOException e) {
            throw new BadInputException(path + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** The manifest files {@code path} stands for: itself, or the YAML and JSON files in a directory. */
    static List<Path> manifestFiles(Path path) throws BadInputException {
        if (!Files.isDirectory(path)) {
            return List.of(path);
        }
        try (Stream<Path> entries = Files.list(path)) {
            List<Path> files = new ArrayList<>(entries.filter(Files::isRegularFile)
                    .filter(p -> p.getFileName().toString().matches(".*\\.(ya?ml|json)$")).sorted().toList());
            if (files.isEmpty()) {
                throw new BadInputException(path + ": directory has no .yaml, .yml or .json files");
            }
            return files;
        } catch (IOException e) {
            throw new BadInputException(path + ": cannot list: " + e.getMessage(), e);
        }
    }

    static Kind kindOf(String text) {
        for (String line : text.split("\n")) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            if (l.startsWith("*")) {
                return Kind.IPTABLES;
            }
            if (l.startsWith("table ") || l.startsWith("flush ruleset") || l.startsWith("add table ")
                    || l.startsWith("define ")) {
                return Kind.NFTABLES;
            }
            return Kind.MANIFESTS;
        }
        return Kind.MANIFESTS;
    }

    static String displayName(String path) {
        return path.equals("-") ? "standard input" : path;
    }

    private static String names(List<Path> files) {
        List<String> names = new ArrayList<>();
        for (Path file : files) {
            names.add(file.toString());
        }
        return String.join(" ", names);
    }
}
