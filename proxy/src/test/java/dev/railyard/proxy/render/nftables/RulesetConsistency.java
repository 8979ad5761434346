package dev.railyard.proxy.render.nftables;

import dev.railyard.nftables.Element;
import dev.railyard.nftables.Family;
import dev.railyard.nftables.Rule;
import dev.railyard.nftables.RuleReferences;
import dev.railyard.nftables.Ruleset;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Checks on a whole table beyond what the kernel refuses ({@link Ruleset#apply} already refuses a jump to a
 * missing chain and a rule naming a missing set or map), in the spirit of kube-proxy's checkIPTablesRuleJumps:
 * every per-service chain is reached from a base chain (through jumps, gotos, verdict maps and their elements),
 * every regular chain has at least one rule, and every set and map is looked up by some rule. A chain or map
 * nothing reaches is state the renderer forgot to wire up or to remove. kube-proxy's fixed chains are exempt
 * from being reached: reject-chain and mark-for-masquerade exist even when no service needs them.
 */
final class RulesetConsistency {
    private RulesetConsistency() {
    }

    /** What is wrong with the table, one line each; empty when nothing is. */
    static List<String> problems(Ruleset ruleset, Family family, String table) {
        List<String> problems = new ArrayList<>();
        Set<String> reached = new HashSet<>();
        Set<String> lookedUp = new HashSet<>();
        Deque<String> toVisit = new ArrayDeque<>();
        for (String chain : ruleset.chainNames(family, table)) {
            if (ruleset.chain(family, table, chain).isBaseChain()) {
                reached.add(chain);
                toVisit.add(chain);
            }
        }
        while (!toVisit.isEmpty()) {
            String chain = toVisit.poll();
            for (Rule rule : ruleset.rules(family, table, chain)) {
                for (RuleReferences.Reference ref : RuleReferences.of(rule.body())) {
                    if (ref.kind() == RuleReferences.Kind.CHAIN) {
                        if (reached.add(ref.name())) {
                            toVisit.add(ref.name());
                        }
                        continue;
                    }
                    lookedUp.add(ref.name());
                    for (Element element : ruleset.elements(family, table, ref.name())) {
                        String target = element.verdictChain();
                        if (target != null && reached.add(target)) {
                            toVisit.add(target);
                        }
                    }
                }
            }
        }
        for (String chain : ruleset.chainNames(family, table)) {
            if (NftablesLayout.isServiceChain(chain) && !reached.contains(chain)) {
                problems.add("chain " + chain + " is not reached from any base chain");
            }
            if (!ruleset.chain(family, table, chain).isBaseChain() && ruleset.rules(family, table, chain).isEmpty()) {
                problems.add("chain " + chain + " has no rules");
            }
        }
        List<String> containers = new ArrayList<>(ruleset.setNames(family, table));
        containers.addAll(ruleset.mapNames(family, table));
        for (String container : containers) {
            if (!lookedUp.contains(container)) {
                problems.add("set or map " + container + " is not used by any rule");
            }
        }
        return problems;
    }
}
