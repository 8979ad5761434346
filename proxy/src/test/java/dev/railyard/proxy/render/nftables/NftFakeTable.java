package dev.railyard.proxy.render.nftables;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Java model of one table of the knftables {@code Fake} (sigs.k8s.io/knftables fake.go, objects.go): chains with
 * their rules, sets and maps with their elements. It reads the text the Fake's {@code Dump()} prints (the lines
 * {@code add table/chain/set/map/rule/element FAMILY TABLE ...}), applies transactions the way {@code Fake.Run} does,
 * and prints the same {@code Dump()} text back.
 *
 * <p>What the Fake does, and this model copies:
 * <ul>
 * <li>{@code add} of an existing table, chain, set or map does nothing (not even a changed hook or priority);
 * {@code add} of an element whose key exists replaces that element in place; {@code create} of anything that exists
 * fails; {@code delete}/{@code flush} of something missing fails; {@code destroy} never fails.</li>
 * <li>{@code flush chain} empties the chain, {@code flush set/map} drops the elements, {@code flush table} replaces the
 * table with an empty one; {@code delete chain} removes it (rules included), even if a later {@code add} in the same
 * transaction recreates it empty.</li>
 * <li>a rule's {@code jump X}/{@code goto X} needs chain X, {@code vmap @M}/{@code map @M} needs map M, any other
 * {@code @S} needs a set or map S, and a map element whose value is {@code goto X}/{@code jump X} needs chain X, all
 * checked when the operation runs, in transaction order.</li>
 * <li>a transaction is all or nothing.</li>
 * <li>{@code Dump()} prints the table, then chains, sets and maps each sorted by name, then every chain's rules (chains
 * by name, rules in order), then set elements and map elements (containers by name, elements in insertion order).</li>
 * </ul>
 * Not modelled (kube-proxy's nftables mode uses none of them): rule handles and indexes, {@code insert}/{@code replace}
 * of rules, flowtables, counters, several tables in one model.
 */
public final class NftFakeTable {

    /** A rule: its chain, its text and its comment ({@code null} if none), as knftables' Rule. */
    public record Rule(String chain, String rule, String comment) {
    }

    /** A set or map element, as knftables' Element: key words, comment ({@code null} if none), value words. */
    public record Element(List<String> key, String comment, List<String> value) {
        public Element {
            key = List.copyOf(key);
            value = List.copyOf(value);
        }
    }

    /** A chain; base chains have a type, hook and priority. */
    public static final class Chain {
        final String name;
        final String type;
        final String hook;
        final String device;
        final String priority;
        final String policy;
        final String comment;
        final List<Rule> rules = new ArrayList<>();

        Chain(String name, String type, String hook, String device, String priority, String policy, String comment) {
            this.name = name;
            this.type = type;
            this.hook = hook;
            this.device = device;
            this.priority = priority;
            this.policy = policy;
            this.comment = comment;
        }

        public String name() {
            return name;
        }

        public boolean isBaseChain() {
            return type != null;
        }

        public List<Rule> rules() {
            return Collections.unmodifiableList(rules);
        }

        Chain copy() {
            Chain copy = new Chain(name, type, hook, device, priority, policy, comment);
            copy.rules.addAll(rules);
            return copy;
        }
    }

    /** A set or a map: its declaration and its elements. */
    public static final class Container {
        final String kind;
        final String name;
        final String typeKeyword;
        final String type;
        final String flags;
        final String timeout;
        final String gcInterval;
        final String size;
        final String policy;
        final boolean autoMerge;
        final String comment;
        final List<Element> elements = new ArrayList<>();

        Container(String kind, String name, String typeKeyword, String type, String flags, String timeout,
                String gcInterval, String size, String policy, boolean autoMerge, String comment) {
            this.kind = kind;
            this.name = name;
            this.typeKeyword = typeKeyword;
            this.type = type;
            this.flags = flags;
            this.timeout = timeout;
            this.gcInterval = gcInterval;
            this.size = size;
            this.policy = policy;
            this.autoMerge = autoMerge;
            this.comment = comment;
        }

        public String name() {
            return name;
        }

        public List<Element> elements() {
            return Collections.unmodifiableList(elements);
        }

        /** knftables' {@code FindElement(key...)}: the element with exactly this key, or {@code null}. */
        public Element findElement(String... key) {
            int i = indexOf(elements, Arrays.asList(key));
            return i < 0 ? null : elements.get(i);
        }

        Container copy() {
            Container copy = new Container(kind, name, typeKeyword, type, flags, timeout, gcInterval, size, policy,
                    autoMerge, comment);
            copy.elements.addAll(elements);
            return copy;
        }
    }

    /** Why a line could not be parsed or an operation could not run (the Fake's error, with the line). */
    public static final class NftFakeException extends RuntimeException {
        NftFakeException(String message) {
            super(message);
        }
    }

    private final String family;
    private final String tableName;
    private boolean tableExists;
    private String tableComment;
    private String tableFlags;
    private Map<String, Chain> chains = new TreeMap<>(GoStrings.ORDER);
    private Map<String, Container> sets = new TreeMap<>(GoStrings.ORDER);
    private Map<String, Container> maps = new TreeMap<>(GoStrings.ORDER);
    private int lastTransactionOperations = -1;

    private NftFakeTable(String family, String tableName) {
        this.family = family;
        this.tableName = tableName;
    }

    /** An empty fake for one table, as {@code knftables.NewFake(family, table)}: the table does not exist yet. */
    public static NftFakeTable empty(String family, String tableName) {
        return new NftFakeTable(family, tableName);
    }

    /**
     * The state a {@code Dump()}-style text describes, whatever the order of its lines (kube-proxy's expected texts
     * list a chain's rules before the chain): declarations are applied first, then rules and elements in text
     * order. Only {@code add} lines are allowed. Family and table come from the first line.
     */
    public static NftFakeTable fromDump(String text) {
        List<String> lines = contentLines(text);
        if (lines.isEmpty()) {
            throw new NftFakeException("no nftables lines in the text");
        }
        Matcher first = LINE.matcher(lines.get(0));
        if (!first.matches()) {
            throw new NftFakeException("cannot parse line 1: " + lines.get(0));
        }
        NftFakeTable table = empty(first.group(3), first.group(4));
        List<String> ordered = new ArrayList<>();
        for (String type : List.of("table", "chain", "set", "map")) {
            for (String line : lines) {
                if (typeOf(line).equals(type)) {
                    ordered.add(line);
                }
            }
        }
        for (String line : lines) {
            String type = typeOf(line);
            if (type.equals("rule") || type.equals("element")) {
                ordered.add(line);
            } else if (!List.of("table", "chain", "set", "map").contains(type)) {
                throw new NftFakeException("a dump has only add table/chain/set/map/rule/element lines, not: " + line);
            }
        }
        for (String line : ordered) {
            if (!line.startsWith("add ")) {
                throw new NftFakeException("a dump has only \"add\" lines, not: " + line);
            }
        }
        table.run(String.join("\n", ordered));
        return table;
    }

    /** knftables' {@code ParseDump}: the lines, in their order, as one transaction on this fake. */
    public void parseDump(String text) {
        for (String line : contentLines(text)) {
            if (!line.startsWith("add ")) {
                throw new NftFakeException("ParseDump reads only \"add\" lines, not: " + line);
            }
        }
        run(text);
    }

    /**
     * {@code Fake.Run(tx)}: applies the transaction (one operation per non-blank, non-'#' line) or, if any operation
     * fails, nothing; {@link #lastTransactionOperations()} is set either way, as the Fake sets LastTransaction.
     */
    public void run(String transaction) {
        List<String> lines = contentLines(transaction);
        lastTransactionOperations = lines.size();
        NftFakeTable work = copy();
        int number = 0;
        for (String line : lines) {
            number++;
            try {
                work.apply(line);
            } catch (NftFakeException e) {
                throw new NftFakeException(e.getMessage() + " (operation " + number + ": " + line + ")");
            }
        }
        tableExists = work.tableExists;
        tableComment = work.tableComment;
        tableFlags = work.tableFlags;
        chains = work.chains;
        sets = work.sets;
        maps = work.maps;
    }

    /** {@code LastTransaction.NumOperations()}, or -1 if no transaction ran. */
    public int lastTransactionOperations() {
        return lastTransactionOperations;
    }

    public String family() {
        return family;
    }

    public String tableName() {
        return tableName;
    }

    public boolean exists() {
        return tableExists;
    }

    /** The chain, or {@code null}. */
    public Chain chain(String name) {
        return chains.get(name);
    }

    /** The set, or {@code null}. */
    public Container set(String name) {
        return sets.get(name);
    }

    /** The map, or {@code null}. */
    public Container map(String name) {
        return maps.get(name);
    }

    public List<Chain> chains() {
        return List.copyOf(chains.values());
    }

    public List<Container> sets() {
        return List.copyOf(sets.values());
    }

    public List<Container> maps() {
        return List.copyOf(maps.values());
    }

    /** {@code Fake.Dump()}: the whole table as {@code add} lines, each ending in "\n" (empty if there is no table). */
    public String dump() {
        if (!tableExists) {
            return "";
        }
        StringBuilder out = new StringBuilder();
        out.append("add table ").append(family).append(' ').append(tableName);
        if (tableComment != null || tableFlags != null) {
            out.append(" {");
            if (tableComment != null) {
                out.append(" comment ").append(quote(tableComment)).append(" ;");
            }
            if (tableFlags != null) {
                out.append(" flags ").append(tableFlags).append(" ;");
            }
            out.append(" }");
        }
        out.append('\n');
        for (Chain chain : chains.values()) {
            out.append(prefix("chain")).append(chain.name);
            if (chain.type != null || chain.comment != null) {
                out.append(" {");
                if (chain.type != null) {
                    out.append(" type ").append(chain.type).append(" hook ").append(chain.hook);
                    if (chain.device != null) {
                        out.append(" device ").append(quote(chain.device));
                    }
                    out.append(" priority ").append(numericPriority(chain.priority)).append(" ;");
                    if (chain.policy != null) {
                        out.append(" policy ").append(chain.policy).append(" ;");
                    }
                }
                if (chain.comment != null) {
                    out.append(" comment ").append(quote(chain.comment)).append(" ;");
                }
                out.append(" }");
            }
            out.append('\n');
        }
        for (Container set : sets.values()) {
            appendDeclaration(out, set);
        }
        for (Container map : maps.values()) {
            appendDeclaration(out, map);
        }
        for (Chain chain : chains.values()) {
            for (Rule rule : chain.rules) {
                out.append(prefix("rule")).append(chain.name).append(' ').append(rule.rule());
                if (rule.comment() != null) {
                    out.append(" comment ").append(quote(rule.comment()));
                }
                out.append('\n');
            }
        }
        for (Container set : sets.values()) {
            appendElements(out, set);
        }
        for (Container map : maps.values()) {
            appendElements(out, map);
        }
        return out.toString();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Applying one operation (Fake.run's switch)

    /** verb, object type, family, table, rest (knftables writes every operation like this). */
    private static final Pattern LINE = Pattern.compile("^(\\S+) (\\S+) (\\S+) (\\S+)(?: (.*))?$");

    // knftables objects.go regexps; commentGroup is (".*"), noSpaceGroup ([^ ]*), numberGroup ([0-9]*).
    private static final Pattern TABLE = Pattern.compile("^(?:\\{ (?:comment (\".*\") ; )?(?:flags ([^ ]*) ; )?\\})?");
    private static final Pattern CHAIN = Pattern.compile("^([^ ]*)(?: \\{(?: type ([^ ]*) hook ([^ ]*)"
            + "(?: device \"([^ ]*)\")?(?: priority ([^ ]*) ;)(?: policy ([^ ]*) ;)?)?(?: comment (\".*\") ;)? \\})?");
    private static final Pattern RULE = Pattern.compile(
            "^([^ ]*)(?: index ([0-9]*))?(?: handle ([0-9]*))? ([^\"]*)(?: comment (\".*\"))?$");
    private static final String MAP_OR_SET = "^([^ ]*) \\{(?: (type|typeof) ([^;]*)) ;(?: flags ([^;]*) ;)?"
            + "(?: timeout ([0-9]*)s ;)?(?: gc-interval ([0-9]*)s ;)?(?: size ([^ ]*) ;)?(?: policy ([^ ]*) ;)?%s"
            + "(?: comment (\".*\") ;)? \\}";
    private static final Pattern MAP = Pattern.compile(String.format(MAP_OR_SET, "()"));
    private static final Pattern SET = Pattern.compile(String.format(MAP_OR_SET, "( auto-merge ;)?"));
    private static final Pattern MAP_ELEMENT = Pattern.compile("^([^ ]*) \\{ ([^\"]*)(?: comment (\".*\"))? : (.*) \\}");
    private static final Pattern SET_ELEMENT = Pattern.compile("^([^ ]*) \\{ ([^\"]*)(?: comment (\".*\"))? \\}");

    private void apply(String line) {
        Matcher m = LINE.matcher(line);
        if (!m.matches()) {
            throw new NftFakeException("could not parse");
        }
        String verb = m.group(1);
        String type = m.group(2);
        if (!m.group(3).equals(family)) {
            throw new NftFakeException("wrong family \"" + m.group(3) + "\" (this fake is " + family + ")");
        }
        String rest = m.group(5) == null ? "" : m.group(5);
        if (!List.of("add", "create", "delete", "destroy", "flush").contains(verb)) {
            throw new NftFakeException("operation \"" + verb + "\" is not supported by this model");
        }
        if (type.equals("table")) {
            if (!m.group(4).equals(tableName)) {
                throw new NftFakeException("wrong table name \"" + m.group(4) + "\" (this fake is " + tableName + ")");
            }
            applyTable(verb, rest);
            return;
        }
        if (!m.group(4).equals(tableName)) {
            throw new NftFakeException("wrong table name \"" + m.group(4) + "\" (this fake is " + tableName + ")");
        }
        if (!tableExists) {
            throw new NftFakeException("no such table \"" + family + "\" \"" + tableName + "\"");
        }
        switch (type) {
            case "chain" -> applyChain(verb, rest);
            case "rule" -> applyRule(verb, rest);
            case "set" -> applyContainer(verb, "set", rest, sets, SET);
            case "map" -> applyContainer(verb, "map", rest, maps, MAP);
            case "element" -> applyElement(verb, rest);
            default -> throw new NftFakeException("unknown object " + type);
        }
    }

    private void applyTable(String verb, String rest) {
        Matcher m = TABLE.matcher(rest);
        if (!m.find()) {
            throw new NftFakeException("failed parsing table add command");
        }
        checkExists(verb, "table", tableName, tableExists);
        switch (verb) {
            case "flush":
                tableExists = false;
                // fall through: the Fake replaces the table with a fresh one
            case "add", "create":
                if (tableExists) {
                    return;
                }
                tableExists = true;
                tableComment = comment(m.group(1));
                tableFlags = m.group(2) == null || m.group(2).isEmpty() ? null : m.group(2);
                chains = new TreeMap<>(GoStrings.ORDER);
                sets = new TreeMap<>(GoStrings.ORDER);
                maps = new TreeMap<>(GoStrings.ORDER);
                return;
            default: // delete, destroy
                tableExists = false;
                tableComment = null;
                tableFlags = null;
                chains = new TreeMap<>(GoStrings.ORDER);
                sets = new TreeMap<>(GoStrings.ORDER);
                maps = new TreeMap<>(GoStrings.ORDER);
        }
    }

    private void applyChain(String verb, String rest) {
        Matcher m = CHAIN.matcher(rest);
        if (!m.find()) {
            throw new NftFakeException("failed parsing chain add command");
        }
        String name = m.group(1);
        Chain existing = chains.get(name);
        checkExists(verb, "chain", name, existing != null);
        switch (verb) {
            case "add", "create" -> {
                if (existing == null) {
                    chains.put(name, new Chain(name, empty(m.group(2)), empty(m.group(3)), empty(m.group(4)),
                            empty(m.group(5)), empty(m.group(6)), comment(m.group(7))));
                }
            }
            case "flush" -> existing.rules.clear();
            default -> chains.remove(name);
        }
    }

    private void applyRule(String verb, String rest) {
        if (!verb.equals("add")) {
            throw new NftFakeException("\"" + verb + " rule\" is not supported by this model (no rule handles)");
        }
        Matcher m = RULE.matcher(rest);
        if (!m.find()) {
            throw new NftFakeException("failed parsing rule add command");
        }
        if (m.group(2) != null || m.group(3) != null) {
            throw new NftFakeException("rule index/handle is not supported by this model");
        }
        Chain chain = chains.get(m.group(1));
        if (chain == null) {
            throw new NftFakeException("no such chain \"" + m.group(1) + "\"");
        }
        checkRuleRefs(m.group(4));
        chain.rules.add(new Rule(m.group(1), m.group(4), comment(m.group(5))));
    }

    private void applyContainer(String verb, String kind, String rest, Map<String, Container> containers,
            Pattern pattern) {
        String name;
        Matcher m = null;
        if (verb.equals("add") || verb.equals("create")) {
            m = pattern.matcher(rest);
            if (!m.find()) {
                throw new NftFakeException("failed parsing " + kind + " add command");
            }
            name = m.group(1);
        } else {
            name = rest.split(" ", 2)[0];
        }
        Container existing = containers.get(name);
        checkExists(verb, kind, name, existing != null);
        switch (verb) {
            case "add", "create" -> {
                if (existing == null) {
                    containers.put(name, new Container(kind, name, m.group(2), m.group(3), empty(m.group(4)),
                            empty(m.group(5)), empty(m.group(6)), empty(m.group(7)), empty(m.group(8)),
                            m.group(9) != null && !m.group(9).isEmpty(), comment(m.group(10))));
                }
            }
            case "flush" -> existing.elements.clear();
            default -> containers.remove(name);
        }
    }

    private void applyElement(String verb, String rest) {
        if (!List.of("add", "create", "delete", "destroy").contains(verb)) {
            throw new NftFakeException(verb + " is not implemented for elements");
        }
        Matcher m = MAP_ELEMENT.matcher(rest);
        boolean mapElement = m.find();
        if (!mapElement) {
            m = SET_ELEMENT.matcher(rest);
            if (!m.find()) {
                throw new NftFakeException("failed parsing element add command");
            }
        }
        String name = m.group(1);
        List<String> key = List.of(m.group(2).split(" \\. ", -1));
        List<String> value = mapElement ? List.of(m.group(4).split(" \\. ", -1)) : List.of();
        // A line names its container but not its kind; a value means a map. For a delete (no value) the container
        // decides, since a transaction written by kube-proxy knows which one it deletes from.
        Container container;
        if (mapElement || (!sets.containsKey(name) && maps.containsKey(name))) {
            container = maps.get(name);
            if (container == null) {
                throw new NftFakeException("no such map \"" + name + "\"");
            }
            if (mapElement) {
                checkElementRefs(value);
            }
        } else {
            container = sets.get(name);
            if (container == null) {
                throw new NftFakeException("no such set \"" + name + "\"");
            }
        }
        int i = indexOf(container.elements, key);
        Element element = new Element(key, comment(m.group(3)), value);
        switch (verb) {
            case "add", "create" -> {
                if (container.kind.equals("map") && value.isEmpty()) {
                    throw new NftFakeException("no map value specified for map element");
                }
                if (i >= 0) {
                    if (verb.equals("create")) {
                        throw new NftFakeException("element \"" + String.join(" . ", key) + "\" already exists");
                    }
                    container.elements.set(i, element);
                } else {
                    container.elements.add(element);
                }
            }
            default -> {
                if (i >= 0) {
                    container.elements.remove(i);
                } else if (verb.equals("delete")) {
                    throw new NftFakeException("no such element \"" + String.join(" . ", key) + "\"");
                }
            }
        }
    }

    private static void checkExists(String verb, String type, String name, boolean exists) {
        switch (verb) {
            case "add", "destroy" -> {
            }
            case "create" -> {
                if (exists) {
                    throw new NftFakeException(type + " \"" + name + "\" already exists");
                }
            }
            default -> {
                if (!exists) {
                    throw new NftFakeException("no such " + type + " \"" + name + "\"");
                }
            }
        }
    }

    /** knftables' checkRuleRefs. */
    private void checkRuleRefs(String rule) {
        String[] words = rule.split(" ", -1);
        for (int i = 0; i < words.length; i++) {
            String word = words[i];
            if (word.startsWith("@") && !word.contains(",")) {
                String name = word.substring(1);
                String previous = i > 0 ? words[i - 1] : "";
                if (previous.equals("map") || previous.equals("vmap")) {
                    if (!maps.containsKey(name)) {
                        throw new NftFakeException("no such map \"" + name + "\"");
                    }
                } else if (previous.equals("offload") || previous.equals("add")) {
                    throw new NftFakeException("no such flowtable \"" + name + "\"");
                } else if (!sets.containsKey(name) && !maps.containsKey(name)) {
                    throw new NftFakeException("no such set \"" + name + "\"");
                }
            } else if ((word.equals("goto") || word.equals("jump")) && i < words.length - 1) {
                if (!chains.containsKey(words[i + 1])) {
                    throw new NftFakeException("no such chain \"" + words[i + 1] + "\"");
                }
            }
        }
    }

    /** knftables' checkElementRefs. */
    private void checkElementRefs(List<String> value) {
        if (value.size() != 1) {
            return;
        }
        String[] words = value.get(0).split(" ", -1);
        if (words.length == 2 && (words[0].equals("goto") || words[0].equals("jump"))
                && !chains.containsKey(words[1])) {
            throw new NftFakeException("no such chain \"" + words[1] + "\"");
        }
    }

    // ---------------------------------------------------------------------------------------------------------------

    private NftFakeTable copy() {
        NftFakeTable copy = new NftFakeTable(family, tableName);
        copy.tableExists = tableExists;
        copy.tableComment = tableComment;
        copy.tableFlags = tableFlags;
        chains.forEach((name, chain) -> copy.chains.put(name, chain.copy()));
        sets.forEach((name, set) -> copy.sets.put(name, set.copy()));
        maps.forEach((name, map) -> copy.maps.put(name, map.copy()));
        return copy;
    }

    private String prefix(String type) {
        return "add " + type + " " + family + " " + tableName + " ";
    }

    private void appendDeclaration(StringBuilder out, Container c) {
        out.append(prefix(c.kind)).append(c.name).append(" { ").append(c.typeKeyword).append(' ').append(c.type)
                .append(" ;");
        if (c.flags != null) {
            out.append(" flags ").append(c.flags).append(" ;");
        }
        if (c.timeout != null) {
            out.append(" timeout ").append(c.timeout).append("s ;");
        }
        if (c.gcInterval != null) {
            out.append(" gc-interval ").append(c.gcInterval).append("s ;");
        }
        if (c.size != null) {
            out.append(" size ").append(c.size).append(" ;");
        }
        if (c.policy != null) {
            out.append(" policy ").append(c.policy).append(" ;");
        }
        if (c.autoMerge) {
            out.append(" auto-merge ;");
        }
        if (c.comment != null) {
            out.append(" comment ").append(quote(c.comment)).append(" ;");
        }
        out.append(" }\n");
    }

    private void appendElements(StringBuilder out, Container c) {
        for (Element e : c.elements) {
            out.append(prefix("element")).append(c.name).append(" { ").append(String.join(" . ", e.key()));
            if (e.comment() != null) {
                out.append(" comment ").append(quote(e.comment()));
            }
            if (!e.value().isEmpty()) {
                out.append(" : ").append(String.join(" . ", e.value()));
            }
            out.append(" }\n");
        }
    }

    /** knftables ParsePriority for the ip/ip6/inet families: a number, or a standard name plus or minus a number. */
    static String numericPriority(String priority) {
        Matcher m = Pattern.compile("^(raw|mangle|dstnat|filter|security|srcnat)([+-][0-9]+)?$").matcher(priority);
        if (!m.matches()) {
            return priority;
        }
        int base = switch (m.group(1)) {
            case "raw" -> -300;
            case "mangle" -> -150;
            case "dstnat" -> -100;
            case "filter" -> 0;
            case "security" -> 50;
            default -> 100;
        };
        return Integer.toString(base + (m.group(2) == null ? 0 : Integer.parseInt(m.group(2))));
    }

    private static String typeOf(String line) {
        String[] words = line.split(" ", 3);
        return words.length < 2 ? "" : words[1];
    }

    static List<String> contentLines(String text) {
        List<String> lines = new ArrayList<>();
        for (String raw : text.split("\n", -1)) {
            String line = raw.strip();
            if (!line.isEmpty() && line.charAt(0) != '#') {
                lines.add(line);
            }
        }
        return lines;
    }

    /** knftables getComment: the quoted group with all leading and trailing quotes trimmed, or null if absent. */
    private static String comment(String group) {
        if (group == null || group.isEmpty()) {
            return null;
        }
        int start = 0;
        int end = group.length();
        while (start < end && group.charAt(start) == '"') {
            start++;
        }
        while (end > start && group.charAt(end - 1) == '"') {
            end--;
        }
        return group.substring(start, end);
    }

    private static String empty(String group) {
        return group == null || group.isEmpty() ? null : group;
    }

    /** Go's %q for the plain comments kube-proxy writes (backslash and double quote escaped). */
    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static int indexOf(List<Element> elements, List<String> key) {
        for (int i = 0; i < elements.size(); i++) {
            if (Objects.equals(elements.get(i).key(), key)) {
                return i;
            }
        }
        return -1;
    }
}
