package dev.railyard.proxy.render.nftables;

import dev.railyard.proxy.model.IpAddresses;
import inet.ipaddr.IPAddress;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A port of kube-proxy's nftables packet tracer ({@code nftablesTracer}, {@code tracePacket} and
 * {@code runPacketFlowTests} in pkg/proxy/nftables/helpers_test.go). Like upstream it does not parse nftables rules in
 * general: it recognises the pieces of rule text kube-proxy writes with a list of regular expressions, tried in
 * upstream's order, and consumes a rule piece by piece until a piece fails to match (the rule does not apply), a
 * verdict ends the chain, or nothing is left.
 *
 * <p>Semantics, as upstream:
 * <ul>
 * <li>{@code comment "..."} at the end of a rule and a leading {@code ct state new} are ignored (only new connections
 * are traced).</li>
 * <li>Set and map lookups compare element keys with the packet's fields as <em>strings</em> ({@code ip daddr @S},
 * {@code ip daddr . meta l4proto . th dport @S / vmap @M}, {@code meta l4proto . th dport @S / vmap @M},
 * {@code ... . ip saddr @S} where the source key may be a CIDR). A vmap hit continues with the element's value as
 * the rest of the rule.</li>
 * <li>{@code ip daddr X} / {@code ip saddr X} (also {@code != X}, {@code ip6}) compare as addresses or CIDRs; anonymous
 * sets {@code { a, b }} match only if EVERY member matches, and {@code != { a, b }} only if none does (upstream's
 * addressMatchesSet).</li>
 * <li>{@code fib saddr type local} / {@code fib daddr type local} test membership of the node IPs given to the tracer
 * (the fake's testNodeIPs; loopback is not in that list).</li>
 * <li>{@code jump mark-for-masquerade} only sets the masquerade flag. Other {@code jump X}/{@code goto X} run chain X;
 * if X ended in a verdict, so does this chain; after a {@code goto} that did not, this chain returns (its caller goes
 * on). {@code return} returns.</li>
 * <li>{@code numgen random mod N vmap { 0 : goto A , 1 : goto B }} runs every endpoint chain in order, collecting every
 * DNAT, and then ends the chain. The flat layout's cascade ({@code numgen random mod N 0 goto A}, ..., {@code goto Z})
 * runs A and goes on with the next rule, so that every endpoint is collected.</li>
 * <li>{@code drop}/{@code reject} output "DROP"/"REJECT" and end the trace of that chain; {@code meta l4proto P dnat to
 * D} outputs D and ends it.</li>
 * <li>Anything else is an "unmatched rule" error, an unknown chain an "unknown chain" error, a bad address in a rule a
 * "Bad IP/CIDR in kube-proxy output" error (these fail upstream's test but the trace goes on); a bad address in the
 * test case itself ends the trace ("Bad IP in test case", t.Fatalf upstream). A lookup in a missing set or map, or an
 * element with too short a key, ends the trace too (a Go panic upstream).</li>
 * </ul>
 * The trace runs {@code filter-prerouting-pre-dnat} (if it ends in a verdict, that is the result), then
 * {@code nat-prerouting}; the first output's host (net.SplitHostPort) becomes the destination; then
 * {@code filter-forward} (a verdict ends the trace) and {@code filter-input}. {@code filter-output*},
 * {@code nat-output} and {@code nat-postrouting} are not traced.
 *
 * <p>The pre-DNAT chain name is this tool's one assumption beyond the upstream file it ports: the helpers_test.go
 * available here (commit 803d40a5) still traces the older layout's {@code filter-prerouting}, which the newest rules
 * (proxier_test.go at 81810de6) no longer have. See src/test/resources/kubeproxy-nftables-compat/README.md.
 */
public final class KubeProxyNftTracer {

    /** The first chain traced; in the older layout this was "filter-prerouting". */
    public static final String PRE_DNAT_CHAIN = "filter-prerouting-pre-dnat";
    static final String MARK_MASQ_CHAIN = "mark-for-masquerade";

    /** One traced packet: the rules that matched (for debugging), the output, the masquerade flag, and errors. */
    public record Result(List<String> matches, List<String> outputs, boolean masq, List<String> errors) {
        /** The outputs joined with ", " (empty if nothing matched), as tracePacket returns them. */
        public String output() {
            return String.join(", ", outputs);
        }
    }

    /** One packetFlowTest. An empty protocol means tcp; the port is a number. */
    public record Flow(String name, String sourceIp, String protocol, String destIp, int destPort, String output,
            boolean masq) {
    }

    // Go's \S is [^\t\n\f\r ] and \d is [0-9]; Java's \S also excludes \x0B, so spell Go's classes out.
    private static final String S = "[^\\t\\n\\f\\r ]";
    private static final Pattern DEST_ADDR = Pattern.compile("^ip6* daddr (!= )?(" + S + "+)");
    private static final Pattern DEST_ADDR_LOOKUP = Pattern.compile("^ip6* daddr (!= )?\\{([^}]*)\\}");
    private static final Pattern DEST_ADDR_LOCAL = Pattern.compile("^fib daddr type local");
    private static final Pattern DEST_PORT = Pattern.compile("^(tcp|udp|sctp) dport ([0-9]+)");
    private static final Pattern DEST_IP_ONLY_LOOKUP = Pattern.compile("^ip6* daddr @(" + S + "+)");
    private static final Pattern DEST_LOOKUP = Pattern.compile("^ip6* daddr \\. meta l4proto \\. th dport @(" + S + "+)");
    private static final Pattern DEST_SOURCE_LOOKUP = Pattern.compile(
            "^ip6* daddr \\. meta l4proto \\. th dport \\. ip6* saddr @(" + S + "+)");
    private static final Pattern DEST_PORT_LOOKUP = Pattern.compile("^meta l4proto \\. th dport @(" + S + "+)");
    private static final Pattern DEST_DISPATCH = Pattern.compile(
            "^ip6* daddr \\. meta l4proto \\. th dport vmap @(" + S + "+)\\z");
    private static final Pattern DEST_PORT_DISPATCH = Pattern.compile("^meta l4proto \\. th dport vmap @(" + S + "+)\\z");
    private static final Pattern SOURCE_ADDR = Pattern.compile("^ip6* saddr (!= )?(" + S + "+)");
    private static final Pattern SOURCE_ADDR_LOOKUP = Pattern.compile("^ip6* saddr (!= )?\\{([^}]*)\\}");
    private static final Pattern SOURCE_ADDR_LOCAL = Pattern.compile("^fib saddr type local");
    private static final Pattern ENDPOINT_VMAP = Pattern.compile("^numgen random mod [0-9]+ vmap \\{(.*)\\}\\z");
    private static final Pattern ENDPOINT_CASCADE = Pattern.compile("^numgen random mod [0-9]+ 0 goto (" + S + "+)\\z");
    private static final Pattern ENDPOINT_VMAP_ENTRY = Pattern.compile("[0-9]+ : goto (" + S + "+)");
    private static final Pattern MASQUERADE = Pattern.compile("^jump " + MARK_MASQ_CHAIN + "\\z");
    /** The flat layout sets the mark in place instead of jumping to mark-for-masquerade: the same flag. */
    private static final Pattern MASQUERADE_IN_PLACE = Pattern.compile("^mark set mark or " + S + "+\\z");
    /**
     * The flat layout's endpoint dispatch: every element of the endpoint map with a key from OFFSET to OFFSET+N-1
     * is a branch.
     */
    private static final Pattern DNAT_MAP = Pattern.compile("^meta l4proto (tcp|udp|sctp) dnat ip6? addr \\. port to "
            + "numgen random mod ([0-9]+)(?: offset ([0-9]+))? map @(" + S + "+)\\z");
    /** The flat layout's hairpin rule in nat-postrouting: masquerade when (source . new destination) is in the set. */
    private static final Pattern HAIRPIN = Pattern.compile(
            "^ct status dnat ip6? saddr \\. ip6? daddr @(" + S + "+) mark set mark or " + S + "+\\z");
    private static final Pattern JUMP = Pattern.compile("^(jump|goto) (" + S + "+)\\z");
    private static final Pattern RETURN = Pattern.compile("^return\\z");
    private static final Pattern VERDICT = Pattern.compile("^(drop|reject)\\z");
    private static final Pattern DNAT = Pattern.compile("^meta l4proto (tcp|udp|sctp) dnat to (" + S + "+)\\z");
    private static final Pattern IGNORED = Pattern.compile(" *comment \"[^\"]*\"\\z|^ct state new");

    /** Ends a trace where upstream calls t.Fatalf or panics. */
    private static final class Abort extends RuntimeException {
        Abort(String message) {
            super(message, null, false, false);
        }
    }

    private final NftFakeTable table;
    private final Set<String> nodeIps;
    private final List<String> matches = new ArrayList<>();
    private final List<String> outputs = new ArrayList<>();
    private final List<String> errors = new ArrayList<>();
    private boolean markMasq;
    private int depth;

    private KubeProxyNftTracer(NftFakeTable table, Collection<String> nodeIps) {
        this.table = table;
        this.nodeIps = new LinkedHashSet<>(nodeIps);
    }

    /**
     * {@code tracePacket}: what happens to a new connection from sourceIp to destIp:destPort ({@code protocol} in
     * lower case, as in nftables rules). {@code nodeIps} are the addresses "fib ... type local" treats as local.
     */
    public static Result trace(NftFakeTable table, Collection<String> nodeIps, String sourceIp, String protocol,
            String destIp, String destPort) {
        KubeProxyNftTracer tracer = new KubeProxyNftTracer(table, nodeIps);
        try {
            tracer.tracePacket(sourceIp, protocol, destIp, destPort);
        } catch (Abort e) {
            tracer.errors.add(e.getMessage());
        }
        return new Result(List.copyOf(tracer.matches), List.copyOf(tracer.outputs), tracer.markMasq,
                List.copyOf(tracer.errors));
    }

    /**
     * {@code runPacketFlowTests}: traces each flow (protocol lower-cased, "" meaning tcp) and returns one message per
     * flow whose output or masquerade flag differs, or whose trace logged an error; empty if all pass.
     */
    public static List<String> runPacketFlowTests(NftFakeTable table, Collection<String> nodeIps, List<Flow> flows) {
        List<String> failures = new ArrayList<>();
        for (Flow flow : flows) {
            String protocol = flow.protocol().toLowerCase(java.util.Locale.ROOT);
            if (protocol.isEmpty()) {
                protocol = "tcp";
            }
            Result result = trace(table, nodeIps, flow.sourceIp(), protocol, flow.destIp(),
                    Integer.toString(flow.destPort()));
            List<String> problems = new ArrayList<>(result.errors());
            if (!result.output().equals(flow.output())) {
                problems.add(String.format("wrong output: expected \"%s\" got \"%s\"", flow.output(), result.output()));
            }
            if (result.masq() != flow.masq()) {
                problems.add(String.format("wrong masq: expected %s got %s", flow.masq(), result.masq()));
            }
            if (!problems.isEmpty()) {
                failures.add(String.format("Test \"%s\" of a packet from %s to %s:%d got result:%n%s%n%nBy matching:%n%s%n",
                        flow.name(), flow.sourceIp(), flow.destIp(), flow.destPort(), String.join("\n", problems),
                        String.join("\n", result.matches())));
            }
        }
        return failures;
    }

    private void tracePacket(String sourceIp, String protocol, String destIp, String destPort) {
        if (runChain(PRE_DNAT_CHAIN, sourceIp, protocol, destIp, destPort)) {
            return;
        }
        runChain("nat-prerouting", sourceIp, protocol, destIp, destPort);
        markHairpin(sourceIp);
        // Pending DNATs happen after prerouting, and change the destination the later chains see.
        if (!outputs.isEmpty()) {
            destIp = splitHostPortHost(outputs.get(0));
        }
        if (runChain("filter-forward", sourceIp, protocol, destIp, destPort)) {
            return;
        }
        runChain("filter-input", sourceIp, protocol, destIp, destPort);
    }

    /**
     * The flat layout marks hairpin traffic in nat-postrouting rather than in each endpoint's chain: evaluated
     * over every DNAT branch, as kube-proxy's tracer runs every endpoint chain.
     */
    private void markHairpin(String sourceIp) {
        NftFakeTable.Chain postrouting = table.chain("nat-postrouting");
        if (postrouting == null) {
            return;
        }
        for (NftFakeTable.Rule rule : postrouting.rules()) {
            Matcher m = HAIRPIN.matcher(rule.rule());
            if (!m.find()) {
                continue;
            }
            for (String output : outputs) {
                if (output.indexOf(':') < 0) {
                    continue; // a verdict, not a DNAT target
                }
                String target = splitHostPortHost(output);
                for (NftFakeTable.Element element : set(m.group(1)).elements()) {
                    if (element.key().size() == 2 && element.key().get(0).equals(sourceIp)
                            && element.key().get(1).equals(target)) {
                        matches.add(rule.rule());
                        markMasq = true;
                    }
                }
            }
        }
    }

    /** net.SplitHostPort's host, or "" with an error logged (Go returns "" on error). */
    private String splitHostPortHost(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        String problem = null;
        String host = "";
        if (colon < 0) {
            problem = "missing port in address";
        } else if (hostPort.startsWith("[")) {
            int end = hostPort.indexOf(']');
            if (end < 0) {
                problem = "missing ']' in address";
            } else if (end + 1 != colon) {
                problem = end + 1 == hostPort.length() ? "missing port in address" : "too many colons in address";
            } else {
                host = hostPort.substring(1, end);
            }
        } else {
            host = hostPort.substring(0, colon);
            if (host.indexOf(':') >= 0) {
                problem = "too many colons in address";
                host = "";
            }
        }
        if (problem != null) {
            errors.add(String.format("failed to parse host port '%s': address %s: %s", hostPort, hostPort, problem));
            return "";
        }
        return host;
    }

    /** Runs the packet through one chain; true if a terminal verdict (drop, reject, dnat, endpoint vmap) ended it. */
    private boolean runChain(String chainName, String sourceIp, String protocol, String destIp, String destPort) {
        NftFakeTable.Chain chain = table.chain(chainName);
        if (chain == null) {
            errors.add("unknown chain \"" + chainName + "\"");
            return true;
        }
        if (++depth > 100) {
            throw new Abort("jump loop through chain \"" + chainName + "\"");
        }
        try {
            for (NftFakeTable.Rule ruleObj : chain.rules()) {
                String rule = IGNORED.matcher(ruleObj.rule()).replaceAll("");
                while (!rule.isEmpty()) {
                    rule = trimLeftSpaces(rule);
                    Matcher m;
                    if ((m = DEST_IP_ONLY_LOOKUP.matcher(rule)).find()) {
                        rule = rule.substring(m.end());
                        if (matchDestIpOnly(set(m.group(1)), destIp) == null) {
                            rule = "";
                        }
                    } else if ((m = DEST_SOURCE_LOOKUP.matcher(rule)).find()) {
                        rule = rule.substring(m.end());
                        if (matchDestAndSource(set(m.group(1)), destIp, protocol, destPort, sourceIp) == null) {
                            rule = "";
                        }
                    } else if ((m = DEST_LOOKUP.matcher(rule)).find()) {
                        rule = rule.substring(m.end());
                        if (matchDest(set(m.group(1)), destIp, protocol, destPort) == null) {
                            rule = "";
                        }
                    } else if ((m = DEST_PORT_LOOKUP.matcher(rule)).find()) {
                        rule = rule.substring(m.end());
                        if (matchDestPort(set(m.group(1)), protocol, destPort) == null) {
                            rule = "";
                        }
                    } else if ((m = DEST_DISPATCH.matcher(rule)).find()) {
                        NftFakeTable.Element element = matchDest(map(m.group(1)), destIp, protocol, destPort);
                        rule = element == null ? "" : element.value().get(0);
                    } else if ((m = DEST_PORT_DISPATCH.matcher(rule)).find()) {
                        NftFakeTable.Element element = matchDestPort(map(m.group(1)), protocol, destPort);
                        rule = element == null ? "" : element.value().get(0);
                    } else if ((m = DEST_ADDR_LOOKUP.matcher(rule)).find()) {
                        rule = rule.substring(m.end());
                        if (!addressMatchesSet(destIp, m.group(1) == null, m.group(2))) {
                            rule = "";
                        }
                    } else if ((m = DEST_ADDR.matcher(rule)).find()) {
                        rule = rule.substring(m.end());
                        if (!addressMatches(destIp, m.group(1) == null, m.group(2))) {
                            rule = "";
                        }
                    } else if ((m = DEST_ADDR_LOCAL.matcher(rule)).find()) {
                        rule = rule.substring(m.end());
                        if (!nodeIps.contains(destIp)) {
                            rule = "";
                        }
                    } else if ((m = DEST_PORT.matcher(rule)).find()) {
                        rule = rule.substring(m.end());
                        if (!protocol.equals(m.group(1)) || !destPort.equals(m.group(2))) {
                            rule = "";
                        }
                    } else if ((m = SOURCE_ADDR_LOOKUP.matcher(rule)).find()) {
                        rule = rule.substring(m.end());
                        if (!addressMatchesSet(sourceIp, m.group(1) == null, m.group(2))) {
                            rule = "";
                        }
                    } else if ((m = SOURCE_ADDR.matcher(rule)).find()) {
                        rule = rule.substring(m.end());
                        if (!addressMatches(sourceIp, m.group(1) == null, m.group(2))) {
                            rule = "";
                        }
                    } else if ((m = SOURCE_ADDR_LOCAL.matcher(rule)).find()) {
                        rule = rule.substring(m.end());
                        if (!nodeIps.contains(sourceIp)) {
                            rule = "";
                        }
                    } else if ((m = MASQUERADE_IN_PLACE.matcher(rule)).find()) {
                        rule = "";
                        matches.add(ruleObj.rule());
                        markMasq = true;
                    } else if ((m = DNAT_MAP.matcher(rule)).find()) {
                        matches.add(ruleObj.rule());
                        long modulus = Long.parseLong(m.group(2));
                        long offset = m.group(3) == null ? 0 : Long.parseLong(m.group(3));
                        List<NftFakeTable.Element> branches = new ArrayList<>(map(m.group(4)).elements());
                        branches.removeIf(e -> Long.parseLong(e.key().get(0)) < offset
                                || Long.parseLong(e.key().get(0)) >= offset + modulus);
                        branches.sort(java.util.Comparator.comparingLong(e -> Long.parseLong(e.key().get(0))));
                        if (branches.size() != modulus) {
                            throw new IllegalStateException("numgen mod " + modulus + " offset " + offset
                                    + " has " + branches.size() + " branches in " + m.group(4));
                        }
                        for (NftFakeTable.Element element : branches) {
                            String address = element.value().get(0);
                            outputs.add((address.indexOf(':') >= 0 ? "[" + address + "]" : address) + ":"
                                    + element.value().get(1));
                        }
                        return true;
                    } else if ((m = MASQUERADE.matcher(rule)).find()) {
                        // The jump itself counts as the mark; mark-for-masquerade and masquerading are not traced.
                        rule = "";
                        matches.add(ruleObj.rule());
                        markMasq = true;
                    } else if ((m = JUMP.matcher(rule)).find()) {
                        rule = "";
                        matches.add(ruleObj.rule());
                        boolean terminated = runChain(m.group(2), sourceIp, protocol, destIp, destPort);
                        if (terminated) {
                            return true;
                        } else if (m.group(1).equals("goto")) {
                            // after a goto that did not end in a verdict, go back to our caller, not on in this chain
                            return false;
                        }
                    } else if ((m = VERDICT.matcher(rule)).find()) {
                        matches.add(ruleObj.rule());
                        outputs.add(m.group(1).toUpperCase(java.util.Locale.ROOT));
                        return true;
                    } else if (RETURN.matcher(rule).find()) {
                        matches.add(ruleObj.rule());
                        return false;
                    } else if ((m = DNAT.matcher(rule)).find()) {
                        matches.add(ruleObj.rule());
                        outputs.add(m.group(2));
                        return true;
                    } else if ((m = ENDPOINT_CASCADE.matcher(rule)).find()) {
                        // the flat layout's random cascade: run each endpoint's chain to collect it, then go on
                        matches.add(ruleObj.rule());
                        runChain(m.group(1), sourceIp, protocol, destIp, destPort);
                        rule = "";
                    } else if ((m = ENDPOINT_VMAP.matcher(rule)).find()) {
                        Matcher entry = ENDPOINT_VMAP_ENTRY.matcher(m.group(1));
                        while (entry.find()) {
                            matches.add(ruleObj.rule());
                            // every endpoint's chain ends in a dnat; run them all to collect every endpoint
                            runChain(entry.group(1), sourceIp, protocol, destIp, destPort);
                        }
                        return true;
                    } else {
                        errors.add("unmatched rule: " + ruleObj.rule());
                        rule = "";
                    }
                }
            }
            return false;
        } finally {
            depth--;
        }
    }

    private NftFakeTable.Container set(String name) {
        NftFakeTable.Container set = table.set(name);
        if (set == null) {
            throw new Abort("no set \"" + name + "\" (nil pointer dereference upstream)");
        }
        return set;
    }

    private NftFakeTable.Container map(String name) {
        NftFakeTable.Container map = table.map(name);
        if (map == null) {
            throw new Abort("no map \"" + name + "\" (nil pointer dereference upstream)");
        }
        return map;
    }

    private static String key(NftFakeTable.Element element, int i) {
        if (element.key().size() <= i) {
            throw new Abort("element key " + element.key() + " has no field " + i + " (index out of range upstream)");
        }
        return element.key().get(i);
    }

    private NftFakeTable.Element matchDestIpOnly(NftFakeTable.Container set, String destIp) {
        for (NftFakeTable.Element element : set.elements()) {
            if (key(element, 0).equals(destIp)) {
                return element;
            }
        }
        return null;
    }

    private NftFakeTable.Element matchDest(NftFakeTable.Container container, String destIp, String protocol,
            String destPort) {
        for (NftFakeTable.Element element : container.elements()) {
            if (key(element, 0).equals(destIp) && key(element, 1).equals(protocol) && key(element, 2).equals(destPort)) {
                return element;
            }
        }
        return null;
    }

    private NftFakeTable.Element matchDestAndSource(NftFakeTable.Container set, String destIp, String protocol,
            String destPort, String sourceIp) {
        for (NftFakeTable.Element element : set.elements()) {
            if (key(element, 0).equals(destIp) && key(element, 1).equals(protocol) && key(element, 2).equals(destPort)
                    && addressMatches(sourceIp, true, key(element, 3))) {
                return element;
            }
        }
        return null;
    }

    private NftFakeTable.Element matchDestPort(NftFakeTable.Container container, String protocol, String destPort) {
        for (NftFakeTable.Element element : container.elements()) {
            if (key(element, 0).equals(protocol) && key(element, 1).equals(destPort)) {
                return element;
            }
        }
        return null;
    }

    /** upstream addressMatchesSet: spaces removed, split at ","; every member must match as wanted. */
    private boolean addressMatchesSet(String ip, boolean wantMatch, String ruleAddresses) {
        for (String address : ruleAddresses.replace(" ", "").split(",", -1)) {
            boolean match = addressMatches(ip, true, address);
            if (match != wantMatch) {
                return false;
            }
        }
        return true;
    }

    private boolean addressMatches(String ipText, boolean wantMatch, String ruleAddress) {
        IPAddress ip = parseIp(ipText);
        if (ip == null) {
            throw new Abort("Bad IP in test case: " + ipText);
        }
        boolean match = false;
        if (ruleAddress.contains("/")) {
            IPAddress cidr = parseCidr(ruleAddress);
            if (cidr == null) {
                errors.add("Bad CIDR in kube-proxy output: " + ruleAddress);
                // a nil *IPNet panics on Contains upstream
                throw new Abort("nil CIDR " + ruleAddress + " (nil pointer dereference upstream)");
            }
            match = cidr.getIPVersion() == ip.getIPVersion() && cidr.contains(ip);
        } else {
            IPAddress other = parseIp(ruleAddress);
            if (other == null) {
                errors.add("Bad IP/CIDR in kube-proxy output: " + ruleAddress);
            } else {
                match = other.getIPVersion() == ip.getIPVersion() && other.equals(ip);
            }
        }
        return match == wantMatch;
    }

    /** netutils.ParseIPSloppy, as far as kube-proxy's test addresses need: an address, or null. */
    private static IPAddress parseIp(String text) {
        try {
            return IpAddresses.parse(text).withoutPrefixLength();
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static IPAddress parseCidr(String text) {
        try {
            return IpAddresses.parseCidr(text);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static String trimLeftSpaces(String s) {
        int i = 0;
        while (i < s.length() && s.charAt(i) == ' ') {
            i++;
        }
        return s.substring(i);
    }
}
