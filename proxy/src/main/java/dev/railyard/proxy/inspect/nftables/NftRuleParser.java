package dev.railyard.proxy.inspect.nftables;

import dev.railyard.proxy.model.IpAddresses;
import inet.ipaddr.IPAddress;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads the body of one nftables rule (as {@code nft list} prints it or as an {@code add rule} line writes it)
 * into statements. What it does not model becomes an {@link Statement.Unsupported} statement naming the part,
 * so the evaluator reports the rule instead of guessing; reading never fails.
 */
final class NftRuleParser {
    private static final Set<String> VERDICTS = Set.of("accept", "drop", "return", "continue", "reject", "jump",
            "goto", "queue");
    private static final Set<String> SELECTOR_WORDS = Set.of("ip", "ip6", "meta", "mark", "iifname", "oifname",
            "th", "tcp", "udp", "sctp", "udplite", "dccp", "ct", "fib", "numgen");
    private static final Set<String> NAT_OPTIONS = Set.of("random", "fully-random", "persistent", ",");
    private static final Set<String> LOG_OPTIONS = Set.of("prefix", "level", "group", "snaplen", "queue-threshold");
    private static final Set<String> LOG_FLAGS = Set.of("tcp", "ip", "sequence", "options", "skuid", "ether", "all",
            ",");

    /** A part of the rule that is not modelled; ends the reading. */
    private static final class Unmodelled extends Exception {
        private static final long serialVersionUID = 1L;

        Unmodelled(String message) {
            super(message, null, false, false);
        }
    }

    private final List<String> tokens;
    private final String text;
    private int at;
    private String comment;

    private NftRuleParser(String text) {
        this.text = text;
        this.tokens = NftWords.split(text);
    }

    /** The rule {@code text} of chain input at {@code origin} ("line 12"). */
    static NftablesRule parse(String text, String origin) {
        NftRuleParser parser = new NftRuleParser(text);
        List<Statement> statements = new ArrayList<>();
        int start = 0;
        try {
            while (parser.at < parser.tokens.size()) {
                start = parser.at;
                Statement statement = parser.statement();
                if (statement != null) {
                    statements.add(statement);
                }
            }
        } catch (Unmodelled | RuntimeException e) {
            String rest = String.join(" ", parser.tokens.subList(Math.min(start, parser.tokens.size()),
                    parser.tokens.size()));
            statements.add(new Statement.Unsupported(e.getMessage() == null ? "cannot read \"" + rest + "\""
                    : e.getMessage(), rest));
            parser.findComment();
        }
        return new NftablesRule(text, origin, parser.comment, statements);
    }

    private void findComment() {
        for (int i = 0; i + 1 < tokens.size(); i++) {
            if (tokens.get(i).equals("comment") && tokens.get(i + 1).startsWith("\"")) {
                comment = Value.unquote(tokens.get(i + 1));
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------

    private String peek() {
        return at < tokens.size() ? tokens.get(at) : "";
    }

    private String peek(int ahead) {
        return at + ahead < tokens.size() ? tokens.get(at + ahead) : "";
    }

    private String next() throws Unmodelled {
        if (at >= tokens.size()) {
            throw new Unmodelled("the rule ends early");
        }
        return tokens.get(at++);
    }

    private void expect(String word) throws Unmodelled {
        String found = next();
        if (!found.equals(word)) {
            throw new Unmodelled("expected \"" + word + "\" but found \"" + found + "\"");
        }
    }

    private String since(int start) {
        return String.join(" ", tokens.subList(start, at));
    }

    private Statement statement() throws Unmodelled {
        int start = at;
        String word = peek();
        switch (word) {
            case "accept", "drop", "return", "continue" -> {
                at++;
                return new Statement.Verdict(Statement.Verdict.Kind.valueOf(word.toUpperCase(java.util.Locale.ROOT)),
                        null, word);
            }
            case "reject" -> {
                at++;
                if (peek().equals("with")) {
                    at++;
                    String what = next();
                    if (what.equals("tcp")) {
                        expect("reset");
                    } else if (what.equals("icmp") || what.equals("icmpv6") || what.equals("icmpx")) {
                        if (peek().equals("type")) {
                            at++;
                        }
                        next();
                    } else {
                        throw new Unmodelled("reject with " + what + " is not modelled");
                    }
                }
                return new Statement.Verdict(Statement.Verdict.Kind.REJECT, null, since(start));
            }
            case "jump", "goto" -> {
                at++;
                String chain = Value.unquote(next());
                return new Statement.Verdict(word.equals("jump") ? Statement.Verdict.Kind.JUMP
                        : Statement.Verdict.Kind.GOTO, chain, since(start));
            }
            case "counter" -> {
                at++;
                if (peek().equals("packets")) {
                    at += 4;
                } else if (peek().equals("name")) {
                    at += 2;
                }
                return Statement.Observe.of("counter", since(start));
            }
            case "log" -> {
                at++;
                while (LOG_OPTIONS.contains(peek()) || peek().equals("flags")) {
                    if (next().equals("flags")) {
                        while (LOG_FLAGS.contains(peek())) {
                            at++;
                        }
                    } else {
                        next();
                    }
                }
                return Statement.Observe.of("log", since(start));
            }
            case "comment" -> {
                at++;
                comment = Value.unquote(next());
                return null;
            }
            case "notrack" -> {
                at++;
                return new Statement.NoTrack(word);
            }
            case "masquerade" -> {
                at++;
                natOptions();
                return new Statement.SourceNat("masquerade", since(start));
            }
            case "snat" -> {
                at++;
                if (peek().equals("ip") || peek().equals("ip6")) {
                    at++;
                }
                expect("to");
                next();
                natOptions();
                return new Statement.SourceNat("snat", since(start));
            }
            case "dnat" -> {
                return dnat();
            }
            case "redirect" -> {
                at++;
                int port = 0;
                if (peek().equals("to")) {
                    at++;
                    String target = next();
                    port = port(target.startsWith(":") ? target.substring(1) : target);
                }
                natOptions();
                return new Statement.Redirect(port, since(start));
            }
            case "update", "add", "delete" -> {
                if (!peek(1).startsWith("@")) {
                    throw new Unmodelled("\"" + word + "\" is not modelled");
                }
                at++;
                String set = next().substring(1);
                return setWrite(start, word, set);
            }
            case "limit" -> throw new Unmodelled("a rate limit depends on the traffic before this packet");
            case "quota" -> throw new Unmodelled("a quota depends on the traffic before this packet");
            case "queue" -> throw new Unmodelled("queue hands the packet to a user-space program");
            case "xt" -> throw new Unmodelled("an iptables-nft match or target nft cannot translate (trace the "
                    + "iptables rules with --iptables-save instead)");
            default -> {
                if (SELECTOR_WORDS.contains(word)) {
                    return expression();
                }
                throw new Unmodelled("\"" + word + "\" is not modelled");
            }
        }
    }

    private void natOptions() throws Unmodelled {
        while (NAT_OPTIONS.contains(peek()) || peek().equals("to") && peek(1).startsWith(":")) {
            if (next().equals("to")) {
                next();
            }
        }
    }

    /**
     * {@code { KEY [timeout T] }} after {@code update @set}: the key and timeout are kept when they are all the
     * braces hold (a session-affinity check takes its timeout from them); anything else in them (a counter, a
     * key the evaluator does not read) leaves the key unknown, which changes nothing about where the packet goes.
     */
    private Statement setWrite(int start, String verb, String set) throws Unmodelled {
        expect("{");
        int close = closing(at - 1);
        List<Selector> key = null;
        long timeout = 0;
        try {
            List<Selector> read = selectors();
            if (peek().equals("timeout") && at + 1 < close) {
                at++;
                timeout = NftListingParser.seconds(next());
            }
            if (at == close) {
                key = read;
            }
        } catch (Unmodelled | IllegalArgumentException e) {
            // Not a key the evaluator reads; the statement is still only an observation.
        }
        at = close + 1;
        return new Statement.Observe(verb + " @" + set, set, verb, key, key == null ? 0 : timeout, since(start));
    }

    // ---------------------------------------------------------------------------------------------------------

    private Statement expression() throws Unmodelled {
        int start = at;
        List<Selector> key = selectors();
        String word = peek();
        if (word.equals("vmap")) {
            at++;
            if (peek().startsWith("@")) {
                String map = next().substring(1);
                return new Statement.VerdictMap(key, map, null, since(start));
            }
            NftablesRuleset.Container inline = inlineMap(true);
            return new Statement.VerdictMap(key, null, inline, since(start));
        }
        if (word.equals("set")) {
            at++;
            if (key.size() != 1 || key.get(0).kind() != Selector.Kind.MARK) {
                throw new Unmodelled("setting " + key.get(0).text() + " is not modelled");
            }
            return setMark(start);
        }
        long mask = -1;
        if (word.equals("&") || word.equals("and")) {
            at++;
            if (key.size() != 1 || !key.get(0).kind().isNumber()) {
                throw new Unmodelled("a mask on " + key.get(0).text() + " is not modelled");
            }
            mask = ((Value.Num) Value.parse(Selector.Kind.MARK, next())).low();
            word = peek();
        }
        boolean negated = false;
        String range = null;
        switch (word) {
            case "==", "eq" -> at++;
            case "!=", "ne" -> {
                at++;
                negated = true;
            }
            case "<", "lt", ">", "gt", "<=", "le", ">=", "ge" -> {
                at++;
                range = word;
            }
            default -> {
            }
        }
        if (peek().startsWith("@")) {
            if (range != null) {
                throw new Unmodelled("a comparison with a set is not modelled");
            }
            String set = next().substring(1);
            return new Statement.Match(key, mask, negated, null, set, since(start));
        }
        List<List<Value>> values = new ArrayList<>();
        if (peek().equals("{")) {
            if (range != null) {
                throw new Unmodelled("a comparison with a set is not modelled");
            }
            at++;
            while (!peek().equals("}")) {
                values.add(concatenation(key));
                if (peek().equals(",")) {
                    at++;
                } else if (!peek().equals("}")) {
                    throw new Unmodelled("unexpected \"" + peek() + "\" in a set");
                }
            }
            at++;
        } else {
            values.add(concatenation(key));
            while (peek().equals(",") && range == null) {
                at++;
                values.add(concatenation(key));
            }
        }
        if (range != null) {
            values = List.of(List.of(range(key, range, values.get(0).get(0))));
        }
        return new Statement.Match(key, mask, negated, values, null, since(start));
    }

    private static Value range(List<Selector> key, String operator, Value bound) throws Unmodelled {
        if (key.size() != 1 || !(bound instanceof Value.Num number) || !number.exact()) {
            throw new Unmodelled("comparing " + key.get(0).text() + " with " + operator + " is not modelled");
        }
        long value = number.low();
        Selector.Kind kind = key.get(0).kind();
        long max = kind == Selector.Kind.MARK || kind == Selector.Kind.NUMGEN ? 0xffffffffL : 65535;
        return switch (operator) {
            case "<", "lt" -> new Value.Num(0, value - 1);
            case "<=", "le" -> new Value.Num(0, value);
            case ">", "gt" -> new Value.Num(value + 1, max);
            default -> new Value.Num(value, max);
        };
    }

    /** One value per key field, separated by ".". */
    private List<Value> concatenation(List<Selector> key) throws Unmodelled {
        List<Value> values = new ArrayList<>();
        for (int i = 0; i < key.size(); i++) {
            if (i > 0) {
                expect(".");
            }
            String token = next();
            try {
                values.add(Value.parse(key.get(i).kind(), token));
            } catch (IllegalArgumentException e) {
                throw new Unmodelled(key.get(i).text() + ": " + e.getMessage());
            }
        }
        return values;
    }

    private List<Selector> selectors() throws Unmodelled {
        List<Selector> key = new ArrayList<>();
        key.add(selector());
        while (peek().equals(".")) {
            at++;
            key.add(selector());
        }
        return key;
    }

    private Selector selector() throws Unmodelled {
        int start = at;
        String word = next();
        switch (word) {
            case "ip", "ip6" -> {
                String field = next();
                int family = word.equals("ip") ? 4 : 6;
                return switch (field) {
                    case "saddr" -> new Selector(Selector.Kind.SADDR, since(start), family, 0, 0, 0);
                    case "daddr" -> new Selector(Selector.Kind.DADDR, since(start), family, 0, 0, 0);
                    case "protocol", "nexthdr" -> new Selector(Selector.Kind.L4PROTO, since(start), family, 0, 0, 0);
                    default -> throw new Unmodelled("\"" + since(start) + "\" is not modelled");
                };
            }
            case "meta" -> {
                String field = next();
                return switch (field) {
                    case "l4proto" -> Selector.of(Selector.Kind.L4PROTO, since(start));
                    case "mark" -> Selector.of(Selector.Kind.MARK, since(start));
                    case "iifname" -> Selector.of(Selector.Kind.IIFNAME, since(start));
                    case "oifname" -> Selector.of(Selector.Kind.OIFNAME, since(start));
                    case "nfproto" -> Selector.of(Selector.Kind.NFPROTO, since(start));
                    default -> throw new Unmodelled("\"" + since(start) + "\" is not modelled");
                };
            }
            case "mark" -> {
                return Selector.of(Selector.Kind.MARK, word);
            }
            case "iifname" -> {
                return Selector.of(Selector.Kind.IIFNAME, word);
            }
            case "oifname" -> {
                return Selector.of(Selector.Kind.OIFNAME, word);
            }
            case "th", "tcp", "udp", "sctp", "udplite", "dccp" -> {
                String field = next();
                int protocol = word.equals("th") ? 0 : Selector.protocolNumber(word);
                return switch (field) {
                    case "dport" -> new Selector(Selector.Kind.DPORT, since(start), 0, protocol, 0, 0);
                    case "sport" -> new Selector(Selector.Kind.SPORT, since(start), 0, protocol, 0, 0);
                    default -> throw new Unmodelled("\"" + since(start) + "\" is not modelled");
                };
            }
            case "ct" -> {
                String field = next();
                return switch (field) {
                    case "state" -> Selector.of(Selector.Kind.CT_STATE, since(start));
                    case "status" -> Selector.of(Selector.Kind.CT_STATUS, since(start));
                    default -> throw new Unmodelled("\"" + since(start) + "\" is not modelled");
                };
            }
            case "fib" -> {
                String address = next();
                if ((address.equals("saddr") || address.equals("daddr")) && peek().equals("type")) {
                    at++;
                    return Selector.of(address.equals("saddr") ? Selector.Kind.FIB_SADDR_TYPE
                            : Selector.Kind.FIB_DADDR_TYPE, since(start));
                }
                throw new Unmodelled("\"fib " + address + " " + peek() + "\" is not modelled (only fib saddr type and "
                        + "fib daddr type)");
            }
            case "numgen" -> {
                String mode = next();
                if (!mode.equals("random")) {
                    throw new Unmodelled("numgen " + mode + " depends on the packets before this one");
                }
                expect("mod");
                int modulus = (int) ((Value.Num) Value.parse(Selector.Kind.NUMGEN, next())).low();
                long offset = 0;
                if (peek().equals("offset")) {
                    at++;
                    offset = ((Value.Num) Value.parse(Selector.Kind.NUMGEN, next())).low();
                }
                if (modulus < 1) {
                    throw new Unmodelled("numgen random mod " + modulus);
                }
                return new Selector(Selector.Kind.NUMGEN, since(start), 0, 0, modulus, offset);
            }
            default -> throw new Unmodelled("\"" + word + "\" is not modelled");
        }
    }

    private Statement setMark(int start) throws Unmodelled {
        boolean keep;
        long constant = 0;
        if (peek().equals("meta") && peek(1).equals("mark")) {
            at += 2;
            keep = true;
        } else if (peek().equals("mark")) {
            at++;
            keep = true;
        } else {
            keep = false;
            try {
                constant = ((Value.Num) Value.parse(Selector.Kind.MARK, next())).low();
            } catch (IllegalArgumentException e) {
                throw new Unmodelled("mark set " + tokens.get(at - 1) + " is not modelled");
            }
        }
        List<long[]> ops = new ArrayList<>();
        while (true) {
            char op = switch (peek()) {
                case "|", "or" -> '|';
                case "&", "and" -> '&';
                case "^", "xor" -> '^';
                default -> 0;
            };
            if (op == 0) {
                break;
            }
            at++;
            long operand;
            try {
                operand = ((Value.Num) Value.parse(Selector.Kind.MARK, next())).low();
            } catch (IllegalArgumentException e) {
                throw new Unmodelled("mark set with operand " + tokens.get(at - 1) + " is not modelled");
            }
            ops.add(new long[] {op, operand});
        }
        return new Statement.SetMark(keep, constant, ops, since(start));
    }

    private Statement dnat() throws Unmodelled {
        int start = at;
        at++;
        if (peek().equals("ip") || peek().equals("ip6")) {
            at++;
        }
        if (peek().equals("addr")) {
            // "dnat ip addr . port to ...": the map's values are an address and a port.
            at++;
            expect(".");
            expect("port");
        }
        expect("to");
        if (SELECTOR_WORDS.contains(peek())) {
            List<Selector> key = selectors();
            expect("map");
            if (peek().startsWith("@")) {
                String map = next().substring(1);
                natOptions();
                return new Statement.DnatMap(key, map, null, since(start));
            }
            NftablesRuleset.Container inline = inlineMap(false);
            natOptions();
            return new Statement.DnatMap(key, null, inline, since(start));
        }
        String target = next();
        String[] hostPort = hostPort(target);
        natOptions();
        return new Statement.Dnat(hostPort[0], address(hostPort[0]), hostPort[1] == null ? 0 : port(hostPort[1]),
                since(start));
    }

    /** "10.0.0.1:80", "[fd00::1]:80", "10.0.0.1", "fd00::1" into address and port (null when none). */
    static String[] hostPort(String target) throws Unmodelled {
        if (target.startsWith("[")) {
            int close = target.indexOf(']');
            if (close < 0) {
                throw new Unmodelled("\"" + target + "\" is not an address");
            }
            String port = close + 1 < target.length() && target.charAt(close + 1) == ':'
                    ? target.substring(close + 2) : null;
            return new String[] {target.substring(1, close), port};
        }
        int colon = target.indexOf(':');
        if (colon >= 0 && colon == target.lastIndexOf(':')) {
            return new String[] {target.substring(0, colon), target.substring(colon + 1)};
        }
        return new String[] {target, null};
    }

    /** The single address {@code text} is, or null. */
    static IPAddress address(String text) {
        try {
            Value value = Value.parse(Selector.Kind.DADDR, text);
            return value.exact() ? IpAddresses.parse(value.key()) : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static int port(String text) throws Unmodelled {
        try {
            int port = Integer.parseInt(text);
            if (port < 1 || port > 65535) {
                throw new Unmodelled("port " + text + " is out of range");
            }
            return port;
        } catch (NumberFormatException e) {
            throw new Unmodelled("port \"" + text + "\" is not a single port");
        }
    }

    /** An anonymous map inside the rule: {@code { KEY : VALUE, ... }}. */
    private NftablesRuleset.Container inlineMap(boolean verdicts) throws Unmodelled {
        expect("{");
        int end = closing(at - 1);
        List<NftablesRuleset.Element> elements = elements(tokens.subList(at, end));
        at = end + 1;
        return new NftablesRuleset.Container(null, true, verdicts ? "verdict" : "data", new HashSet<>(), 0,
                elements);
    }

    private int closing(int open) throws Unmodelled {
        int depth = 0;
        for (int i = open; i < tokens.size(); i++) {
            if (tokens.get(i).equals("{")) {
                depth++;
            } else if (tokens.get(i).equals("}") && --depth == 0) {
                return i;
            }
        }
        throw new Unmodelled("a { is not closed");
    }

    /**
     * Elements as nft writes them between braces: comma-separated, each a key of "."-joined fields, then
     * attributes ({@code comment "..."}, {@code timeout 1m}, {@code expires 59s}, {@code counter ...}), then for
     * a map {@code : VALUE} (a verdict such as {@code goto X}, or "."-joined fields).
     */
    static List<NftablesRuleset.Element> elements(List<String> tokens) {
        List<NftablesRuleset.Element> elements = new ArrayList<>();
        int i = 0;
        while (i < tokens.size()) {
            List<String> key = new ArrayList<>();
            List<String> value = new ArrayList<>();
            String comment = null;
            boolean inValue = false;
            while (i < tokens.size() && !tokens.get(i).equals(",")) {
                String token = tokens.get(i++);
                if (token.equals(":") && !inValue) {
                    inValue = true;
                } else if (token.equals(".")) {
                    continue;
                } else if (!inValue && token.equals("comment") && i < tokens.size()) {
                    comment = Value.unquote(tokens.get(i++));
                } else if (!inValue && (token.equals("timeout") || token.equals("expires"))) {
                    i++;
                } else if (!inValue && token.equals("counter")) {
                    if (i < tokens.size() && tokens.get(i).equals("packets")) {
                        i += 4;
                    }
                } else if (inValue && (token.equals("goto") || token.equals("jump")) && i < tokens.size()) {
                    value.add(token + " " + Value.unquote(tokens.get(i++)));
                } else if (inValue) {
                    value.add(token);
                } else {
                    key.add(token);
                }
            }
            i++;
            if (!key.isEmpty()) {
                elements.add(new NftablesRuleset.Element(key, value, comment));
            }
        }
        return elements;
    }
}
