package dev.railyard.cli;

import dev.railyard.proxy.inspect.LocalAddresses;
import dev.railyard.proxy.inspect.Origin;
import dev.railyard.proxy.inspect.Packet;
import dev.railyard.proxy.inspect.ServiceRuleset;
import dev.railyard.proxy.inspect.Trace;
import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.render.RenderConfig;
import inet.ipaddr.IPAddress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** railyard trace: where one packet goes through a node's rules, and why. */
@Command(name = "trace",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Explain where one packet goes on a node and why: every chain and rule it meets (matched or not), the "
                    + "endpoints it can be DNATed to with their probabilities, whether it is masqueraded, session "
                    + "affinity, and the final verdict (DNAT, ACCEPT, DROP or REJECT).",
            "The rules come from manifests (rendered as `railyard render` would: in iptables mode with the jump "
                    + "rules `railyard proxy` installs, or with --proxy-mode nftables in either layout), from an "
                    + "iptables-save dump or an `nft list ruleset` dump (Railyard's or kube-proxy's), or from this node "
                    + "(--live). The packet is the first of a new connection. Rules that test something the trace "
                    + "does not model are reported as CANNOT and treated as not matching."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "0:traced (the verdict is in the output)",
            "2:bad usage or unreadable rules"})
final class TraceCommand implements Callable<Integer> {
    private static final String NAME = "railyard trace";

    @Spec
    private CommandSpec spec;

    @Parameters(paramLabel = "FILE", arity = "0..*", description = "Manifest files to render and trace through.")
    private List<Path> files = new ArrayList<>();

    @Option(names = "--iptables-save", paramLabel = "FILE|-",
            description = "Trace through this iptables-save output (or iptables-restore input) instead of manifests.")
    private String iptablesSave;

    @Option(names = "--nft-ruleset", paramLabel = "FILE|-",
            description = "Trace through this `nft list ruleset` output (or an nft script of `add` commands, such as "
                    + "`railyard render --proxy-mode nftables` writes) instead of manifests.")
    private String nftRuleset;

    @Option(names = "--live", description = "Trace through this node's own rules and addresses (its local routing "
            + "table): `nft list ruleset` when the node has kube-proxy's nftables table (or with --proxy-mode "
            + "nftables), iptables-save otherwise (or with --proxy-mode iptables).")
    private boolean live;

    @Option(names = "--iptables-backend", paramLabel = "auto|legacy|nft", defaultValue = "auto",
            description = "With --live in iptables mode: which iptables-save to run. Default: ${DEFAULT-VALUE} "
                    + "(plain iptables-save).")
    private String iptablesBackend;

    @Option(names = "--netns", paramLabel = "NAME",
            description = "With --live: read the rules of network namespace NAME (ip netns exec NAME).")
    private String netns;

    @Option(names = "--proxy-mode", paramLabel = "iptables|nftables",
            description = "With manifests: which mode's rules to render (default: iptables). With --live: which "
                    + "rules to read (default: nftables when the node has kube-proxy's nftables table, else "
                    + "iptables).")
    private String proxyMode;

    @Option(names = "--nftables-layout", paramLabel = "kube-proxy|flat",
            description = "With manifests and --proxy-mode nftables: kube-proxy's layout or the flat one. "
                    + "Default: kube-proxy.")
    private String nftablesLayout;

    @Option(names = "--src", required = true, paramLabel = "IP[:PORT]", description = "The packet's source.")
    private String source;

    @Option(names = "--dst", required = true, paramLabel = "IP:PORT",
            description = "The packet's destination ([IPv6]:PORT for IPv6).")
    private String destination;

    @Option(names = "--proto", paramLabel = "tcp|udp|sctp", defaultValue = "tcp",
            description = "The packet's protocol. Default: ${DEFAULT-VALUE}.")
    private String protocol;

    @Option(names = "--from", paramLabel = "external|pod|node",
            description = "Where the packet comes from. Default: node when the source is a local address, pod when "
                    + "it is in --cluster-cidr, external otherwise.")
    private String from;

    @Option(names = "--in-interface", paramLabel = "NAME",
            description = "The interface the packet arrives on, for rules that test -i (default: unknown).")
    private String inInterface;

    @Option(names = {"-o", "--output"}, paramLabel = "text|json", defaultValue = "text",
            description = "text (one line per rule met, then a summary) or json (one object). Default: ${DEFAULT-VALUE}.")
    private String output;

    @Option(names = "--brief", description = "Leave out rules that did not match.")
    private boolean brief;

    @Option(names = "--ip-family", paramLabel = "4|6",
            description = "With manifests: which family to render (default: the family of --dst, which it must match).")
    private Integer ipFamily;

    @Mixin
    private NodeOptions node;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        try {
            String text = run(err);
            PrintWriter out = spec.commandLine().getOut();
            out.print(text);
            out.flush();
            return ExitCodes.OK;
        } catch (BadInputException e) {
            err.println(NAME + ": " + e.getMessage());
            err.flush();
            return ExitCodes.USAGE;
        }
    }

    private String run(PrintWriter err) throws BadInputException {
        int sources = (files.isEmpty() ? 0 : 1) + (iptablesSave == null ? 0 : 1) + (nftRuleset == null ? 0 : 1)
                + (live ? 1 : 0);
        if (sources != 1) {
            throw new BadInputException("give exactly one source of rules: manifest FILE..., --iptables-save FILE, "
                    + "--nft-ruleset FILE or --live" + (sources > 1 ? " (got " + sources + ")" : ""));
        }
        RulesetInputs.Mode mode = RulesetInputs.Mode.of(proxyMode == null ? "iptables" : proxyMode, nftablesLayout);
        if (!output.equals("text") && !output.equals("json")) {
            throw new BadInputException("-o: \"" + output + "\" (must be text or json)");
        }
        if (netns != null && !live) {
            throw new BadInputException("--netns only applies to --live");
        }

        Protocol proto;
        try {
            proto = Protocol.parse(protocol.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new BadInputException("--proto: \"" + protocol + "\" (must be tcp, udp or sctp)");
        }
        HostPort src = HostPort.parse("--src", source, false);
        HostPort dst = HostPort.parse("--dst", destination, true);
        IpFamily family = IpAddresses.familyOf(IpAddresses.parse(dst.address()));
        if (ipFamily != null && (ipFamily != 4 && ipFamily != 6 || IpFamily.of(ipFamily) != family)) {
            throw new BadInputException("--ip-family " + ipFamily + " does not match --dst " + destination);
        }
        if (IpAddresses.familyOf(IpAddresses.parse(src.address())) != family) {
            throw new BadInputException("--src " + source + " and --dst " + destination
                    + " are of different IP families");
        }

        ServiceRuleset rules;
        RenderConfig config;
        try {
            config = node.renderConfig(family, mode.nftables());
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage());
        }
        if (!files.isEmpty()) {
            rules = RulesetInputs.manifests(files, config, mode, err, NAME);
        } else if (iptablesSave != null) {
            String text = RulesetInputs.read(iptablesSave);
            if (RulesetInputs.kindOf(text) == RulesetInputs.Kind.NFTABLES) {
                throw new BadInputException(RulesetInputs.displayName(iptablesSave) + " looks like an nftables "
                        + "ruleset; trace it with --nft-ruleset");
            }
            rules = RulesetInputs.iptablesText(iptablesSave, text, LocalAddresses.of(config.nodeIps()));
        } else if (nftRuleset != null) {
            String text = RulesetInputs.read(nftRuleset);
            if (RulesetInputs.kindOf(text) != RulesetInputs.Kind.NFTABLES) {
                throw new BadInputException(RulesetInputs.displayName(nftRuleset) + " is not an nftables ruleset (`nft "
                        + "list ruleset` output or an nft script of add commands)"
                        + (RulesetInputs.kindOf(text) == RulesetInputs.Kind.IPTABLES ? "; it looks like an "
                        + "iptables-save dump: trace it with --iptables-save" : ""));
            }
            rules = RulesetInputs.nftText(nftRuleset, text, LocalAddresses.of(config.nodeIps()));
        } else {
            rules = RulesetInputs.live(family, iptablesBackend, netns, proxyMode == null ? null : mode.nftables());
        }

        IPAddress srcAddress = IpAddresses.parse(src.address());
        Origin origin;
        String originReason = null;
        if (from != null) {
            try {
                origin = Origin.fromFlag(from);
            } catch (IllegalArgumentException e) {
                throw new BadInputException("--from: " + e.getMessage());
            }
        } else if (rules.localAddresses().isLocal(srcAddress)) {
            origin = Origin.NODE;
            originReason = src.address() + " is a local address";
        } else if (config.clusterCidr() != null && IpAddresses.parseCidr(config.clusterCidr()).contains(srcAddress)) {
            origin = Origin.POD;
            originReason = src.address() + " is in --cluster-cidr " + config.clusterCidr();
        } else {
            origin = Origin.EXTERNAL;
            originReason = src.address() + (config.clusterCidr() == null ? " is not a local address; no --cluster-cidr"
                    : " is outside --cluster-cidr " + config.clusterCidr());
        }
        Packet packet;
        try {
            packet = new Packet(src.address(), src.port(), dst.address(), dst.port(), proto, origin, inInterface);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage());
        }
        Trace trace = rules.trace(packet);
        return output.equals("json") ? TraceOutput.json(trace, rules.description(), originReason)
                : TraceOutput.text(trace, rules.description(), originReason, brief);
    }

    /** An address with an optional port: 10.0.0.1, 10.0.0.1:80, [fd00::1]:80, fd00::1. */
    record HostPort(String address, int port) {
        static HostPort parse(String option, String text, boolean portRequired) throws BadInputException {
            String value = text.strip();
            String address;
            String port = null;
            if (value.startsWith("[")) {
                int close = value.indexOf(']');
                if (close < 0 || close + 1 < value.length() && value.charAt(close + 1) != ':') {
                    throw new BadInputException(option + ": \"" + text + "\" is not [IPv6]:PORT");
                }
                address = value.substring(1, close);
                port = close + 1 < value.length() ? value.substring(close + 2) : null;
            } else if (value.indexOf(':') >= 0 && value.indexOf(':') == value.lastIndexOf(':')) {
                address = value.substring(0, value.indexOf(':'));
                port = value.substring(value.indexOf(':') + 1);
            } else {
                address = value;
            }
            try {
                address = IpAddresses.canonical(IpAddresses.parse(address));
            } catch (IllegalArgumentException e) {
                throw new BadInputException(option + ": " + e.getMessage());
            }
            if (port == null) {
                if (portRequired) {
                    throw new BadInputException(option + ": \"" + text + "\" has no port (IP:PORT, [IPv6]:PORT)");
                }
                return new HostPort(address, 0);
            }
            int number;
            try {
                number = Integer.parseInt(port);
            } catch (NumberFormatException e) {
                throw new BadInputException(option + ": port \"" + port + "\" is not a number");
            }
            if (number < 1 || number > 65535) {
                throw new BadInputException(option + ": port " + number + " is out of range 1-65535");
            }
            return new HostPort(address, number);
        }
    }
}
