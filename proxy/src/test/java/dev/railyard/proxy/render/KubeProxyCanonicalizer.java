package dev.railyard.proxy.render;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * kube-proxy's test canonicalization of an iptables-restore text (sortIPTablesRules): rules regrouped per
 * chain, chains in a fixed order, and the dispatch chains sorted by service name, so that outputs whose only
 * difference is map iteration order compare equal. Rules inside other chains keep their order.
 */
final class KubeProxyCanonicalizer {
    private static final String LAST_RULE_MARKER = "must be the last rule";

    private KubeProxyCanonicalizer() {
    }

    static String canonicalize(String restoreInput) {
        Map<String, Table> tables = new TreeMap<>();
        Table table = null;
        for (String line : restoreInput.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            if (line.startsWith("*")) {
                table = tables.computeIfAbsent(line.substring(1), k -> new Table());
            } else if (line.equals("COMMIT")) {
                table = null;
            } else if (line.startsWith(":")) {
                String chain = line.substring(1, line.indexOf(' '));
                table.chain(chain);
            } else if (line.startsWith("-A ")) {
                String[] words = line.split(" ", 3);
                table.chain(words[1]).add(line);
            } else if (line.startsWith("-X ")) {
                table.deleted.add(line.substring(3).trim());
            } else {
                throw new IllegalArgumentException("unexpected line: " + line);
            }
        }
        StringBuilder out = new StringBuilder();
        for (Map.Entry<String, Table> entry : tables.entrySet()) {
            String name = entry.getKey();
            Table t = entry.getValue();
            List<String> chains = new ArrayList<>(t.rules.keySet());
            chains.sort(CHAIN_ORDER);
            out.append('*').append(name).append('\n');
            for (String chain : chains) {
                out.append(':').append(chain).append(" - [0:0]\n");
            }
            for (String chain : chains) {
                List<String> rules = new ArrayList<>(t.rules.get(chain));
                if (chain.equals("KUBE-NODEPORTS") || chain.equals("KUBE-SERVICES")) {
                    boolean nat = name.equals("nat");
                    rules.sort((a, b) -> compareByService(a, b, nat && chain.equals("KUBE-SERVICES")));
                }
                for (String rule : rules) {
                    out.append(rule).append('\n');
                }
            }
            List<String> deleted = new ArrayList<>(t.deleted);
            deleted.sort(CHAIN_ORDER);
            for (String chain : deleted) {
                out.append("-X ").append(chain).append('\n');
            }
            out.append("COMMIT\n");
        }
        return out.toString();
    }

    private static final Comparator<String> CHAIN_ORDER = Comparator
            .comparingInt(KubeProxyCanonicalizer::chainRank)
            .thenComparing(Comparator.naturalOrder());

    private static int chainRank(String chain) {
        if (chain.equals("KUBE-NODEPORTS")) {
            return 0;
        }
        if (chain.equals("KUBE-SERVICES")) {
            return 1;
        }
        return chain.startsWith("KUBE-") ? 2 : 3;
    }

    /** A stable sort needs a consistent comparator; rules without a service name sort after those with one. */
    private static int compareByService(String a, String b, boolean lastRuleLast) {
        if (lastRuleLast) {
            boolean aLast = a.contains(LAST_RULE_MARKER);
            boolean bLast = b.contains(LAST_RULE_MARKER);
            if (aLast != bLast) {
                return aLast ? 1 : -1;
            }
        }
        String sa = serviceName(a);
        String sb = serviceName(b);
        if (sa == null || sb == null) {
            return sa == null ? (sb == null ? 0 : 1) : -1;
        }
        return sa.compareTo(sb);
    }

    private static String serviceName(String rule) {
        int at = rule.indexOf("--comment ");
        if (at < 0) {
            return null;
        }
        String rest = rule.substring(at + "--comment ".length());
        if (rest.startsWith("\"")) {
            rest = rest.substring(1);
        }
        int end = rest.length();
        for (int i = 0; i < rest.length(); i++) {
            char c = rest.charAt(i);
            if (c == ' ' || c == ':' || c == '"') {
                end = i;
                break;
            }
        }
        return rest.substring(0, end);
    }

    private static final class Table {
        final Map<String, List<String>> rules = new LinkedHashMap<>();
        final List<String> deleted = new ArrayList<>();

        List<String> chain(String name) {
            return rules.computeIfAbsent(name, k -> new ArrayList<>());
        }
    }
}
