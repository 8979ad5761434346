package dev.railyard.proxy.inspect.nftables;

import dev.railyard.proxy.inspect.FoundFrontends;
import dev.railyard.proxy.inspect.Frontend;
import dev.railyard.proxy.inspect.LocalAddresses;
import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.Protocol;
import inet.ipaddr.IPAddress;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the service frontends of an nftables ruleset from the rules themselves: every element of a set or verdict
 * map looked up with a key of destination address, protocol and destination port (kube-proxy's
 * {@code ip daddr . meta l4proto . th dport vmap @service-ips}) is a service address's; one keyed by protocol and
 * port in a rule that first tests for a local destination ({@code ip daddr @nodeport-ips}, {@code fib daddr type
 * local}) is a node port's; and so is a plain rule testing one address (or a local destination), a protocol and
 * one port. Names come from element comments, rule comments or kube-proxy's chain names. For each frontend it also
 * collects the source addresses and ranges tested on its way (and the endpoints it DNATs to, whose traffic to
 * themselves is hairpin traffic), so a comparison can probe around them.
 */
final class NftablesFrontends {
    private static final int MAX_CHAINS_PER_FRONTEND = 10_000;
    /** kube-proxy's chain names: prefix, hash, then namespace/name/protocol/port. */
    private static final Pattern CHAIN_NAME = Pattern.compile(
            "^(?:service|external|local|firewall)-[A-Z2-7]{8}-([^/]+)/([^/]+)/(?:tcp|udp|sctp)/(.*)$");
    private static final Pattern PORT_NAME = Pattern.compile("^[^/\\s]+/[^/\\s:]+(:[^\\s]*)?$");

    private final FoundFrontends found = new FoundFrontends();
    /** Per table: the addresses of kube-proxy's cluster-ips set and firewall-ips map, which label frontends. */
    private final Map<NftablesRuleset.Table, Set<String>> clusterIps = new java.util.IdentityHashMap<>();
    private final Map<NftablesRuleset.Table, Set<String>> firewallIps = new java.util.IdentityHashMap<>();

    private NftablesFrontends() {
    }

    static FoundFrontends of(NftablesRuleset ruleset, LocalAddresses local) {
        NftablesFrontends finder = new NftablesFrontends();
        for (NftablesRuleset.Table table : ruleset.tables()) {
            if (!table.sees(4) && !table.sees(6)) {
                continue;
            }
            for (NftablesRuleset.Chain chain : table.chains().values()) {
                for (NftablesRule rule : chain.rules()) {
                    finder.consider(table, rule, local);
                }
            }
        }
        return finder.found;
    }

    private void consider(NftablesRuleset.Table table, NftablesRule rule, LocalAddresses local) {
        if (rule.unsupported() != null) {
            return;
        }
        boolean localDestination = false;
        String address = null;
        Protocol protocol = null;
        Integer port = null;
        for (Statement statement : rule.statements()) {
            if (statement instanceof Statement.Match match && !match.negated() && match.key().size() == 1) {
                Selector selector = match.key().get(0);
                if (selector.kind() == Selector.Kind.FIB_DADDR_TYPE && match.values() != null
                        && match.values().get(0).get(0) instanceof Value.Sym sym && sym.text().equals("local")) {
                    localDestination = true;
                } else if (selector.kind() == Selector.Kind.DADDR && match.set() != null) {
                    localDestination |= allLocal(table.containers().get(match.set()), local);
                } else if (match.values() != null && match.values().size() == 1
                        && match.values().get(0).get(0).exact()) {
                    Value value = match.values().get(0).get(0);
                    switch (selector.kind()) {
                        case DADDR -> address = ((Value.Addr) value).text();
                        case L4PROTO -> protocol = protocol(((Value.Num) value).low());
                        case DPORT -> {
                            port = (int) ((Value.Num) value).low();
                            if (selector.protocol() != 0) {
                                protocol = protocol(selector.protocol());
                            }
                        }
                        default -> {
                        }
                    }
                }
                continue;
            }
            List<Selector> key = null;
            NftablesRuleset.Container container = null;
            if (statement instanceof Statement.Match match && match.set() != null && !match.negated()) {
                key = match.key();
                container = table.containers().get(match.set());
            } else if (statement instanceof Statement.VerdictMap map) {
                key = map.key();
                container = map.inline() != null ? map.inline() : table.containers().get(map.map());
            }
            if (key != null && container != null) {
                fromElements(table, rule, key, container, localDestination, local);
            }
        }
        if (protocol != null && port != null && (address != null || localDestination)) {
            boolean nodePort = address == null || local.isLocal(IpAddresses.parse(address));
            String name = nameOf(rule.comment());
            add(new Frontend(nodePort ? null : address, port, protocol, kind(table, address, nodePort, null),
                    name), table, rule, null);
        }
    }

    /** The frontends a set or map's elements stand for, when its key is (address,) protocol and port. */
    private void fromElements(NftablesRuleset.Table table, NftablesRule rule, List<Selector> key,
                              NftablesRuleset.Container container, boolean localDestination, LocalAddresses local) {
        int addressField = -1;
        int protocolField = -1;
        int portField = -1;
        for (int i = 0; i < key.size(); i++) {
            switch (key.get(i).kind()) {
                case DADDR -> addressField = i;
                case L4PROTO -> protocolField = i;
                case DPORT -> portField = i;
                default -> {
                    return;
                }
            }
        }
        if (protocolField < 0 || portField < 0 || addressField < 0 && !localDestination) {
            return;
        }
        for (NftablesRuleset.Element element : container.elements()) {
            if (element.key().size() != key.size()) {
                continue;
            }
            try {
                Value protocolValue = Value.parse(Selector.Kind.L4PROTO, element.key().get(protocolField));
                Value portValue = Value.parse(Selector.Kind.DPORT, element.key().get(portField));
                Protocol protocol = protocolValue.exact() ? protocol(((Value.Num) protocolValue).low()) : null;
                if (protocol == null || !portValue.exact()) {
                    continue;
                }
                String address = null;
                if (addressField >= 0) {
                    Value value = Value.parse(Selector.Kind.DADDR, element.key().get(addressField));
                    if (!value.exact()) {
                        continue;
                    }
                    address = ((Value.Addr) value).text();
                }
                boolean nodePort = address == null || local.isLocal(IpAddresses.parse(address));
                String target = chainOf(element);
                String name = nameOf(element.comment());
                if (name == null && target != null) {
                    name = nameOfChain(target);
                }
                add(new Frontend(nodePort ? null : address, (int) ((Value.Num) portValue).low(), protocol,
                        kind(table, address, nodePort, container), name), table, rule, target);
            } catch (IllegalArgumentException e) {
                // An element the rule cannot use: the trace reports the lookup; it is no frontend.
            }
        }
    }

    private void add(Frontend frontend, NftablesRuleset.Table table, NftablesRule rule, String target) {
        collectSources(table, rule, target, found.add(frontend));
    }

    /**
     * Source addresses and ranges tested by {@code first} and every rule of the chains it (or {@code target})
     * leads to, and the addresses those chains DNAT to.
     */
    private static void collectSources(NftablesRuleset.Table table, NftablesRule first, String target,
                                       Set<String> into) {
        Deque<NftablesRule> rules = new ArrayDeque<>();
        rules.push(first);
        Set<String> visited = new HashSet<>();
        Deque<String> chains = new ArrayDeque<>();
        if (target != null) {
            chains.push(target);
        }
        while (!rules.isEmpty() || !chains.isEmpty()) {
            if (rules.isEmpty()) {
                String next = chains.pop();
                if (!visited.add(next) || visited.size() > MAX_CHAINS_PER_FRONTEND) {
                    continue;
                }
                NftablesRuleset.Chain chain = table.chains().get(next);
                if (chain != null) {
                    for (int i = chain.rules().size() - 1; i >= 0; i--) {
                        rules.push(chain.rules().get(i));
                    }
                }
                continue;
            }
            NftablesRule rule = rules.pop();
            for (Statement statement : rule.statements()) {
                if (statement instanceof Statement.Match match && match.key().size() == 1
                        && match.key().get(0).kind() == Selector.Kind.SADDR) {
                    if (match.values() != null) {
                        for (List<Value> alternative : match.values()) {
                            addSource(alternative.get(0), into);
                        }
                    } else {
                        NftablesRuleset.Container set = table.containers().get(match.set());
                        if (set != null && !set.dynamic()) {
                            for (NftablesRuleset.Element element : set.elements()) {
                                addSource(element.key().get(0), into);
                            }
                        }
                    }
                } else if (statement instanceof Statement.Verdict verdict && verdict.chain() != null) {
                    chains.push(verdict.chain());
                } else if (statement instanceof Statement.VerdictMap map && map.inline() != null) {
                    for (NftablesRuleset.Element element : map.inline().elements()) {
                        String chain = chainOf(element);
                        if (chain != null) {
                            chains.push(chain);
                        }
                    }
                } else if (statement instanceof Statement.Dnat dnat) {
                    addSource(dnat.address(), into);
                } else if (statement instanceof Statement.DnatMap map) {
                    NftablesRuleset.Container container = map.inline() != null ? map.inline()
                            : table.containers().get(map.map());
                    if (container != null) {
                        Selector numgen = map.key().size() == 1 && map.key().get(0).kind() == Selector.Kind.NUMGEN
                                ? map.key().get(0) : null;
                        for (NftablesRuleset.Element element : container.elements()) {
                            // A shared endpoint map holds every service's endpoints: only this rule's block counts.
                            if (!element.value().isEmpty() && (numgen == null || reads(numgen, element))) {
                                try {
                                    addSource(NftRuleParser.hostPort(element.value().get(0))[0], into);
                                } catch (Exception e) {
                                    // not an address: the trace reports it
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** Whether {@code numgen random mod N offset B} can produce one of the element's keys (B..B+N-1, 32 bits). */
    private static boolean reads(Selector numgen, NftablesRuleset.Element element) {
        if (element.key().size() != 1) {
            return false;
        }
        try {
            Value.Num key = (Value.Num) Value.parse(Selector.Kind.NUMGEN, element.key().get(0));
            long first = numgen.offset();
            long last = first + numgen.modulus() - 1;
            long top = 0xffffffffL;
            return key.low() <= Math.min(last, top) && key.high() >= first
                    || last > top && key.low() <= last - top - 1;
        } catch (IllegalArgumentException | ClassCastException e) {
            return false; // not a number: the trace reports it
        }
    }

    private static void addSource(Object value, Set<String> into) {
        try {
            Value.Addr address = value instanceof Value.Addr a ? a
                    : (Value.Addr) Value.parse(Selector.Kind.SADDR, (String) value);
            into.add(address.text());
        } catch (IllegalArgumentException | ClassCastException e) {
            // not an address or prefix (a range): nothing to probe from
        }
    }

    private static boolean allLocal(NftablesRuleset.Container set, LocalAddresses local) {
        if (set == null || set.map() || set.elements().isEmpty()) {
            return false;
        }
        for (NftablesRuleset.Element element : set.elements()) {
            try {
                IPAddress address = IpAddresses.parse(element.key().get(0));
                if (element.key().size() != 1 || !local.isLocal(address)) {
                    return false;
                }
            } catch (IllegalArgumentException e) {
                return false;
            }
        }
        return true;
    }

    private Frontend.Kind kind(NftablesRuleset.Table table, String address, boolean nodePort,
                               NftablesRuleset.Container container) {
        if (nodePort) {
            return Frontend.Kind.NODE_PORT;
        }
        if (clusterIps.computeIfAbsent(table, t -> firstFields(t.containers().get("cluster-ips"))).contains(address)) {
            return Frontend.Kind.CLUSTER_IP;
        }
        if (container != null && "firewall-ips".equals(container.name()) || firewallIps.computeIfAbsent(table,
                t -> firstFields(t.containers().get("firewall-ips"))).contains(address)) {
            return Frontend.Kind.LOAD_BALANCER_IP;
        }
        return Frontend.Kind.SERVICE_IP;
    }

    /** The first key field of every element that is an address, canonical. */
    private static Set<String> firstFields(NftablesRuleset.Container container) {
        Set<String> addresses = new HashSet<>();
        if (container != null) {
            for (NftablesRuleset.Element element : container.elements()) {
                try {
                    addresses.add(IpAddresses.canonical(IpAddresses.parse(element.key().get(0))));
                } catch (IllegalArgumentException e) {
                    // not an address
                }
            }
        }
        return addresses;
    }

    static String chainOf(NftablesRuleset.Element element) {
        if (element.value().size() != 1) {
            return null;
        }
        String value = element.value().get(0);
        if (value.startsWith("goto ") || value.startsWith("jump ")) {
            return value.substring(5);
        }
        return null;
    }

    private static Protocol protocol(long number) {
        return switch ((int) number) {
            case 6 -> Protocol.TCP;
            case 17 -> Protocol.UDP;
            case 132 -> Protocol.SCTP;
            default -> null;
        };
    }

    /** "ns/svc:port" from a comment such as kube-proxy's element comments. */
    private static String nameOf(String comment) {
        if (comment == null) {
            return null;
        }
        String first = comment.split("\\s+", 2)[0];
        return PORT_NAME.matcher(first).matches() ? first : null;
    }

    /** "ns/svc:port" from kube-proxy's chain name "service-HASH-ns/svc/tcp/port". */
    private static String nameOfChain(String chain) {
        Matcher m = CHAIN_NAME.matcher(chain);
        if (!m.matches()) {
            return null;
        }
        return m.group(1) + "/" + m.group(2) + (m.group(3).isEmpty() ? "" : ":" + m.group(3));
    }
}
