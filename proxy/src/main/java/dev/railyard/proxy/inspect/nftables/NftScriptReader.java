package dev.railyard.proxy.inspect.nftables;

import dev.railyard.nftables.BaseChain;
import dev.railyard.nftables.Element;
import dev.railyard.nftables.Family;
import dev.railyard.nftables.NftException;
import dev.railyard.nftables.NftMap;
import dev.railyard.nftables.NftSet;
import dev.railyard.nftables.Rule;
import dev.railyard.nftables.Ruleset;
import dev.railyard.nftables.ScriptParser;
import dev.railyard.nftables.Transaction;
import dev.railyard.proxy.inspect.RulesetInputException;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads an nft script of one-line commands ({@code add table/chain/rule/set/map/element ...}), as
 * {@code railyard render --proxy-mode nftables} prints it and as knftables' Fake dumps a state, by running it
 * through {@link ScriptParser} into an in-memory {@link Ruleset} with the kernel's transaction rules, and taking
 * the resulting tables. A dump whose lines are all {@code add} is a state, not a transaction (kube-proxy's
 * expected texts list a chain's rules before the chain), so it is applied declarations first.
 */
public final class NftScriptReader {
    private static final Set<String> VERBS = Set.of("add", "create", "insert", "flush", "delete");
    private static final List<String> KIND_ORDER = List.of("table", "chain", "set", "map", "rule", "element");

    private NftScriptReader() {
    }

    /**
     * @throws RulesetInputException naming the line that is not a command of this model, or the operation the
     *                               kernel would refuse
     */
    public static NftablesRuleset read(String source, String text) throws RulesetInputException {
        String[] lines = text.split("\n", -1);
        // Each table's lines, others blanked so that line numbers stay the input's.
        Map<String, String[]> byTable = new LinkedHashMap<>();
        Map<String, Set<String>> chainOrder = new LinkedHashMap<>();
        boolean onlyAdds = true;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#") || line.equals("flush ruleset")) {
                continue;
            }
            String[] words = words(line);
            if (words.length < 4) {
                throw new RulesetInputException(source, i + 1, "not an nft command: " + line);
            }
            if (words[0].equals("define") || words[0].equals("include")) {
                throw new RulesetInputException(source, i + 1, words[0] + " is not supported: give the output of "
                        + "nft list ruleset instead");
            }
            if (!VERBS.contains(words[0])) {
                throw new RulesetInputException(source, i + 1, "not an nft command (add, create, insert, flush or "
                        + "delete): " + line);
            }
            String key = words[2] + " " + words[3];
            if (words[1].equals("set") && (words[0].equals("add") || words[0].equals("create"))) {
                line = setForModel(line);
            }
            byTable.computeIfAbsent(key, k -> new String[lines.length])[i] = line;
            onlyAdds &= words[0].equals("add");
            if ((words[0].equals("add") || words[0].equals("create")) && words[1].equals("chain") && words.length > 4) {
                chainOrder.computeIfAbsent(key, k -> new LinkedHashSet<>()).add(words[4]);
            }
        }
        Ruleset ruleset = new Ruleset();
        List<String[]> tables = new ArrayList<>();
        for (Map.Entry<String, String[]> entry : byTable.entrySet()) {
            String[] familyAndName = entry.getKey().split(" ");
            Family family;
            try {
                family = Family.of(familyAndName[0]);
            } catch (IllegalArgumentException e) {
                throw new RulesetInputException(source, firstLine(entry.getValue()), e.getMessage());
            }
            String script = String.join("\n", onlyAdds ? declarationsFirst(entry.getValue())
                    : blanksForNull(entry.getValue()));
            Transaction tx;
            try {
                tx = ScriptParser.parse(script, family, familyAndName[1]);
            } catch (IllegalArgumentException e) {
                throw new RulesetInputException(source, 0, e.getMessage());
            }
            try {
                ruleset.apply(tx);
            } catch (NftException e) {
                throw new RulesetInputException(source, 0, "nft would refuse it: " + e.getMessage());
            }
            tables.add(familyAndName);
        }
        List<NftablesRuleset.Table> result = new ArrayList<>();
        for (String[] table : tables) {
            Family family = Family.of(table[0]);
            if (ruleset.hasTable(family, table[1])) {
                result.add(table(ruleset, family, table[1], source,
                        chainOrder.getOrDefault(table[0] + " " + table[1], Set.of())));
            }
        }
        return new NftablesRuleset(source, result, List.of());
    }

    /** The state {@code tx} leaves (applied to an empty ruleset), e.g. what {@code railyard render} writes. */
    public static NftablesRuleset read(String source, Transaction tx) {
        Ruleset ruleset = new Ruleset();
        try {
            ruleset.apply(tx);
        } catch (NftException e) {
            throw new IllegalStateException(source + ": the transaction does not apply: " + e.getMessage(), e);
        }
        Set<String> order = new LinkedHashSet<>();
        for (Transaction.Operation operation : tx.operations()) {
            if (operation.object() instanceof dev.railyard.nftables.Chain chain) {
                order.add(chain.name());
            }
        }
        List<NftablesRuleset.Table> tables = new ArrayList<>();
        if (ruleset.hasTable(tx.family(), tx.table())) {
            tables.add(table(ruleset, tx.family(), tx.table(), source, order));
        }
        return new NftablesRuleset(source, tables, List.of());
    }

    private static NftablesRuleset.Table table(Ruleset ruleset, Family family, String name, String source,
                                               Set<String> chainOrder) {
        Set<String> names = new LinkedHashSet<>();
        for (String chain : chainOrder) {
            if (ruleset.chain(family, name, chain) != null) {
                names.add(chain);
            }
        }
        names.addAll(ruleset.chainNames(family, name));
        Map<String, NftablesRuleset.Chain> chains = new LinkedHashMap<>();
        for (String chainName : names) {
            dev.railyard.nftables.Chain chain = ruleset.chain(family, name, chainName);
            BaseChain base = chain.base();
            NftablesRuleset.Hook hook = base == null ? null
                    : new NftablesRuleset.Hook(base.type(), base.hook(), base.priority(), "accept");
            List<NftablesRule> rules = new ArrayList<>();
            for (Rule rule : ruleset.rules(family, name, chainName)) {
                String text = rule.body() + (rule.comment() == null ? "" : " comment \"" + rule.comment() + "\"");
                rules.add(NftRuleParser.parse(text, source));
            }
            chains.put(chainName, new NftablesRuleset.Chain(chainName, hook, rules));
        }
        Map<String, NftablesRuleset.Container> containers = new LinkedHashMap<>();
        for (String setName : ruleset.setNames(family, name)) {
            NftSet set = ruleset.set(family, name, setName);
            containers.put(setName, new NftablesRuleset.Container(setName, false, set.type(),
                    new HashSet<>(set.flags()), set.timeoutSeconds(), elements(ruleset, family, name, setName)));
        }
        for (String mapName : ruleset.mapNames(family, name)) {
            NftMap map = ruleset.map(family, name, mapName);
            containers.put(mapName, new NftablesRuleset.Container(mapName, true, map.type(),
                    new HashSet<>(map.flags()), 0, elements(ruleset, family, name, mapName)));
        }
        return new NftablesRuleset.Table(family.keyword(), name, chains, containers);
    }

    private static List<NftablesRuleset.Element> elements(Ruleset ruleset, Family family, String table,
                                                          String container) {
        List<NftablesRuleset.Element> elements = new ArrayList<>();
        for (Element element : ruleset.elements(family, table, container)) {
            elements.add(new NftablesRuleset.Element(element.key(), element.value(), element.comment()));
        }
        return elements;
    }

    /**
     * A set declaration as the nftables model reads it ({@code { type T ; flags F ; timeout Ns ; comment "C" ; }}),
     * from what nft also accepts: a {@code typeof} key (the flat layout's shared affinity set is keyed by {@code
     * ip saddr . numgen random mod 1}, which has no type name) becomes the type text, as nft's listing is read (a
     * lookup reads elements by the rule's key, not the set's type); a {@code size} is dropped (it only bounds how
     * many elements the kernel keeps); a timeout in nft's spelling ({@code 10m}, {@code 1h30m}) is written in
     * seconds. Other clauses are left for the model to accept or refuse.
     */
    static String setForModel(String line) {
        int open = line.indexOf('{');
        int close = line.lastIndexOf('}');
        if (open < 0 || close < open) {
            return line;
        }
        List<String> clauses = new ArrayList<>();
        int from = open + 1;
        boolean quoted = false;
        for (int i = from; i < close; i++) {
            char c = line.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (c == ';' && !quoted) {
                clauses.add(line.substring(from, i).strip());
                from = i + 1;
            }
        }
        clauses.add(line.substring(from, close).strip());
        List<String> kept = new ArrayList<>();
        for (String clause : clauses) {
            if (clause.isEmpty() || clause.startsWith("size ")) {
                continue;
            }
            if (clause.startsWith("typeof ")) {
                kept.add("type " + clause.substring(7).strip());
            } else if (clause.startsWith("timeout ")) {
                String time = clause.substring(8).strip();
                long seconds = NftListingParser.seconds(time);
                kept.add(seconds > 0 ? "timeout " + seconds + "s" : clause);
            } else {
                kept.add(clause);
            }
        }
        kept.sort(java.util.Comparator.comparingInt(NftScriptReader::clauseOrder));
        StringBuilder out = new StringBuilder(line.substring(0, open)).append('{');
        for (String clause : kept) {
            out.append(' ').append(clause).append(" ;");
        }
        return out.append(" }").append(line.substring(close + 1)).toString();
    }

    /** The order the model writes a set's clauses in; others keep theirs, after them. */
    private static int clauseOrder(String clause) {
        String word = clause.split("\\s+", 2)[0];
        return switch (word) {
            case "type" -> 0;
            case "flags" -> 1;
            case "timeout" -> 2;
            case "comment" -> 3;
            default -> 4;
        };
    }

    /** The first five words of a command line (verb, kind, family, table, name), split at blanks. */
    private static String[] words(String line) {
        String[] words = new String[5];
        int count = 0;
        int i = 0;
        while (count < 5 && i < line.length()) {
            while (i < line.length() && Character.isWhitespace(line.charAt(i))) {
                i++;
            }
            int start = i;
            while (i < line.length() && !Character.isWhitespace(line.charAt(i))) {
                i++;
            }
            if (i > start) {
                words[count++] = line.substring(start, i);
            }
        }
        return java.util.Arrays.copyOf(words, count);
    }

    /** A state dump's lines, declarations first (a stable sort by kind), then rules, then elements. */
    private static String[] declarationsFirst(String[] lines) {
        List<String> sorted = new ArrayList<>();
        for (String kind : KIND_ORDER) {
            for (String line : lines) {
                if (line != null && words(line)[1].equals(kind)) {
                    sorted.add(line);
                }
            }
        }
        for (String line : lines) {
            if (line != null && !KIND_ORDER.contains(words(line)[1])) {
                sorted.add(line);
            }
        }
        return sorted.toArray(new String[0]);
    }

    private static String[] blanksForNull(String[] lines) {
        String[] copy = new String[lines.length];
        for (int i = 0; i < lines.length; i++) {
            copy[i] = lines[i] == null ? "" : lines[i];
        }
        return copy;
    }

    private static int firstLine(String[] lines) {
        for (int i = 0; i < lines.length; i++) {
            if (lines[i] != null) {
                return i + 1;
            }
        }
        return 0;
    }
}
