package dev.railyard.proxy.inspect;

import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.IpFamily;
import inet.ipaddr.IPAddress;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Compares two rulesets by what they do, not how they are written: for every frontend either serves, the same
 * packets are traced through both (from an outside client, from inside and outside every source CIDR the rules
 * test, and from the node itself; node ports on each node address and on loopback), and what happens to them is
 * compared: the verdict, the endpoints with their probabilities, masquerading, and session affinity.
 */
public final class RulesetDiff {
    /** Probabilities closer than this are equal: kube-proxy writes 10 decimals, the kernel keeps 31 bits. */
    static final double TOLERANCE = 1e-6;

    private static final List<String> CLIENTS_V4 = List.of("203.0.113.200", "198.51.100.200", "192.0.2.200",
            "100.64.200.200", "172.31.200.200", "11.22.33.44");
    private static final List<String> CLIENTS_V6 = List.of("2001:db8:ffff::200", "2001:db8:eeee::200",
            "fd99:200::200", "2600:200::200");

    private RulesetDiff() {
    }

    /**
     * @param family      which family's frontends to compare
     * @param clusterCidr the pod network, which labels probes from inside it as pod traffic; null when unknown
     */
    public record Settings(IpFamily family, String clusterCidr) {
        public Settings {
            Objects.requireNonNull(family, "family");
        }
    }

    /** One packet sent to a frontend, and how the report names it. */
    public record Probe(String description, Packet packet) {
    }

    /** One aspect on which the two rulesets treat a probe differently. */
    public record Difference(String probe, String aspect, String a, String b) {
    }

    /** One frontend: whether each ruleset has rules for it, how many probes it got, and what differs. */
    public record FrontendComparison(Frontend frontend, boolean inA, boolean inB, int probes,
                                     List<Difference> differences) {
        public FrontendComparison {
            differences = List.copyOf(differences);
        }

        public boolean equal() {
            return differences.isEmpty();
        }
    }

    /** The whole comparison. */
    public record Report(String a, String b, List<FrontendComparison> frontends, List<String> notes) {
        public Report {
            frontends = List.copyOf(frontends);
            notes = List.copyOf(notes);
        }

        public boolean equal() {
            return frontends.stream().allMatch(FrontendComparison::equal);
        }

        public List<FrontendComparison> differing() {
            return frontends.stream().filter(f -> !f.equal()).toList();
        }
    }

    public static Report compare(ServiceRuleset a, ServiceRuleset b, Settings settings) {
        IPAddress clusterCidr = settings.clusterCidr() == null ? null : IpAddresses.parseCidr(settings.clusterCidr());
        Map<String, Frontend> frontends = new TreeMap<>();
        Set<String> inA = new LinkedHashSet<>();
        Set<String> inB = new LinkedHashSet<>();
        for (Frontend frontend : a.frontends()) {
            if (familyOf(frontend, settings.family())) {
                frontends.put(frontend.key(), frontend);
                inA.add(frontend.key());
            }
        }
        for (Frontend frontend : b.frontends()) {
            if (familyOf(frontend, settings.family())) {
                frontends.merge(frontend.key(), frontend, (x, y) -> x.name() == null && y.name() != null ? y : x);
                inB.add(frontend.key());
            }
        }

        Set<String> allSources = new TreeSet<>();
        for (Frontend frontend : frontends.values()) {
            allSources.addAll(a.sourceCidrs(frontend));
            allSources.addAll(b.sourceCidrs(frontend));
        }
        List<String> nodeIps = new ArrayList<>();
        for (ServiceRuleset ruleset : List.of(a, b)) {
            for (String ip : ruleset.localAddresses().nodeIps()) {
                if (IpAddresses.familyOf(IpAddresses.parse(ip)) == settings.family() && !nodeIps.contains(ip)) {
                    nodeIps.add(ip);
                }
            }
        }
        String client = outsideClient(settings.family(), allSources, clusterCidr, a.localAddresses());

        List<String> notes = new ArrayList<>();
        if (nodeIps.isEmpty()) {
            notes.add("no node address is known (give --node-ip): node ports were probed on loopback from the node "
                    + "only");
        }
        List<Frontend> ordered = new ArrayList<>(frontends.values());
        ordered.sort(Frontend.ORDER);
        List<FrontendComparison> comparisons = new ArrayList<>();
        int unevaluatedA = 0;
        int unevaluatedB = 0;
        for (Frontend frontend : ordered) {
            Set<String> cidrs = new TreeSet<>(a.sourceCidrs(frontend));
            cidrs.addAll(b.sourceCidrs(frontend));
            List<Probe> probes = probes(frontend, cidrs, client, nodeIps, clusterCidr, settings.family(), a, b);
            List<Difference> differences = new ArrayList<>();
            for (Probe probe : probes) {
                Trace traceA = a.trace(probe.packet(), PacketEvaluator.Detail.OUTCOMES);
                Trace traceB = b.trace(probe.packet(), PacketEvaluator.Detail.OUTCOMES);
                unevaluatedA += unevaluated(traceA) > 0 ? 1 : 0;
                unevaluatedB += unevaluated(traceB) > 0 ? 1 : 0;
                differences.addAll(Meaning.of(traceA).differences(Meaning.of(traceB), probe.description()));
            }
            comparisons.add(new FrontendComparison(frontend, inA.contains(frontend.key()),
                    inB.contains(frontend.key()), probes.size(), differences));
        }
        if (unevaluatedA > 0) {
            notes.add(unevaluatedA + " probes met rules of A that cannot be evaluated (treated as not matching; "
                    + "trace one to see them)");
        }
        if (unevaluatedB > 0) {
            notes.add(unevaluatedB + " probes met rules of B that cannot be evaluated (treated as not matching; "
                    + "trace one to see them)");
        }
        return new Report(a.description(), b.description(), comparisons, notes);
    }

    private static boolean familyOf(Frontend frontend, IpFamily family) {
        return frontend.address() == null || IpAddresses.familyOf(IpAddresses.parse(frontend.address())) == family;
    }

    private static int unevaluated(Trace trace) {
        return trace.outcomes().stream().mapToInt(Outcome::unevaluated).sum();
    }

    /** An address outside every CIDR the rules test and outside the pod network: "a client on the internet". */
    private static String outsideClient(IpFamily family, Set<String> cidrs, IPAddress clusterCidr,
                                        LocalAddresses local) {
        List<String> candidates = family == IpFamily.V4 ? CLIENTS_V4 : CLIENTS_V6;
        for (String candidate : candidates) {
            IPAddress address = IpAddresses.parse(candidate);
            boolean inside = local.isLocal(address) || clusterCidr != null && clusterCidr.contains(address);
            for (String cidr : cidrs) {
                IPAddress range = parse(cidr);
                if (range.getIPVersion() == address.getIPVersion() && range.contains(address)
                        && range.getPrefixLength() != null && range.getPrefixLength() > 0) {
                    inside = true;
                }
            }
            if (!inside) {
                return candidate;
            }
        }
        return candidates.get(0);
    }

    private static List<Probe> probes(Frontend frontend, Set<String> cidrs, String client, List<String> nodeIps,
                                      IPAddress clusterCidr, IpFamily family, ServiceRuleset a, ServiceRuleset b) {
        List<String> destinations = new ArrayList<>();
        if (frontend.isNodePort()) {
            destinations.addAll(nodeIps);
        } else {
            destinations.add(frontend.address());
        }
        // Arriving sources: the outside client, then one address inside each CIDR the rules test.
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put(client, "from " + client + " (outside every source range)");
        for (String cidr : cidrs) {
            IPAddress range = parse(cidr);
            if (range.getIPVersion() != (family == IpFamily.V4 ? inet.ipaddr.IPAddress.IPVersion.IPV4
                    : inet.ipaddr.IPAddress.IPVersion.IPV6)) {
                continue;
            }
            IPAddress inside = representative(range);
            String text = IpAddresses.canonical(inside);
            if (a.localAddresses().isLocal(inside) || b.localAddresses().isLocal(inside) || sources.containsKey(text)) {
                continue;
            }
            sources.put(text, "from " + text + (text.equals(cidr) ? "" : " (in " + cidr + ")"));
        }
        if (clusterCidr != null && clusterCidr.getIPVersion() == parse(client).getIPVersion()) {
            IPAddress pod = representative(clusterCidr);
            sources.putIfAbsent(IpAddresses.canonical(pod), "from " + IpAddresses.canonical(pod) + " (a pod)");
        }
        List<Probe> probes = new ArrayList<>();
        for (String destination : destinations) {
            String to = frontend.isNodePort() ? " to " + Packet.hostPort(destination, frontend.port()) : "";
            for (Map.Entry<String, String> source : sources.entrySet()) {
                IPAddress address = IpAddresses.parse(source.getKey());
                Origin origin = clusterCidr != null && clusterCidr.getIPVersion() == address.getIPVersion()
                        && clusterCidr.contains(address) ? Origin.POD : Origin.EXTERNAL;
                probes.add(new Probe(source.getValue() + to, Packet.of(source.getKey(), destination,
                        frontend.port(), frontend.protocol(), origin)));
            }
        }
        String nodeIp = nodeIps.isEmpty() ? (family == IpFamily.V4 ? "127.0.0.1" : "::1") : nodeIps.get(0);
        for (String destination : destinations) {
            String to = frontend.isNodePort() ? " to " + Packet.hostPort(destination, frontend.port()) : "";
            probes.add(new Probe("from the node (" + nodeIp + ")" + to, Packet.of(nodeIp, destination,
                    frontend.port(), frontend.protocol(), Origin.NODE)));
        }
        if (frontend.isNodePort()) {
            String loopback = family == IpFamily.V4 ? "127.0.0.1" : "::1";
            probes.add(new Probe("from the node to " + Packet.hostPort(loopback, frontend.port()),
                    Packet.of(loopback, loopback, frontend.port(), frontend.protocol(), Origin.NODE)));
        }
        return probes;
    }

    /** The address a probe from inside {@code range} uses: the address itself, or the first after the network. */
    private static IPAddress representative(IPAddress range) {
        if (!range.isPrefixed() || range.getNetworkPrefixLength() >= range.getBitCount() - 1) {
            return range.getLower().withoutPrefixLength();
        }
        return range.getLower().withoutPrefixLength().increment(1);
    }

    private static IPAddress parse(String cidrOrAddress) {
        return cidrOrAddress.indexOf('/') >= 0 ? IpAddresses.parseCidr(cidrOrAddress)
                : IpAddresses.parse(cidrOrAddress);
    }

    // ---------------------------------------------------------------------------------------------------------

    /** What a trace means for comparison: nothing about chain names or rule text. */
    private record Meaning(Map<Verdict, Double> verdicts, Map<String, Double> endpoints,
                           Map<String, Boolean> masquerade, Set<String> affinity) {

        static Meaning of(Trace trace) {
            Map<Verdict, Double> verdicts = new EnumMap<>(Verdict.class);
            verdicts.putAll(trace.verdicts());
            Map<String, Double> endpoints = new TreeMap<>();
            Map<String, Boolean> masquerade = new TreeMap<>();
            for (EndpointShare share : trace.endpoints()) {
                endpoints.put(share.address(), share.probability());
                masquerade.put(share.address(), share.masquerade());
            }
            for (Outcome outcome : trace.outcomes()) {
                if (outcome.verdict() == Verdict.ACCEPT) {
                    masquerade.merge("not DNATed", outcome.masquerade(), Boolean::logicalOr);
                }
            }
            Set<String> affinity = new TreeSet<>();
            for (Affinity check : trace.affinity()) {
                affinity.add(check.seconds() + " s" + (check.endpoint() == null ? "" : " -> " + check.endpoint()));
            }
            return new Meaning(verdicts, endpoints, masquerade, affinity);
        }

        List<Difference> differences(Meaning other, String probe) {
            List<Difference> differences = new ArrayList<>();
            if (!sameShares(verdicts, other.verdicts)) {
                differences.add(new Difference(probe, "verdict", shares(verdicts, other.verdicts, false),
                        shares(other.verdicts, verdicts, false)));
            }
            if (!sameShares(endpoints, other.endpoints)) {
                differences.add(new Difference(probe, "endpoints", shares(endpoints, other.endpoints, true),
                        shares(other.endpoints, endpoints, true)));
            }
            if (!masquerade.equals(other.masquerade) && masquerade.keySet().equals(other.masquerade.keySet())) {
                differences.add(new Difference(probe, "masquerade", flags(masquerade), flags(other.masquerade)));
            }
            if (!affinity.equals(other.affinity)) {
                differences.add(new Difference(probe, "affinity", affinity(affinity), affinity(other.affinity)));
            }
            return differences;
        }

        private static <K> boolean sameShares(Map<K, Double> x, Map<K, Double> y) {
            if (!x.keySet().equals(y.keySet())) {
                return false;
            }
            for (Map.Entry<K, Double> entry : x.entrySet()) {
                if (Math.abs(entry.getValue() - y.get(entry.getKey())) > TOLERANCE) {
                    return false;
                }
            }
            return true;
        }

        /** "{10.0.0.1:80 0.5, 10.0.0.2:80 0.5}", with more digits when 4 would hide the difference. */
        private static <K> String shares(Map<K, Double> shares, Map<K, Double> other, boolean braces) {
            if (shares.isEmpty()) {
                return braces ? "{}" : "none";
            }
            if (!braces && shares.size() == 1 && Math.abs(shares.values().iterator().next() - 1) <= TOLERANCE) {
                return String.valueOf(shares.keySet().iterator().next());
            }
            List<String> parts = new ArrayList<>();
            for (Map.Entry<K, Double> entry : shares.entrySet()) {
                Double theirs = other.get(entry.getKey());
                int digits = theirs != null && Math.abs(theirs - entry.getValue()) > TOLERANCE
                        && decimal(theirs, 4).equals(decimal(entry.getValue(), 4)) ? 10 : 4;
                parts.add(entry.getKey() + " " + decimal(entry.getValue(), digits));
            }
            String joined = String.join(", ", parts);
            return braces ? "{" + joined + "}" : joined;
        }

        private static String flags(Map<String, Boolean> flags) {
            List<String> parts = new ArrayList<>();
            flags.forEach((key, value) -> parts.add(key + " " + (value ? "yes" : "no")));
            return String.join(", ", parts);
        }

        private static String affinity(Set<String> affinity) {
            return affinity.isEmpty() ? "none" : "ClientIP " + String.join(", ", affinity);
        }
    }

    /** 0.5 -> "0.5", 1/3 -> "0.3333". */
    static String decimal(double value, int digits) {
        return new BigDecimal(value).setScale(digits, RoundingMode.HALF_EVEN).stripTrailingZeros().toPlainString();
    }
}
