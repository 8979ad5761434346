package dev.railyard.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import dev.railyard.proxy.inspect.Frontend;
import dev.railyard.proxy.inspect.LocalAddresses;
import dev.railyard.proxy.inspect.RulesetDiff;
import dev.railyard.proxy.inspect.ServiceRuleset;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.render.RenderConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** railyard diff: do two rulesets treat every service frontend the same? */
@Command(name = "diff",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Compare two rulesets by meaning, not text: for every service frontend either one serves (cluster, "
                    + "external and load-balancer IPs with their port and protocol, node ports), trace the same "
                    + "packets through both (from an outside client, from inside every source range and the pod "
                    + "network, from the node) and compare the verdicts, the endpoints with their probabilities, "
                    + "masquerading and session affinity.",
            "A and B are each a manifest file or directory (rendered with the options below, as `railyard render` "
                    + "would: iptables mode, or --proxy-mode nftables in either layout), an iptables-save dump (or "
                    + "iptables-restore input), or an `nft list ruleset` dump (or an nft script of add commands); - "
                    + "for standard input; recognised by their content. Any two compare: an iptables-save dump with "
                    + "an nft ruleset, kube-proxy's layout with the flat one. Example: the `nft list ruleset` of a "
                    + "kube-proxy node against Railyard's render of the same cluster."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "0:no difference",
            "1:the rulesets differ (each difference is printed)",
            "2:bad usage or unreadable input"})
final class DiffCommand implements Callable<Integer> {
    private static final String NAME = "railyard diff";

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "A", description = "The first ruleset.")
    private String a;

    @Parameters(index = "1", paramLabel = "B", description = "The second ruleset.")
    private String b;

    @Option(names = "--proxy-mode", paramLabel = "iptables|nftables", defaultValue = "iptables",
            description = "Which mode's rules to render for manifests. Default: ${DEFAULT-VALUE}.")
    private String proxyMode;

    @Option(names = "--nftables-layout", paramLabel = "kube-proxy|flat",
            description = "With --proxy-mode nftables: the layout to render manifests in. Default: kube-proxy.")
    private String nftablesLayout;

    @Option(names = {"-o", "--output"}, paramLabel = "text|json", defaultValue = "text",
            description = "text or json (one object). Default: ${DEFAULT-VALUE}.")
    private String output;

    @Option(names = "--ip-family", paramLabel = "4|6", defaultValue = "4",
            description = "Which family's rules to compare (and to render, for manifests). Default: ${DEFAULT-VALUE}.")
    private int ipFamily;

    @Mixin
    private NodeOptions node;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        RulesetDiff.Report report;
        try {
            report = run(err);
        } catch (BadInputException e) {
            err.println(NAME + ": " + e.getMessage());
            err.flush();
            return ExitCodes.USAGE;
        }
        PrintWriter out = spec.commandLine().getOut();
        out.print(output.equals("json") ? json(report) : text(report));
        out.flush();
        return report.equal() ? ExitCodes.OK : 1;
    }

    private RulesetDiff.Report run(PrintWriter err) throws BadInputException {
        RulesetInputs.Mode mode = RulesetInputs.Mode.of(proxyMode, nftablesLayout);
        if (!output.equals("text") && !output.equals("json")) {
            throw new BadInputException("-o: \"" + output + "\" (must be text or json)");
        }
        if (a.equals("-") && b.equals("-")) {
            throw new BadInputException("only one of A and B can be standard input (-)");
        }
        IpFamily family;
        RenderConfig config;
        try {
            family = IpFamily.of(ipFamily);
            config = node.renderConfig(family, mode.nftables());
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage());
        }
        ServiceRuleset first = load(a, config, mode, err);
        ServiceRuleset second = load(b, config, mode, err);
        return RulesetDiff.compare(first, second, new RulesetDiff.Settings(family, config.clusterCidr()));
    }

    private ServiceRuleset load(String path, RenderConfig config, RulesetInputs.Mode mode, PrintWriter err)
            throws BadInputException {
        if (!path.equals("-") && java.nio.file.Files.isDirectory(Path.of(path))) {
            return RulesetInputs.manifests(RulesetInputs.manifestFiles(Path.of(path)), config, mode, err, NAME);
        }
        String text = RulesetInputs.read(path);
        if (RulesetInputs.kindOf(text) != RulesetInputs.Kind.MANIFESTS) {
            return RulesetInputs.dumpText(path, text, LocalAddresses.of(config.nodeIps()));
        }
        if (path.equals("-")) {
            throw new BadInputException("standard input must be an iptables-save dump or an nft ruleset (manifests "
                    + "are read from files)");
        }
        return RulesetInputs.manifests(List.of(Path.of(path)), config, mode, err, NAME);
    }

    static String text(RulesetDiff.Report report) {
        StringBuilder out = new StringBuilder();
        out.append("A: ").append(report.a()).append('\n');
        out.append("B: ").append(report.b()).append('\n');
        int probes = 0;
        for (RulesetDiff.FrontendComparison frontend : report.frontends()) {
            probes += frontend.probes();
            if (frontend.equal()) {
                continue;
            }
            out.append('\n').append(title(frontend)).append('\n');
            // The same difference usually shows for several probes: one line for it, then the probes.
            Map<String, List<String>> probesByDifference = new LinkedHashMap<>();
            for (RulesetDiff.Difference difference : frontend.differences()) {
                probesByDifference.computeIfAbsent(difference.aspect() + ": A " + difference.a() + " vs B "
                        + difference.b(), k -> new ArrayList<>()).add(difference.probe());
            }
            probesByDifference.forEach((difference, where) -> out.append("  ").append(difference).append("\n    ")
                    .append(String.join("; ", where)).append('\n'));
        }
        for (String note : report.notes()) {
            out.append("note: ").append(note).append('\n');
        }
        int differing = report.differing().size();
        out.append('\n');
        if (differing == 0) {
            out.append("no difference: ").append(report.frontends().size()).append(" frontends, ").append(probes)
                    .append(" probes each, same verdicts, endpoints, probabilities, masquerading and affinity\n");
        } else {
            out.append(differing).append(" of ").append(report.frontends().size()).append(" frontends differ (")
                    .append(probes).append(" probes each)\n");
        }
        return out.toString();
    }

    private static String title(RulesetDiff.FrontendComparison comparison) {
        Frontend frontend = comparison.frontend();
        String presence = comparison.inA() && comparison.inB() ? "" : comparison.inA() ? "  [only in A]"
                : "  [only in B]";
        return (frontend.name() == null ? "(unnamed)" : frontend.name()) + "  " + frontend.describe() + " ("
                + frontend.kind().label() + ")" + presence;
    }

    static String json(RulesetDiff.Report report) {
        JsonObject root = new JsonObject();
        root.addProperty("a", report.a());
        root.addProperty("b", report.b());
        root.addProperty("equal", report.equal());
        root.addProperty("frontends", report.frontends().size());
        JsonArray differences = new JsonArray();
        for (RulesetDiff.FrontendComparison comparison : report.differing()) {
            Frontend frontend = comparison.frontend();
            JsonObject f = new JsonObject();
            f.add("name", frontend.name() == null ? JsonNull.INSTANCE : new JsonPrimitive(frontend.name()));
            f.add("address", frontend.address() == null ? JsonNull.INSTANCE : new JsonPrimitive(frontend.address()));
            f.addProperty("port", frontend.port());
            f.addProperty("protocol", frontend.protocol().lowerCase());
            f.addProperty("kind", frontend.kind().label());
            f.addProperty("inA", comparison.inA());
            f.addProperty("inB", comparison.inB());
            JsonArray items = new JsonArray();
            for (RulesetDiff.Difference difference : comparison.differences()) {
                JsonObject d = new JsonObject();
                d.addProperty("probe", difference.probe());
                d.addProperty("aspect", difference.aspect());
                d.addProperty("a", difference.a());
                d.addProperty("b", difference.b());
                items.add(d);
            }
            f.add("differences", items);
            differences.add(f);
        }
        root.add("differing", differences);
        JsonArray notes = new JsonArray();
        report.notes().forEach(notes::add);
        root.add("notes", notes);
        return new GsonBuilder().disableHtmlEscaping().setPrettyPrinting().create().toJson(root) + "\n";
    }
}
