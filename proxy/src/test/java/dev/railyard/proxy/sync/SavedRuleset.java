package dev.railyard.proxy.sync;

import dev.railyard.testkit.NetworkNamespace;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * iptables-save output in a form two kernels' rulesets can be compared in: per table, the chains sorted by name,
 * each with its policy and its rules in order. Counters and the "# Generated" comments are left out, and so is
 * the order of chains, which depends on when each was created rather than on what the ruleset does.
 */
final class SavedRuleset {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private SavedRuleset() {
    }

    static String of(NetworkNamespace ns) {
        return normalize(ns.execChecked(TIMEOUT, "iptables-save").stdout());
    }

    static String normalize(String saved) {
        Map<String, Map<String, List<String>>> tables = new TreeMap<>();
        Map<String, List<String>> chains = null;
        for (String line : saved.split("\n")) {
            if (line.isBlank() || line.startsWith("#") || line.equals("COMMIT")) {
                continue;
            }
            if (line.startsWith("*")) {
                chains = tables.computeIfAbsent(line.substring(1), t -> new TreeMap<>());
            } else if (line.startsWith(":")) {
                String[] parts = line.substring(1).split(" ");
                chains.computeIfAbsent(parts[0], c -> new ArrayList<>()).add(0, "policy " + parts[1]);
            } else if (line.startsWith("-A ")) {
                String chain = line.split(" ")[1];
                chains.computeIfAbsent(chain, c -> new ArrayList<>()).add(line);
            } else {
                throw new IllegalArgumentException("unexpected iptables-save line: " + line);
            }
        }
        StringBuilder out = new StringBuilder();
        tables.forEach((table, byChain) -> {
            out.append('*').append(table).append('\n');
            byChain.forEach((chain, lines) -> {
                out.append(':').append(chain).append('\n');
                lines.forEach(l -> out.append("  ").append(l).append('\n'));
            });
        });
        return out.toString();
    }
}
