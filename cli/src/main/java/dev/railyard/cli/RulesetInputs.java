package dev.railyard.cli;

import dev.railyard.proxy.apply.IptablesBackend;
import dev.railyard.proxy.apply.IptablesException;
import dev.railyard.proxy.inspect.LocalAddresses;
import dev.railyard.proxy.inspect.RulesetInputException;
import dev.railyard.proxy.inspect.iptables.IptablesServiceRuleset;
import dev.railyard.proxy.inspect.iptables.LiveNode;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.render.RenderConfig;
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
 * Where {@code trace} and {@code diff} get rules from: manifests rendered with the render options, an
 * iptables-save dump (or iptables-restore input), an {@code nft list ruleset} dump (not yet), or the live node.
 */
final class RulesetInputs {
    static final String NFT_NOT_YET = "nftables rulesets are not supported yet: trace and diff read iptables rules "
            + "(manifests in iptables mode, iptables-save dumps, --live)";

    /** What a file holds, judged from its first meaningful line. */
    enum Kind { IPTABLES, NFTABLES, MANIFESTS }

    private RulesetInputs() {
    }

    /** Railyard's render of {@code files} for {@code config}, with the jump rules the proxy installs. */
    static IptablesServiceRuleset manifests(List<Path> files, RenderConfig config, PrintWriter err, String command)
            throws BadInputException {
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
        return IptablesServiceRuleset.fromRender("railyard render of " + names(files) + " (node "
                + (config.nodeName().isEmpty() ? "unnamed" : config.nodeName())
                + (config.nodeIps().isEmpty() ? "" : ", " + String.join(", ", config.nodeIps())) + ")", config, state);
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

    /** This node's rules, read with iptables-save (inside network namespace {@code netns} when not null). */
    static IptablesServiceRuleset live(IpFamily family, String backend, String netns) throws BadInputException {
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
