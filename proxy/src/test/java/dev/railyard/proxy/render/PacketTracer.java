package dev.railyard.proxy.render;

import dev.railyard.proxy.model.IpAddresses;
import inet.ipaddr.IPAddress;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Java port of kube-proxy's packet-flow tracer ({@code tracePacket} / {@code iptablesTracer} in
 * pkg/proxy/iptables/proxier_test.go, with the rule parsing of pkg/util/iptables/testing/parse.go), as described in
 * src/test/resources/kubeproxy-compat/README.md, section "Packet-flow tests".
 *
 * <p>It parses iptables-restore text into tables, chains and rules, then runs a packet (source IP, protocol,
 * destination IP, destination port) through nat {@code PREROUTING} (which, as in kube-proxy's fake iptables, jumps to
 * nat {@code KUBE-SERVICES}) and then through the filter chains {@code KUBE-SERVICES}, {@code KUBE-EXTERNAL-SERVICES},
 * {@code KUBE-NODEPORTS} and {@code KUBE-PROXY-FIREWALL}, each separately.
 */
final class PacketTracer {

    /** What happened to a packet. */
    record Result(List<String> outputs, boolean masq, List<String> matchedRules) {
        /** The outputs joined with ", " (empty if nothing matched), as kube-proxy's test compares them. */
        String output() {
            return String.join(", ", outputs);
        }

        @Override
        public String toString() {
            return "output=[" + output() + "] masq=" + masq;
        }
    }

    /** A parameter of a rule, possibly negated with a preceding "!". */
    record Value(boolean negated, String value) {
        boolean matches(String other) {
            return negated != value.equals(other);
        }
    }

    /**
     * One parsed "-A" line. Like kube-proxy's {@code iptablestest.Rule}, only the parameters the tracer looks at are
     * kept; "-m MODULE" is skipped and unknown parameters are ignored.
     */
    static final class Rule {
        final String raw;
        final String chain;
        Value protocol;
        Value sourceAddress;
        Value sourceType;
        Value destinationAddress;
        Value destinationType;
        Value destinationPort;
        Value jump;
        Value probability;
        Value dnatDestination;
        /**
         * {@code --rcheck} (the session-affinity check of {@code -m recent}; {@code -m recent --set} in a DNAT rule is
         * not a check), {@code --mark} and {@code --ctstate}: checks of past state, which never match.
         */
        boolean affinityCheck;
        boolean markCheck;
        boolean ctStateCheck;

        private Rule(String raw, String chain) {
            this.raw = raw;
            this.chain = chain;
        }

        @Override
        public String toString() {
            return raw;
        }
    }

    /** Tables by name, each with its chains (by name, in declaration order) and their rules in order. */
    private final Map<String, Map<String, List<Rule>>> tables;
    private final Set<String> localIps;

    // state of one trace
    private final List<String> outputs = new ArrayList<>();
    private final List<String> matches = new ArrayList<>();
    private boolean markMasq;
    private int depth;

    private PacketTracer(Map<String, Map<String, List<Rule>>> tables, Set<String> localIps) {
        this.tables = tables;
        this.localIps = localIps;
    }

    /** The addresses {@code -m addrtype --src-type/--dst-type LOCAL} treats as local in kube-proxy's tracer. */
    static Set<String> localIps(Collection<String> nodeInterfaceAddresses) {
        Set<String> local = new LinkedHashSet<>();
        local.add("127.0.0.1");
        local.add("::1");
        for (String address : nodeInterfaceAddresses) {
            int slash = address.indexOf('/');
            local.add(slash < 0 ? address : address.substring(0, slash));
        }
        return local;
    }

    /**
     * Runs one packet through {@code rules} (iptables-restore text with filter and nat tables). kube-proxy's fake
     * iptables state holds the base-chain jump nat {@code PREROUTING -j KUBE-SERVICES}; if the text has no nat
     * {@code PREROUTING} chain, that jump is added.
     */
    static Result trace(String rules, Collection<String> localIps, String sourceIp, String protocol, String destIp,
            String destPort) {
        Map<String, Map<String, List<Rule>>> tables = parse(rules);
        Map<String, List<Rule>> nat = tables.computeIfAbsent("nat", t -> new LinkedHashMap<>());
        if (!nat.containsKey("PREROUTING")) {
            List<Rule> prerouting = new ArrayList<>();
            prerouting.add(parseRule("-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"));
            nat.put("PREROUTING", prerouting);
        }
        PacketTracer tracer = new PacketTracer(tables, new LinkedHashSet<>(localIps));
        return tracer.run(sourceIp, protocol == null || protocol.isEmpty() ? "tcp" : protocol.toLowerCase(), destIp,
                destPort);
    }

    private Result run(String sourceIp, String protocol, String destIp, String destPort) {
        runChain("nat", "PREROUTING", sourceIp, protocol, destIp, destPort);

        // After PREROUTING, the pending DNAT changes the destination the filter rules see.
        if (!outputs.isEmpty()) {
            destIp = outputs.get(0).split(":", -1)[0];
        }

        runChain("filter", "KUBE-SERVICES", sourceIp, protocol, destIp, destPort);
        runChain("filter", "KUBE-EXTERNAL-SERVICES", sourceIp, protocol, destIp, destPort);
        runChain("filter", "KUBE-NODEPORTS", sourceIp, protocol, destIp, destPort);
        runChain("filter", "KUBE-PROXY-FIREWALL", sourceIp, protocol, destIp, destPort);

        return new Result(List.copyOf(outputs), markMasq, List.copyOf(matches));
    }

    /** Returns true if the chain ended in a terminal target (ACCEPT, REJECT, DROP, DNAT). */
    private boolean runChain(String table, String chain, String sourceIp, String protocol, String destIp,
            String destPort) {
        Map<String, List<Rule>> chains = tables.get(table);
        List<Rule> rules = chains == null ? null : chains.get(chain);
        if (rules == null) {
            return false;
        }
        if (++depth > 100) {
            throw new IllegalStateException("jump loop through " + table + " " + chain);
        }
        try {
            for (Rule rule : rules) {
                if (rule.jump == null) {
                    continue;
                }
                if (!ruleMatches(rule, sourceIp, protocol, destIp, destPort)) {
                    continue;
                }
                matches.add(rule.raw);

                switch (rule.jump.value()) {
                    case "KUBE-MARK-MASQ":
                        markMasq = true;
                        continue;
                    case "ACCEPT", "REJECT", "DROP":
                        outputs.add(rule.jump.value());
                        return true;
                    case "DNAT":
                        if (rule.dnatDestination == null) {
                            throw new IllegalStateException("DNAT rule without --to-destination: " + rule.raw);
                        }
                        outputs.add(rule.dnatDestination.value());
                        return true;
                    default:
                        boolean terminated = runChain(table, rule.jump.value(), sourceIp, protocol, destIp, destPort);
                        // A terminal sub-chain ends this chain too, unless we got there through a --probability
                        // rule: then further endpoints are collected.
                        if (terminated && rule.probability == null) {
                            return true;
                        }
                }
            }
            return false;
        } finally {
            depth--;
        }
    }

    private boolean ruleMatches(Rule rule, String sourceIp, String protocol, String destIp, String destPort) {
        if (rule.sourceAddress != null && !addressMatches(sourceIp, rule.sourceAddress)) {
            return false;
        }
        if (rule.sourceType != null && !rule.sourceType.matches(localIps.contains(sourceIp) ? "LOCAL" : "not-matched")) {
            return false;
        }
        if (rule.protocol != null && !rule.protocol.matches(protocol)) {
            return false;
        }
        if (rule.destinationAddress != null && !addressMatches(destIp, rule.destinationAddress)) {
            return false;
        }
        if (rule.destinationType != null
                && !rule.destinationType.matches(localIps.contains(destIp) ? "LOCAL" : "not-matched")) {
            return false;
        }
        if (rule.destinationPort != null && !rule.destinationPort.matches(destPort)) {
            return false;
        }
        // Any rule that checks past state or history does not match.
        if (rule.affinityCheck || rule.markCheck || rule.ctStateCheck) {
            return false;
        }
        return true;
    }

    private static boolean addressMatches(String ipText, Value ruleAddress) {
        IPAddress ip;
        try {
            ip = IpAddresses.parse(ipText);
        } catch (IllegalArgumentException e) {
            // kube-proxy's tracer: t.Fatalf("Bad IP in test case: %s", ipStr)
            throw new IllegalArgumentException("Bad IP in test case: " + ipText, e);
        }
        boolean match;
        if (ruleAddress.value().contains("/")) {
            IPAddress cidr = IpAddresses.parseCidr(ruleAddress.value());
            match = cidr.getIPVersion() == ip.getIPVersion() && cidr.contains(ip);
        } else {
            IPAddress other = IpAddresses.parse(ruleAddress.value());
            match = other.getIPVersion() == ip.getIPVersion()
                    && Objects.equals(other.withoutPrefixLength(), ip.withoutPrefixLength());
        }
        return match != ruleAddress.negated();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Parsing (iptablestest.ParseIPTablesDump / ParseRule)

    private static final Pattern DECLARE_CHAIN = Pattern.compile("^:([^ ]*) - \\[([0-9]*):([0-9]*)\\]$");
    private static final Pattern ADD_RULE = Pattern.compile("^-A ([^ ]*) (.*)$");
    private static final Pattern DELETE_CHAIN = Pattern.compile("^-X (.*)$");
    /** A single word or a double-quoted string, at the start or preceded by whitespace. */
    private static final Pattern WORD = Pattern.compile("(?:^|\\s)(\"[^\"]*\"|[^\"]\\S*)");

    /** Parses iptables-restore text: table name → chain name → rules in order. */
    static Map<String, Map<String, List<Rule>>> parse(String data) {
        Map<String, Map<String, List<Rule>>> tables = new LinkedHashMap<>();
        Map<String, List<Rule>> table = null;
        String tableName = null;
        boolean inTable = false;
        for (String rawLine : data.split("\n")) {
            String line = rawLine.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (!inTable) {
                if (!line.startsWith("*")) {
                    throw new IllegalArgumentException("expected a table declaration, got: " + line);
                }
                tableName = line.substring(1);
                table = tables.computeIfAbsent(tableName, t -> new LinkedHashMap<>());
                inTable = true;
                continue;
            }
            Matcher m;
            if ((m = DECLARE_CHAIN.matcher(line)).matches()) {
                table.putIfAbsent(m.group(1), new ArrayList<>());
            } else if ((m = ADD_RULE.matcher(line)).matches()) {
                List<Rule> rules = table.get(m.group(1));
                if (rules == null) {
                    throw new IllegalArgumentException("rule for undeclared chain " + m.group(1) + " in table "
                            + tableName + ": " + line);
                }
                rules.add(parseRule(line));
            } else if (DELETE_CHAIN.matcher(line).matches()) {
                // a deleted chain has no rules; nothing to trace
                continue;
            } else if (line.equals("COMMIT")) {
                inTable = false;
            } else {
                throw new IllegalArgumentException("cannot parse line: " + line);
            }
        }
        if (inTable) {
            throw new IllegalArgumentException("no COMMIT line at the end of table " + tableName);
        }
        return tables;
    }

    /** Splits a rule into words; a double-quoted string is one word (without its quotes). */
    static List<String> words(String rule) {
        List<String> words = new ArrayList<>();
        Matcher m = WORD.matcher(rule);
        while (m.find()) {
            String word = m.group(1);
            // strings.Trim(word, `"`)
            int start = 0;
            int end = word.length();
            while (start < end && word.charAt(start) == '"') {
                start++;
            }
            while (end > start && word.charAt(end - 1) == '"') {
                end--;
            }
            words.add(word.substring(start, end));
        }
        return words;
    }

    static Rule parseRule(String line) {
        List<String> words = words(line);
        if (words.size() < 2 || !words.get(0).equals("-A")) {
            throw new IllegalArgumentException("bad iptables rule (does not start with \"-A CHAIN\"): " + line);
        }
        if (words.size() < 3) {
            throw new IllegalArgumentException("bad iptables rule (no match rules): " + line);
        }
        Rule rule = new Rule(line, words.get(1));
        boolean negated = false;
        int w = 2;
        while (w < words.size()) {
            String word = words.get(w);
            if (word.equals("-m") && w < words.size() - 1) {
                w += 2;
                continue;
            }
            if (word.equals("!")) {
                negated = true;
                w++;
                continue;
            }
            Param param = PARAMS.get(word);
            if (param == null) {
                w++; // unrecognised: skipped
            } else {
                if (negated && !param.negatable) {
                    throw new IllegalArgumentException("cannot negate parameter " + word + ": " + line);
                }
                if (param.flag) {
                    // kube-proxy stores a flag as a *bool: present (even if negated) means non-nil
                    param.setFlag(rule);
                    w++;
                } else {
                    if (w == words.size() - 1) {
                        throw new IllegalArgumentException("parameter " + word + " requires an argument: " + line);
                    }
                    param.set(rule, new Value(negated, words.get(w + 1)));
                    w += 2;
                }
            }
            negated = false;
        }
        return rule;
    }

    private interface Setter {
        void set(Rule rule, Value value);
    }

    private record Param(boolean negatable, boolean flag, Setter setter) {
        void set(Rule rule, Value value) {
            setter.set(rule, value);
        }

        void setFlag(Rule rule) {
            setter.set(rule, new Value(false, "true"));
        }
    }

    /** The parameters of iptablestest.Rule (its {@code param} and {@code negatable} struct tags). */
    private static final Map<String, Param> PARAMS = new LinkedHashMap<>();

    static {
        Setter ignore = (r, v) -> { };
        PARAMS.put("--comment", new Param(false, false, ignore));
        PARAMS.put("-p", new Param(true, false, (r, v) -> r.protocol = v));
        PARAMS.put("-s", new Param(true, false, (r, v) -> r.sourceAddress = v));
        PARAMS.put("--src-type", new Param(true, false, (r, v) -> r.sourceType = v));
        PARAMS.put("--sport", new Param(true, false, ignore));
        PARAMS.put("-d", new Param(true, false, (r, v) -> r.destinationAddress = v));
        PARAMS.put("--dst-type", new Param(true, false, (r, v) -> r.destinationType = v));
        PARAMS.put("--dport", new Param(true, false, (r, v) -> r.destinationPort = v));
        PARAMS.put("--match-set", new Param(true, false, ignore));
        PARAMS.put("-j", new Param(false, false, (r, v) -> r.jump = v));
        PARAMS.put("--random-fully", new Param(false, true, ignore));
        PARAMS.put("--probability", new Param(false, false, (r, v) -> r.probability = v));
        PARAMS.put("--to-destination", new Param(false, false, (r, v) -> r.dnatDestination = v));
        // The tracer only asks whether these are present (non-nil), negated or not.
        PARAMS.put("--rcheck", new Param(true, true, (r, v) -> r.affinityCheck = true));
        PARAMS.put("--mark", new Param(true, false, (r, v) -> r.markCheck = true));
        PARAMS.put("--ctstate", new Param(true, false, (r, v) -> r.ctStateCheck = true));
        PARAMS.put("--name", new Param(false, false, ignore));
        PARAMS.put("--seconds", new Param(false, false, ignore));
        PARAMS.put("--set", new Param(true, true, ignore));
        PARAMS.put("--reap", new Param(false, true, ignore));
        PARAMS.put("--mode", new Param(false, false, ignore));
    }
}
