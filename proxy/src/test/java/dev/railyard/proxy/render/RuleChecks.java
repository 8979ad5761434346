package dev.railyard.proxy.render;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Structural checks any restore input must pass, whatever its content. */
final class RuleChecks {
    private static final Set<String> TARGETS = Set.of("ACCEPT", "DROP", "REJECT", "RETURN", "MARK", "DNAT", "SNAT",
            "MASQUERADE");
    private static final Set<String> BUILT_IN = Set.of("INPUT", "OUTPUT", "FORWARD", "PREROUTING", "POSTROUTING");

    private RuleChecks() {
    }

    /** Every -A and -j names a chain the same table declares, or a built-in chain or target. */
    static List<String> undefinedChains(String restoreInput) {
        Map<String, Set<String>> declared = new HashMap<>();
        Map<String, List<String>> referenced = new HashMap<>();
        String table = null;
        for (String line : restoreInput.split("\n")) {
            if (line.startsWith("*")) {
                table = line.substring(1);
            } else if (line.startsWith(":")) {
                declared.computeIfAbsent(table, t -> new HashSet<>()).add(line.substring(1, line.indexOf(' ')));
            } else if (line.startsWith("-A ") || line.startsWith("-X ")) {
                String[] words = line.split(" ");
                List<String> refs = referenced.computeIfAbsent(table, t -> new ArrayList<>());
                refs.add(words[1]);
                for (int i = 2; i < words.length - 1; i++) {
                    if (words[i].equals("-j")) {
                        refs.add(words[i + 1]);
                    }
                }
            }
        }
        List<String> undefined = new ArrayList<>();
        for (Map.Entry<String, List<String>> entry : referenced.entrySet()) {
            Set<String> chains = declared.getOrDefault(entry.getKey(), Set.of());
            for (String chain : entry.getValue()) {
                if (!chains.contains(chain) && !TARGETS.contains(chain) && !BUILT_IN.contains(chain)) {
                    undefined.add(entry.getKey() + ":" + chain);
                }
            }
        }
        return undefined;
    }
}
