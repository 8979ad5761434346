package dev.railyard.proxy.inspect;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The frontends a ruleset reader found in the rules, each once, with the source CIDRs tested on its way. A
 * frontend is usually seen on several rules (its service rule, a firewall or node-port rule, an unlabelled check);
 * which sighting names it is decided here, so that iptables and nftables rulesets label it alike.
 */
public final class FoundFrontends {
    private final Map<String, Frontend> frontends = new LinkedHashMap<>();
    private final Map<String, Set<String>> sourceCidrs = new LinkedHashMap<>();

    /**
     * Records a sighting of {@code frontend}: a name is kept once known, and a kind beats the unlabelled
     * {@link Frontend.Kind#SERVICE_IP}. Returns the frontend's source CIDRs, for the caller to add what it finds
     * on the way.
     */
    public Set<String> add(Frontend frontend) {
        Frontend known = frontends.get(frontend.key());
        if (known == null || known.name() == null && frontend.name() != null
                || known.kind() == Frontend.Kind.SERVICE_IP && frontend.kind() != Frontend.Kind.SERVICE_IP) {
            frontends.put(frontend.key(), new Frontend(frontend.address(), frontend.port(), frontend.protocol(),
                    known != null && frontend.kind() == Frontend.Kind.SERVICE_IP ? known.kind() : frontend.kind(),
                    frontend.name() != null ? frontend.name() : known == null ? null : known.name()));
        }
        return sourceCidrs.computeIfAbsent(frontend.key(), k -> new TreeSet<>());
    }

    /** The frontends in report order ({@link Frontend#ORDER}). */
    public List<Frontend> frontends() {
        List<Frontend> list = new ArrayList<>(frontends.values());
        list.sort(Frontend.ORDER);
        return list;
    }

    public Set<String> sourceCidrs(Frontend frontend) {
        return sourceCidrs.getOrDefault(frontend.key(), Set.of());
    }
}
