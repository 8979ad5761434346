package dev.railyard.proxy.inspect.nftables;

import dev.railyard.proxy.inspect.RulesetInputException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads {@code nft list ruleset} (or {@code nft list table}) output, the block syntax nft prints: tables holding
 * sets and maps (type or typeof, flags, timeout, elements over several lines, with comments) and chains (a hook
 * line {@code type filter hook prerouting priority dstnat - 10; policy accept;}, then one rule per line, in nft's
 * canonical spelling). Handles ({@code nft -a}) and {@code #} lines are skipped; flowtables and stateful objects
 * are skipped with a note. A rule it cannot read is kept and reported by the trace; only a broken block structure
 * makes the input unreadable.
 */
public final class NftListingParser {
    private static final Pattern TABLE = Pattern.compile("^table\\s+(\\S+)\\s+(\\S+)\\s*\\{$");
    private static final Pattern BLOCK = Pattern.compile("^(set|map|chain)\\s+(\\S+)\\s*\\{$");
    private static final Pattern OTHER_BLOCK = Pattern.compile("^(flowtable|counter|quota|limit|ct\\s+\\S+|secmark|"
            + "synproxy)\\s+(\\S+)\\s*\\{$");
    private static final Pattern HOOK = Pattern.compile("^type\\s+(\\S+)\\s+hook\\s+(\\S+)(?:\\s+device\\s+\\S+|\\s+"
            + "devices\\s*=\\s*\\{[^}]*\\})?\\s+priority\\s+([^;]+);(?:\\s*policy\\s+(\\S+?)\\s*;)?\\s*$");
    private static final Pattern HANDLE = Pattern.compile("\\s+# handle \\d+$");
    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|d|h|m|s)");

    private final String source;
    private final String[] lines;
    private final List<NftablesRuleset.Table> tables = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private int index;

    private NftListingParser(String source, String text) {
        this.source = source;
        this.lines = text.split("\n", -1);
    }

    /**
     * @param source what the text is, for messages ("node-a.nft", "nft list ruleset")
     * @throws RulesetInputException naming the line whose structure is broken
     */
    public static NftablesRuleset parse(String source, String text) throws RulesetInputException {
        NftListingParser parser = new NftListingParser(source, text);
        parser.run();
        return new NftablesRuleset(source, parser.tables, parser.notes);
    }

    private void run() throws RulesetInputException {
        while (index < lines.length) {
            String line = clean(lines[index++]);
            if (line.isEmpty() || line.equals("flush ruleset")) {
                continue;
            }
            Matcher table = TABLE.matcher(line);
            if (!table.matches()) {
                throw error("expected \"table FAMILY NAME {\" (nft list ruleset output), found \"" + line + "\"");
            }
            table(table.group(1), table.group(2));
        }
    }

    private void table(String family, String name) throws RulesetInputException {
        int start = index;
        Map<String, NftablesRuleset.Chain> chains = new LinkedHashMap<>();
        Map<String, NftablesRuleset.Container> containers = new LinkedHashMap<>();
        while (true) {
            if (index >= lines.length) {
                throw new RulesetInputException(source, start, "table " + family + " " + name + " is not closed");
            }
            String line = clean(lines[index++]);
            if (line.isEmpty() || line.startsWith("comment ") || line.startsWith("flags ")) {
                continue;
            }
            if (line.equals("}")) {
                break;
            }
            Matcher block = BLOCK.matcher(line);
            if (block.matches()) {
                String blockName = unquote(block.group(2));
                if (block.group(1).equals("chain")) {
                    chains.put(blockName, chain(blockName));
                } else {
                    containers.put(blockName, container(blockName, block.group(1).equals("map")));
                }
                continue;
            }
            Matcher other = OTHER_BLOCK.matcher(line);
            if (other.matches()) {
                skipBlock();
                notes.add("table " + family + " " + name + ": " + other.group(1) + " " + other.group(2)
                        + " is not traced");
                continue;
            }
            throw error("unexpected line in table " + family + " " + name + ": \"" + line + "\"");
        }
        if (!family.equals("ip") && !family.equals("ip6") && !family.equals("inet")) {
            boolean hooked = chains.values().stream().anyMatch(NftablesRuleset.Chain::isBase);
            if (hooked) {
                notes.add("table " + family + " " + name + " is not traced (only ip, ip6 and inet tables are)");
            }
        }
        tables.add(new NftablesRuleset.Table(family, name, chains, containers));
    }

    private NftablesRuleset.Chain chain(String name) throws RulesetInputException {
        int start = index;
        NftablesRuleset.Hook hook = null;
        List<NftablesRule> rules = new ArrayList<>();
        while (true) {
            if (index >= lines.length) {
                throw new RulesetInputException(source, start, "chain " + name + " is not closed");
            }
            int number = index + 1;
            String line = clean(lines[index++]);
            if (line.isEmpty()) {
                continue;
            }
            if (line.equals("}")) {
                break;
            }
            if (rules.isEmpty() && hook == null && line.startsWith("type ")) {
                Matcher m = HOOK.matcher(line);
                if (!m.matches()) {
                    throw new RulesetInputException(source, number, "chain " + name + ": cannot read \"" + line + "\"");
                }
                hook = new NftablesRuleset.Hook(m.group(1), m.group(2), priority(name, m.group(3).strip(), number),
                        m.group(4) == null ? "accept" : m.group(4).toLowerCase(Locale.ROOT));
                continue;
            }
            if (rules.isEmpty() && line.startsWith("comment \"") && line.endsWith("\"")
                    && line.indexOf('"', 9) == line.length() - 1) {
                continue; // the chain's own comment
            }
            if (rules.isEmpty() && line.startsWith("policy ")) {
                continue;
            }
            rules.add(NftRuleParser.parse(line, "line " + number));
        }
        return new NftablesRuleset.Chain(name, hook, rules);
    }

    private NftablesRuleset.Container container(String name, boolean map) throws RulesetInputException {
        int start = index;
        String type = null;
        Set<String> flags = new LinkedHashSet<>();
        long timeout = 0;
        List<NftablesRuleset.Element> elements = new ArrayList<>();
        while (true) {
            if (index >= lines.length) {
                throw new RulesetInputException(source, start, (map ? "map " : "set ") + name + " is not closed");
            }
            int number = index + 1;
            String line = clean(lines[index++]);
            if (line.isEmpty()) {
                continue;
            }
            if (line.equals("}")) {
                break;
            }
            if (line.startsWith("type ") || line.startsWith("typeof ")) {
                type = line.substring(line.indexOf(' ') + 1).strip();
            } else if (line.startsWith("flags ")) {
                for (String flag : line.substring(6).split(",")) {
                    flags.add(flag.strip());
                }
            } else if (line.startsWith("timeout ")) {
                timeout = seconds(line.substring(8).strip());
            } else if (line.startsWith("elements = {") || line.startsWith("elements ={")) {
                StringBuilder text = new StringBuilder(line.substring(line.indexOf('{')));
                while (depth(text) > 0) {
                    if (index >= lines.length) {
                        throw new RulesetInputException(source, number, "the elements of " + name + " are not closed");
                    }
                    text.append(' ').append(clean(lines[index++]));
                }
                List<String> words = NftWords.split(text.toString());
                elements.addAll(NftRuleParser.elements(words.subList(1, words.size() - 1)));
            }
            // size, policy, gc-interval, auto-merge, counter, comment: nothing a trace needs.
        }
        if (type == null) {
            throw new RulesetInputException(source, start, (map ? "map " : "set ") + name + " has no type");
        }
        return new NftablesRuleset.Container(name, map, type, flags, timeout, elements);
    }

    private void skipBlock() throws RulesetInputException {
        int start = index;
        int depth = 1;
        while (depth > 0) {
            if (index >= lines.length) {
                throw new RulesetInputException(source, start, "a block is not closed");
            }
            depth += depth(new StringBuilder(clean(lines[index++])));
        }
    }

    /** Opening minus closing braces outside quotes. */
    private static int depth(CharSequence text) {
        int depth = 0;
        boolean quoted = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (!quoted && c == '{') {
                depth++;
            } else if (!quoted && c == '}') {
                depth--;
            }
        }
        return depth;
    }

    /** "dstnat - 10" = -110, "filter" = 0, "-110", "srcnat + 5". */
    private int priority(String chain, String text, int line) throws RulesetInputException {
        String[] words = text.split("\\s+");
        try {
            int value = priorityValue(words[0]);
            if (words.length == 3 && (words[1].equals("+") || words[1].equals("-"))) {
                int offset = Integer.parseInt(words[2]);
                value += words[1].equals("+") ? offset : -offset;
            } else if (words.length != 1) {
                throw new NumberFormatException();
            }
            return value;
        } catch (NumberFormatException e) {
            throw new RulesetInputException(source, line, "chain " + chain + ": priority \"" + text
                    + "\" is not a number or a named priority");
        }
    }

    private static int priorityValue(String word) {
        Integer named = NftablesRuleset.PRIORITY_NAMES.get(word);
        return named != null ? named : Integer.parseInt(word);
    }

    /** "10m" = 600, "3h" = 10800, "1h30m", "600s", "1d". */
    static long seconds(String text) {
        Matcher m = DURATION.matcher(text);
        long total = 0;
        int end = 0;
        while (m.find()) {
            if (m.start() != end) {
                return 0;
            }
            long value = Long.parseLong(m.group(1));
            total += switch (m.group(2)) {
                case "d" -> value * 86400;
                case "h" -> value * 3600;
                case "m" -> value * 60;
                case "s" -> value;
                default -> 0;
            };
            end = m.end();
        }
        return end == text.length() ? total : 0;
    }

    private static String clean(String line) {
        String stripped = line.strip();
        if (stripped.startsWith("#")) {
            return "";
        }
        return HANDLE.matcher(stripped).replaceFirst("");
    }

    private static String unquote(String name) {
        return Value.unquote(name);
    }

    private RulesetInputException error(String message) {
        return new RulesetInputException(source, index, message);
    }
}
