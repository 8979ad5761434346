package dev.railyard.proxy.inspect.iptables;

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
import java.util.Locale;
import java.util.Set;

/**
 * Finds the service frontends of an iptables ruleset from the rules themselves: every nat or filter rule that
 * tests one destination address, a protocol and one destination port is a service address's rule; one that tests
 * a protocol and port on local destinations (in KUBE-NODEPORTS, with {@code --dst-type LOCAL}, or to a local
 * address or range) is a node port's. Comments only name them. For each frontend it also collects the source
 * CIDRs tested on its way (its rules and every chain they lead to), so a comparison can probe around them.
 */
final class IptablesFrontends {
    private static final int MAX_CHAINS_PER_FRONTEND = 10_000;

    private final FoundFrontends found = new FoundFrontends();

    private IptablesFrontends() {
    }

    static FoundFrontends of(IptablesRuleset ruleset, LocalAddresses local) {
        IptablesFrontends finder = new IptablesFrontends();
        for (String table : List.of("nat", "filter")) {
            for (IptablesRuleset.Chain chain : ruleset.chains(table).values()) {
                for (IptablesRule rule : chain.rules()) {
                    finder.consider(ruleset, table, chain, rule, local);
                }
            }
        }
        return finder.found;
    }

    private void consider(IptablesRuleset ruleset, String table, IptablesRuleset.Chain chain, IptablesRule rule,
                          LocalAddresses local) {
        IPAddress destination = null;
        boolean destinationIsRange = false;
        Protocol protocol = null;
        Integer port = null;
        boolean localDestination = false;
        for (Condition condition : rule.conditions()) {
            if (condition instanceof Condition.Address address && !address.source() && !address.negated()) {
                IPAddress cidr = address.cidr();
                boolean single = !cidr.isPrefixed() || cidr.getNetworkPrefixLength() == cidr.getBitCount();
                destination = cidr.withoutPrefixLength();
                destinationIsRange = !single;
                if (!single) {
                    destination = cidr;
                }
            } else if (condition instanceof Condition.ProtocolIs p && !p.negated()) {
                protocol = protocolOf(p.protocol());
            } else if (condition instanceof Condition.Ports ports && !ports.negated()
                    && ports.which() == Condition.Ports.Which.DESTINATION && ports.ranges().size() == 1
                    && ports.ranges().get(0)[0] == ports.ranges().get(0)[1]) {
                port = ports.ranges().get(0)[0];
            } else if (condition instanceof Condition.AddressType type && !type.source() && !type.negated()
                    && type.types().equals(Set.of("LOCAL"))) {
                localDestination = true;
            }
        }
        if (protocol == null || port == null) {
            return;
        }
        boolean nodePort = chain.name().equals("KUBE-NODEPORTS") || localDestination || destinationIsRange
                || destination != null && local.isLocal(destination);
        if (!nodePort && destination == null) {
            return;
        }
        String comment = rule.comment();
        Frontend frontend = new Frontend(nodePort ? null : IpAddresses.canonical(destination), port, protocol,
                kindOf(comment, nodePort), nameOf(comment));
        collectSources(ruleset, table, rule, found.add(frontend));
    }

    /** The source CIDRs of {@code rule} and of every rule in the chains it leads to. */
    private static void collectSources(IptablesRuleset ruleset, String table, IptablesRule first, Set<String> into) {
        Deque<IptablesRule> rules = new ArrayDeque<>();
        rules.push(first);
        Set<String> visited = new HashSet<>();
        while (!rules.isEmpty()) {
            IptablesRule rule = rules.pop();
            for (Condition condition : rule.conditions()) {
                if (condition instanceof Condition.Address address && address.source()) {
                    IPAddress cidr = address.cidr();
                    into.add(cidr.isPrefixed() ? IpAddresses.canonicalCidr(cidr) : IpAddresses.canonical(cidr));
                }
            }
            String next = rule.target() instanceof Target.Jump jump ? jump.chain()
                    : rule.target() instanceof Target.Goto jump ? jump.chain() : null;
            if (next == null || !visited.add(next) || visited.size() > MAX_CHAINS_PER_FRONTEND) {
                continue;
            }
            IptablesRuleset.Chain chain = ruleset.chain(table, next);
            if (chain != null) {
                for (int i = chain.rules().size() - 1; i >= 0; i--) {
                    rules.push(chain.rules().get(i));
                }
            }
        }
    }

    private static Protocol protocolOf(String text) {
        switch (text.toLowerCase(Locale.ROOT)) {
            case "tcp":
            case "6":
                return Protocol.TCP;
            case "udp":
            case "17":
                return Protocol.UDP;
            case "sctp":
            case "132":
                return Protocol.SCTP;
            default:
                return null;
        }
    }

    private static Frontend.Kind kindOf(String comment, boolean nodePort) {
        if (comment != null && comment.contains("health check node port")) {
            return Frontend.Kind.HEALTH_CHECK_NODE_PORT;
        }
        if (nodePort) {
            return Frontend.Kind.NODE_PORT;
        }
        if (comment == null) {
            return Frontend.Kind.SERVICE_IP;
        }
        if (comment.endsWith(" cluster IP")) {
            return Frontend.Kind.CLUSTER_IP;
        }
        if (comment.endsWith(" external IP")) {
            return Frontend.Kind.EXTERNAL_IP;
        }
        if (comment.endsWith(" loadbalancer IP")) {
            return Frontend.Kind.LOAD_BALANCER_IP;
        }
        return Frontend.Kind.SERVICE_IP;
    }

    /** "ns/svc:port" from a kube-proxy comment ("ns/svc:port cluster IP", "ns/svc:port has no endpoints"...). */
    private static String nameOf(String comment) {
        if (comment == null) {
            return null;
        }
        int space = comment.indexOf(' ');
        String first = space < 0 ? comment : comment.substring(0, space);
        int slash = first.indexOf('/');
        if (slash <= 0 || slash == first.length() - 1 || first.contains("->")) {
            return null;
        }
        return first;
    }
}
