package dev.railyard.proxy.inspect.iptables;

import dev.railyard.proxy.inspect.RulesetInputException;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads iptables-save output ({@code iptables-save}, {@code iptables-legacy-save}, {@code iptables-nft-save},
 * with or without {@code -c} counters) and iptables-restore input (what {@code railyard render} and kube-proxy
 * write: {@code :CHAIN - [0:0]}, {@code -A}, {@code -X}). Tables are {@code *name ... COMMIT}; inside, chain
 * declarations, {@code -A}/{@code -I}/{@code -N}/{@code -X}/{@code -F}/{@code -P} commands.
 */
public final class IptablesSaveParser {
    private static final Pattern DECLARE = Pattern.compile("^:(\\S+)\\s+(\\S+)(?:\\s+\\[\\d+:\\d+\\])?\\s*$");
    private static final Pattern COUNTERS = Pattern.compile("^\\[\\d+:\\d+\\]\\s+");
    private static final Pattern CHAIN_NAME = Pattern.compile("[^\\s!\"']{1,64}");

    private IptablesSaveParser() {
    }

    /** Parses {@code text}; {@code source} names it in errors and notes. */
    public static IptablesRuleset parse(String source, String text) throws RulesetInputException {
        Map<String, Map<String, IptablesRuleset.Chain>> tables = new LinkedHashMap<>();
        String table = null;
        Map<String, ChainBuilder> chains = null;
        int tableLine = 0;
        String[] lines = text.split("\n", -1);
        for (int n = 0; n < lines.length; n++) {
            int lineNumber = n + 1;
            String line = lines[n].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (table == null) {
                if (!line.startsWith("*") || line.length() == 1) {
                    throw new RulesetInputException(source, lineNumber, "expected a table (*filter, *nat...), got \""
                            + abbreviate(line) + "\"");
                }
                table = line.substring(1).strip();
                if (tables.containsKey(table)) {
                    // iptables-restore would apply both; a dump never has a table twice.
                    throw new RulesetInputException(source, lineNumber, "table " + table + " appears twice");
                }
                chains = new LinkedHashMap<>();
                tableLine = lineNumber;
                continue;
            }
            if (line.equals("COMMIT")) {
                tables.put(table, resolve(chains));
                table = null;
                chains = null;
                continue;
            }
            try {
                command(line, lineNumber, table, chains);
            } catch (IllegalArgumentException e) {
                throw new RulesetInputException(source, lineNumber, e.getMessage());
            }
        }
        if (table != null) {
            throw new RulesetInputException(source, tableLine, "table " + table + " has no COMMIT");
        }
        if (tables.isEmpty()) {
            throw new RulesetInputException(source, 0, "no tables (expected iptables-save output)");
        }
        return new IptablesRuleset(source, tables, List.of());
    }

    private static final class ChainBuilder {
        final String name;
        String policy;
        final List<IptablesRule> rules = new ArrayList<>();

        ChainBuilder(String name, String policy) {
            this.name = name;
            this.policy = policy;
        }
    }

    private static void command(String line, int lineNumber, String table, Map<String, ChainBuilder> chains) {
        Matcher declare = DECLARE.matcher(line);
        if (line.startsWith(":")) {
            if (!declare.matches()) {
                throw new IllegalArgumentException("bad chain declaration \"" + abbreviate(line) + "\"");
            }
            String name = chainName(declare.group(1));
            String policy = declare.group(2);
            boolean builtIn = IptablesRuleset.BUILT_IN_CHAINS.getOrDefault(table, List.of()).contains(name);
            if (builtIn && !(policy.equals("ACCEPT") || policy.equals("DROP"))) {
                throw new IllegalArgumentException("built-in chain " + name + " needs policy ACCEPT or DROP, not "
                        + policy);
            }
            if (!builtIn && !policy.equals("-")) {
                throw new IllegalArgumentException("chain " + name + " is not a built-in chain of table " + table
                        + " and cannot have policy " + policy);
            }
            ChainBuilder existing = chains.get(name);
            if (existing != null) {
                existing.rules.clear(); // declaring a chain in restore input flushes it
                existing.policy = builtIn ? policy : null;
            } else {
                chains.put(name, new ChainBuilder(name, builtIn ? policy : null));
            }
            return;
        }
        String rest = COUNTERS.matcher(line).replaceFirst("");
        List<String> words = SaveWords.split(rest);
        if (words.isEmpty()) {
            return;
        }
        String op = words.get(0);
        String origin = "line " + lineNumber;
        switch (op) {
            case "-A", "--append", "-I", "--insert" -> {
                String name = chainName(word(words, 1, op + " needs a chain"));
                ChainBuilder chain = chains.get(name);
                if (chain == null) {
                    throw new IllegalArgumentException("chain " + name + " is not declared in table " + table);
                }
                int first = 2;
                int position = chain.rules.size();
                if (op.startsWith("-I") || op.equals("--insert")) {
                    position = 0;
                    if (words.size() > 2 && words.get(2).matches("\\d+")) {
                        position = Math.min(Integer.parseInt(words.get(2)) - 1, chain.rules.size());
                        if (position < 0) {
                            throw new IllegalArgumentException("rule position must be 1 or more");
                        }
                        first = 3;
                    }
                }
                IptablesRule rule = RuleParser.parse(name, words.subList(first, words.size()), rest, origin);
                chain.rules.add(position, rule);
            }
            case "-N", "--new-chain" -> {
                String name = chainName(word(words, 1, "-N needs a chain"));
                if (chains.containsKey(name)) {
                    throw new IllegalArgumentException("chain " + name + " already exists");
                }
                chains.put(name, new ChainBuilder(name, null));
            }
            case "-X", "--delete-chain" -> {
                if (words.size() == 1) {
                    chains.values().removeIf(c -> c.policy == null);
                } else {
                    String name = chainName(words.get(1));
                    if (chains.remove(name) == null) {
                        throw new IllegalArgumentException("-X " + name + ": no such chain");
                    }
                }
            }
            case "-F", "--flush" -> {
                if (words.size() == 1) {
                    chains.values().forEach(c -> c.rules.clear());
                } else {
                    ChainBuilder chain = chains.get(chainName(words.get(1)));
                    if (chain == null) {
                        throw new IllegalArgumentException("-F " + words.get(1) + ": no such chain");
                    }
                    chain.rules.clear();
                }
            }
            case "-P", "--policy" -> {
                ChainBuilder chain = chains.get(chainName(word(words, 1, "-P needs a chain")));
                String policy = word(words, 2, "-P needs a policy");
                if (chain == null || chain.policy == null) {
                    throw new IllegalArgumentException("-P " + words.get(1) + ": not a built-in chain");
                }
                chain.policy = policy;
            }
            default -> throw new IllegalArgumentException("unsupported command \"" + abbreviate(line) + "\"");
        }
    }

    private static Map<String, IptablesRuleset.Chain> resolve(Map<String, ChainBuilder> chains) {
        Set<String> names = new HashSet<>(chains.keySet());
        Map<String, IptablesRuleset.Chain> resolved = new LinkedHashMap<>();
        for (ChainBuilder chain : chains.values()) {
            List<IptablesRule> rules = new ArrayList<>(chain.rules.size());
            for (IptablesRule rule : chain.rules) {
                rules.add(rule.resolve(names));
            }
            resolved.put(chain.name, new IptablesRuleset.Chain(chain.name, chain.policy, rules));
        }
        return resolved;
    }

    private static String chainName(String name) {
        if (!CHAIN_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("bad chain name \"" + abbreviate(name) + "\"");
        }
        return name;
    }

    private static String word(List<String> words, int index, String missing) {
        if (index >= words.size()) {
            throw new IllegalArgumentException(missing);
        }
        return words.get(index);
    }

    private static String abbreviate(String text) {
        return text.length() <= 80 ? text : text.substring(0, 77) + "...";
    }
}
