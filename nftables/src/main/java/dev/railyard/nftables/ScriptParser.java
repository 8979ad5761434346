package dev.railyard.nftables;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads an nft script of one-line commands, as {@link Transaction#script()} and knftables write them and as
 * {@link Ruleset#dump()} prints a ruleset, back into a transaction (knftables' Fake.ParseDump does the same).
 * Blank lines and {@code #} comments are skipped. Every object is rebuilt through its constructor, so what is
 * read is checked as what is written.
 */
public final class ScriptParser {
    private static final Pattern COMMAND = Pattern.compile("^(add|create|insert|flush|delete) (\\S+) (\\S+) (\\S+)(?: (.*))?$");
    private static final Pattern TABLE = Pattern.compile("^(?:\\{ comment \"([^\"]*)\" ; \\})?$");
    private static final Pattern CHAIN = Pattern.compile(
            "^(\\S+)(?: \\{(?: type (\\S+) hook (\\S+) priority (-?\\d+) ;)?(?: comment \"([^\"]*)\" ;)? \\})?$");
    private static final Pattern RULE = Pattern.compile("^(\\S+) ([^\"]*?)(?: comment \"([^\"]*)\")?$");
    private static final Pattern CONTAINER = Pattern.compile("^(\\S+)(?: \\{ (type|typeof) ([^;]*) ;(?: flags ([^;]*) ;)?"
            + "(?: timeout (\\d+)s ;)?(?: size (\\d+) ;)?(?: comment \"([^\"]*)\" ;)? \\})?$");
    /** The key may hold IPv6 addresses (':'); only " : " separates it from the value, as nft writes it. */
    private static final Pattern ELEMENT = Pattern.compile(
            "^(\\S+) \\{ ([^\"]*?)(?: comment \"([^\"]*)\")?(?: : (.*))? \\}$");

    private ScriptParser() {
    }

    /**
     * @throws IllegalArgumentException naming the line when a line is not a command of this model, or names
     *                                  another table
     */
    public static Transaction parse(String script, Family family, String table) {
        Transaction tx = new Transaction(family, table);
        String[] lines = script.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            try {
                parseLine(line, tx);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("line " + (i + 1) + ": " + e.getMessage() + ": " + line, e);
            }
        }
        return tx;
    }

    private static void parseLine(String line, Transaction tx) {
        Matcher command = COMMAND.matcher(line);
        if (!command.matches()) {
            throw new IllegalArgumentException("not a command");
        }
        Verb verb = Verb.valueOf(command.group(1).toUpperCase(java.util.Locale.ROOT));
        String kind = command.group(2);
        if (Family.of(command.group(3)) != tx.family() || !command.group(4).equals(tx.table())) {
            throw new IllegalArgumentException("not table " + tx.family() + " " + tx.table());
        }
        String rest = command.group(5) == null ? "" : command.group(5);
        NftObject object = switch (kind) {
            case "table" -> table(rest);
            case "chain" -> chain(rest);
            case "rule" -> rule(rest);
            case "set", "map" -> container(kind, rest);
            case "element" -> element(rest);
            default -> throw new IllegalArgumentException("unknown object kind " + kind);
        };
        switch (verb) {
            case ADD -> tx.add(object);
            case CREATE -> tx.create(object);
            case INSERT -> tx.insert((Rule) object);
            case FLUSH -> tx.flush(object);
            case DELETE -> tx.delete(object);
        }
    }

    private static Table table(String rest) {
        Matcher m = match(TABLE, rest, "table");
        return new Table(m.group(1));
    }

    private static Chain chain(String text) {
        Matcher m = match(CHAIN, text, "chain");
        BaseChain base = m.group(2) == null ? null
                : new BaseChain(m.group(2), m.group(3), Integer.parseInt(m.group(4)));
        return new Chain(m.group(1), base, m.group(5));
    }

    private static Rule rule(String text) {
        Matcher m = match(RULE, text, "rule");
        return new Rule(m.group(1), m.group(2), m.group(3));
    }

    private static NftObject container(String kind, String text) {
        Matcher m = match(CONTAINER, text, kind);
        if (m.group(2) == null) {
            return kind.equals("map") ? NftMap.named(m.group(1)) : NftSet.named(m.group(1));
        }
        boolean typeOf = m.group(2).equals("typeof");
        List<String> flags = m.group(4) == null ? List.of() : Arrays.asList(m.group(4).split(","));
        if (kind.equals("map")) {
            return new NftMap(m.group(1), m.group(3), typeOf, flags, m.group(7));
        }
        long timeout = m.group(5) == null ? 0 : Long.parseLong(m.group(5));
        int size = m.group(6) == null ? 0 : Integer.parseInt(m.group(6));
        return new NftSet(m.group(1), m.group(3), typeOf, flags, timeout, size, m.group(7));
    }

    private static Element element(String text) {
        Matcher m = match(ELEMENT, text, "element");
        List<String> key = new ArrayList<>(Arrays.asList(m.group(2).split(" \\. ")));
        if (m.group(4) == null) {
            return new Element(m.group(1), false, key, List.of(), m.group(3));
        }
        return new Element(m.group(1), true, key, Arrays.asList(m.group(4).split(" \\. ")), m.group(3));
    }

    private static Matcher match(Pattern pattern, String text, String what) {
        Matcher m = pattern.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a " + what + " as nft writes it");
        }
        return m;
    }
}
