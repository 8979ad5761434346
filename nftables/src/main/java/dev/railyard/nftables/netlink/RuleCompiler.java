package dev.railyard.nftables.netlink;

import dev.railyard.netlink.Expr;
import dev.railyard.netlink.Expr.CmpOp;
import dev.railyard.netlink.Field;
import dev.railyard.netlink.Prefix;
import dev.railyard.netlink.Rule;
import dev.railyard.netlink.Verdict;
import dev.railyard.nftables.Family;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Compiles the body of an nft rule, as the proxy's renderers write it, into netlink expressions through
 * {@link Rule#builder()}, which compiles each statement the way nft 1.0.6 does. The grammar is exactly the
 * statements those renderers write, nothing more (see {@code README} of this package); anything else is refused
 * with an {@link IllegalArgumentException} naming the rule and the word, never guessed at.
 *
 * <p>Words are separated by single spaces, as the renderers write them. The family of the table decides what
 * {@code ip}/{@code ip6} and addresses mean: a compiler is for one family. Immutable and thread-safe; compiling
 * keeps no state between rules.
 */
public final class RuleCompiler {
    private static final int CT_STATE_NEW = Expr.CT_STATE_NEW;

    private final Family family;
    private final dev.railyard.netlink.Family kernelFamily;
    private final String ipKeyword;
    private final Field saddr;
    private final Field daddr;

    /** @param family {@link Family#IP} or {@link Family#IP6}: the rules of an inet table are not supported */
    public RuleCompiler(Family family) {
        this.family = Objects.requireNonNull(family, "family");
        switch (family) {
            case IP -> kernelFamily = dev.railyard.netlink.Family.IP;
            case IP6 -> kernelFamily = dev.railyard.netlink.Family.IP6;
            default -> throw new IllegalArgumentException("rules of " + family + " tables are not supported (only ip "
                    + "and ip6: an inet table's address matches need protocol dependencies nft adds)");
        }
        this.ipKeyword = family.keyword();
        this.saddr = Field.saddr(kernelFamily);
        this.daddr = Field.daddr(kernelFamily);
    }

    public Family family() {
        return family;
    }

    /** The rule's body and comment, compiled. */
    public Rule compile(dev.railyard.nftables.Rule rule) {
        return compile(rule.chain(), rule.body(), rule.comment());
    }

    /**
     * @param chain   only to name the rule in errors
     * @param comment null for none
     * @throws IllegalArgumentException naming the rule and the word when the body is not in the grammar
     */
    public Rule compile(String chain, String body, String comment) {
        return new Parser(chain, body).compile(comment);
    }

    /** One rule's words, read left to right into a builder. */
    private final class Parser {
        private final String chain;
        private final String body;
        private final String[] words;
        private int next;
        private final Rule.Builder rule;
        /** The statement that decides the packet's fate, once there is one: nothing may follow it. */
        private String terminal;
        /** Whether a {@code meta l4proto} match came first, which nft requires before a port in dnat. */
        private boolean transportMatched;

        Parser(String chain, String body) {
            this.chain = chain;
            this.body = Objects.requireNonNull(body, "body");
            this.words = split(body);
            this.rule = Rule.builder(body);
        }

        Rule compile(String comment) {
            if (words.length == 0) {
                throw error("the rule is empty");
            }
            while (next < words.length) {
                if (terminal != null) {
                    throw error("\"" + words[next] + "\" follows \"" + terminal + "\", which ends the rule");
                }
                statement();
            }
            if (comment != null) {
                rule.comment(comment);
            }
            return rule.build();
        }

        private void statement() {
            int start = next;
            String word = take();
            switch (word) {
                case "ip", "ip6", "meta", "th" -> {
                    next = start;
                    match();
                }
                case "ct" -> ct();
                case "fib" -> fib();
                case "mark" -> mark();
                case "numgen" -> {
                    if (inlineVerdictMapFollowsNumgen(start)) {
                        numgenVerdictMap(start);
                    } else {
                        next = start;
                        match();
                    }
                }
                case "update" -> update();
                case "dnat" -> dnat(start);
                case "masquerade" -> {
                    boolean fullyRandom = next < words.length && words[next].equals("fully-random");
                    if (fullyRandom) {
                        next++;
                    }
                    rule.masquerade(fullyRandom);
                    terminal = fullyRandom ? "masquerade fully-random" : "masquerade";
                }
                case "reject" -> {
                    rule.reject(kernelFamily);
                    terminal = "reject";
                }
                case "jump", "goto", "drop", "accept", "return" -> {
                    next = start;
                    Verdict verdict = verdict();
                    rule.verdict(verdict);
                    terminal = verdict.toString();
                }
                default -> throw unexpected(start, "a statement");
            }
        }

        /** {@code FIELD [. FIELD ...]} then {@code vmap @M}, {@code [!=] @S}, or one field's {@code [!=] VALUE}. */
        private void match() {
            int start = next;
            List<Field> key = new ArrayList<>(3);
            key.add(field());
            while (next < words.length && words[next].equals(".")) {
                next++;
                key.add(field());
            }
            Field[] fields = key.toArray(Field[]::new);
            int at = next;
            String word = take();
            if (word.equals("vmap")) {
                rule.verdictMap(setName(take(), next - 1), fields);
                terminal = "vmap";
                return;
            }
            CmpOp op = CmpOp.EQ;
            if (word.equals("!=")) {
                op = CmpOp.NEQ;
                at = next;
                word = take();
            }
            if (word.startsWith("@")) {
                String set = setName(word, at);
                if (op == CmpOp.EQ) {
                    rule.inSet(set, fields);
                } else {
                    rule.notInSet(set, fields);
                }
                return;
            }
            if (fields.length > 1) {
                throw unexpected(at, "vmap or a set (@name) after the concatenation");
            }
            Field field = fields[0];
            if (field == Field.META_L4PROTO) {
                if (op != CmpOp.EQ) {
                    throw unexpected(at - 1, "a protocol");
                }
                rule.match(field, dev.railyard.netlink.Values.inetProto(protocol(word, at)));
                transportMatched = true;
            } else if (field == saddr || field == daddr) {
                next = at;
                addressMatch(field, op);
            } else if (field.source() == Field.Source.NUMGEN) {
                rule.match(field, op, dev.railyard.netlink.Values.u32Host(number(word, at)));
            } else {
                throw unexpected(start, "a field this grammar matches values of (" + ipKeyword
                        + " saddr/daddr, meta l4proto, numgen random mod N)");
            }
        }

        /** {@code ADDRESS}, {@code PREFIX} or {@code { A,B }} / {@code { A , B }} after an address field. */
        private void addressMatch(Field field, CmpOp op) {
            int at = next;
            String word = take();
            if (!word.equals("{")) {
                Prefix prefix = prefix(word, at);
                single(field, op, prefix);
                return;
            }
            // kube-proxy joins CIDRs with "," and no spaces, the proxy's own lists with " , ": take the words up
            // to "}" as one text and split it at the commas.
            int open = next - 1;
            StringBuilder items = new StringBuilder();
            while (true) {
                String item = take();
                if (item.equals("}")) {
                    break;
                }
                if (item.equals("{")) {
                    throw unexpected(next - 1, "an address");
                }
                items.append(items.length() == 0 ? "" : " ").append(item);
            }
            List<Prefix> prefixes = new ArrayList<>();
            for (String part : items.toString().split(",", -1)) {
                String item = part.strip();
                if (item.isEmpty() || item.indexOf(' ') >= 0) {
                    throw unexpected(open, item.isEmpty() ? "an address between the commas of the set"
                            : "',' between \"" + item + "\"");
                }
                prefixes.add(prefix(item, open));
            }
            if (prefixes.size() == 1) {
                // nft compiles a one-element set as the element itself.
                single(field, op, prefixes.get(0));
            } else {
                rule.inPrefixes(field, op == CmpOp.NEQ, prefixes);
            }
        }

        private void single(Field field, CmpOp op, Prefix prefix) {
            if (prefix.length() == field.length() * 8) {
                rule.match(field, op, prefix.address());
            } else {
                rule.matchPrefix(field, op, prefix);
            }
        }

        /** {@code ip saddr}, {@code ip daddr} (or ip6), {@code meta l4proto}, {@code th dport}. */
        private Field field() {
            int at = next;
            String word = take();
            if (word.equals("numgen")) {
                return numgenField();
            }
            String second = next < words.length ? words[next] : "";
            Field field = null;
            if (word.equals(ipKeyword)) {
                field = second.equals("saddr") ? saddr : second.equals("daddr") ? daddr : null;
            } else if (word.equals("meta")) {
                field = second.equals("l4proto") ? Field.META_L4PROTO : null;
            } else if (word.equals("th")) {
                field = second.equals("dport") ? Field.TH_DPORT : null;
            } else if (word.equals("ip") || word.equals("ip6")) {
                throw unexpected(at, ipKeyword + " (this is an " + ipKeyword + " table)");
            }
            if (field == null) {
                throw unexpected(at, "a field (" + ipKeyword + " saddr, " + ipKeyword
                        + " daddr, meta l4proto, th dport, numgen random mod N [offset O])");
            }
            next++;
            return field;
        }

        /** {@code ct state new}, {@code ct status dnat}. */
        private void ct() {
            int at = next;
            String key = take();
            String value = take();
            if (key.equals("state") && value.equals("new")) {
                rule.ctState(CT_STATE_NEW);
            } else if (key.equals("status") && value.equals("dnat")) {
                rule.ctStatus(Expr.CT_STATUS_DNAT);
            } else {
                throw unexpected(at, "state new or status dnat");
            }
        }

        /** {@code fib saddr type local}, {@code fib daddr type local}. */
        private void fib() {
            int at = next;
            String which = take();
            if (!(which.equals("saddr") || which.equals("daddr"))) {
                throw unexpected(at, "saddr or daddr");
            }
            expect("type");
            expect("local");
            rule.fibAddressType(which.equals("daddr"), Expr.RTN_LOCAL);
        }

        /** {@code mark set mark or|xor BITS}, {@code mark and MASK ==|!= VALUE}. */
        private void mark() {
            int at = next;
            String word = take();
            if (word.equals("set")) {
                expect("mark");
                int opAt = next;
                String op = take();
                int bits = number(take(), next - 1);
                switch (op) {
                    case "or" -> rule.markSetOr(bits);
                    case "xor" -> rule.markSetXor(bits);
                    default -> throw unexpected(opAt, "or or xor");
                }
            } else if (word.equals("and")) {
                int mask = number(take(), next - 1);
                int opAt = next;
                String op = take();
                CmpOp cmp = switch (op) {
                    case "==" -> CmpOp.EQ;
                    case "!=" -> CmpOp.NEQ;
                    default -> throw unexpected(opAt, "== or !=");
                };
                rule.markAnd(mask, cmp, number(take(), next - 1));
            } else {
                throw unexpected(at, "set or and");
            }
        }

        /** Whether {@code numgen random mod N [offset O]} at {@code start} is followed by {@code vmap { }}. */
        private boolean inlineVerdictMapFollowsNumgen(int start) {
            int after = start + 4;
            if (after < words.length && words[after].equals("offset")) {
                after += 2;
            }
            return after + 1 < words.length && words[after].equals("vmap") && words[after + 1].equals("{");
        }

        /** {@code numgen random mod N vmap { 0 : VERDICT , 1 : VERDICT ... }}, keys 0..N-1 in order. */
        private void numgenVerdictMap(int start) {
            int modulus = numgenRandomMod();
            expect("vmap");
            expect("{");
            List<Verdict> verdicts = new ArrayList<>(modulus);
            while (true) {
                int keyAt = next;
                String key = take();
                if (!key.equals(Integer.toString(verdicts.size()))) {
                    throw unexpected(keyAt, "key " + verdicts.size() + " (keys 0.." + (modulus - 1) + " in order)");
                }
                expect(":");
                verdicts.add(verdict());
                int at = next;
                String after = take();
                if (after.equals("}")) {
                    break;
                }
                if (!after.equals(",")) {
                    throw unexpected(at, "',' or '}'");
                }
            }
            if (verdicts.size() != modulus) {
                throw unexpected(start, "as many verdicts as numgen's modulus " + modulus + ", not "
                        + verdicts.size());
            }
            rule.numgenRandomVerdictMap(verdicts);
            terminal = "vmap";
        }

        /** After {@code numgen} in a key: {@code random mod N [offset O]}. */
        private Field numgenField() {
            int modulus = numgenRandomMod();
            return Field.numgenRandom(modulus, numgenOffset());
        }

        /** An optional {@code offset O}, O from 0 to 2^32-1; 0 when absent. */
        private int numgenOffset() {
            if (words.length <= next || !words[next].equals("offset")) {
                return 0;
            }
            next++;
            int offsetAt = next;
            String text = take();
            try {
                return Integer.parseUnsignedInt(text);
            } catch (NumberFormatException e) {
                throw unexpected(offsetAt, "an offset from 0 to 4294967295");
            }
        }

        /** After {@code numgen}: {@code random mod N}; returns N. */
        private int numgenRandomMod() {
            expect("random");
            expect("mod");
            int at = next;
            int modulus = number(take(), at);
            if (modulus <= 0) {
                throw unexpected(at, "a positive modulus");
            }
            return modulus;
        }

        /** {@code update @S { FIELD [. FIELD] [timeout Ns] }}. */
        private void update() {
            String set = setName(take(), next - 1);
            expect("{");
            List<Field> key = new ArrayList<>(2);
            key.add(field());
            while (words.length > next && words[next].equals(".")) {
                next++;
                key.add(field());
            }
            long timeoutSeconds = 0;
            if (words.length > next && words[next].equals("timeout")) {
                next++;
                int at = next;
                String text = take();
                if (!text.endsWith("s") || text.length() < 2) {
                    throw unexpected(at, "a timeout in seconds (600s)");
                }
                timeoutSeconds = number(text.substring(0, text.length() - 1), at);
                if (timeoutSeconds <= 0) {
                    throw unexpected(at, "a positive timeout");
                }
            }
            expect("}");
            rule.updateSet(set, timeoutSeconds, key.toArray(Field[]::new));
        }

        /**
         * {@code dnat to ADDRESS[:PORT]} ({@code [ADDRESS]:PORT} for ip6) or {@code dnat ip addr . port to numgen
         * random mod N [offset O] map @M}. A port needs a protocol match first ({@code meta l4proto tcp}), as nft insists.
         */
        private void dnat(int start) {
            int at = next;
            String word = take();
            if (word.equals("to")) {
                int targetAt = next;
                String target = take();
                String address = target;
                int port = -1;
                if (family == Family.IP6) {
                    if (target.startsWith("[")) {
                        int close = target.indexOf("]:");
                        if (close < 0) {
                            throw unexpected(targetAt, "[ADDRESS]:PORT");
                        }
                        address = target.substring(1, close);
                        port = port(target.substring(close + 2), targetAt);
                    }
                } else {
                    int colon = target.indexOf(':');
                    if (colon >= 0) {
                        address = target.substring(0, colon);
                        port = port(target.substring(colon + 1), targetAt);
                    }
                }
                if (port >= 0 && !transportMatched) {
                    throw unexpected(start, "a meta l4proto match before a dnat to a port (nft refuses a port "
                            + "without one)");
                }
                rule.dnat(kernelFamily, address(address, targetAt), port);
            } else if (word.equals(ipKeyword)) {
                expect("addr");
                expect(".");
                expect("port");
                expect("to");
                expect("numgen");
                int modulus = numgenRandomMod();
                int offset = numgenOffset();
                expect("map");
                String map = setName(take(), next - 1);
                if (!transportMatched) {
                    throw unexpected(start, "a meta l4proto match before a dnat to a port (nft refuses a port "
                            + "without one)");
                }
                rule.dnatNumgenMap(kernelFamily, modulus, offset, map);
            } else {
                throw unexpected(at, "to or " + ipKeyword + " addr . port to");
            }
            terminal = "dnat";
        }

        /** {@code jump X}, {@code goto X}, {@code drop}, {@code accept}, {@code return}. */
        private Verdict verdict() {
            int at = next;
            String word = take();
            return switch (word) {
                case "jump" -> Verdict.jump(chainName());
                case "goto" -> Verdict.goTo(chainName());
                case "drop" -> Verdict.DROP;
                case "accept" -> Verdict.ACCEPT;
                case "return" -> Verdict.RETURN;
                default -> throw unexpected(at, "a verdict (jump, goto, drop, accept, return)");
            };
        }

        private String chainName() {
            int at = next;
            String name = take();
            if (!isName(name)) {
                throw unexpected(at, "a chain name");
            }
            return name;
        }

        private String setName(String word, int at) {
            if (word.length() < 2 || word.charAt(0) != '@' || !isName(word.substring(1))) {
                throw unexpected(at, "a set or map (@name)");
            }
            return word.substring(1);
        }

        private int protocol(String word, int at) {
            return switch (word) {
                case "tcp" -> dev.railyard.netlink.Values.TCP;
                case "udp" -> dev.railyard.netlink.Values.UDP;
                case "sctp" -> dev.railyard.netlink.Values.SCTP;
                default -> throw unexpected(at, "tcp, udp or sctp");
            };
        }

        private Prefix prefix(String text, int at) {
            int slash = text.indexOf('/');
            byte[] address = family == Family.IP ? Addresses.ipv4(slash < 0 ? text : text.substring(0, slash))
                    : Addresses.ipv6(slash < 0 ? text : text.substring(0, slash));
            if (address == null) {
                throw unexpected(at, "an " + (family == Family.IP ? "IPv4" : "IPv6") + " address or prefix, not \""
                        + text + "\"");
            }
            int length = address.length * 8;
            if (slash >= 0) {
                String bits = text.substring(slash + 1);
                length = decimal(bits, 0, bits.length());
                if (length < 1 || length > address.length * 8) {
                    throw unexpected(at, "a prefix length 1.." + address.length * 8 + " in \"" + text + "\"");
                }
            }
            try {
                return new Prefix(address, length);
            } catch (IllegalArgumentException e) {
                throw unexpected(at, "a prefix without host bits, not \"" + text + "\"");
            }
        }

        private byte[] address(String text, int at) {
            byte[] address = family == Family.IP ? Addresses.ipv4(text) : Addresses.ipv6(text);
            if (address == null) {
                throw unexpected(at, "an " + (family == Family.IP ? "IPv4" : "IPv6") + " address, not \"" + text
                        + "\"");
            }
            return address;
        }

        private int port(String text, int at) {
            int port = decimal(text, 0, text.length());
            if (port < 0 || port > 65535) {
                throw unexpected(at, "a port 0..65535, not \"" + text + "\"");
            }
            return port;
        }

        /** {@code 0x4000}, {@code 0x00004000} or decimal; 32 bits. */
        private int number(String text, int at) {
            try {
                if (text.startsWith("0x") && text.length() > 2 && text.length() <= 10) {
                    return Integer.parseUnsignedInt(text, 2, text.length(), 16);
                }
                if (!text.isEmpty() && text.length() <= 10 && Character.isDigit(text.charAt(0))) {
                    return Integer.parseUnsignedInt(text);
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw unexpected(at, "a 32-bit number, not \"" + text + "\"");
        }

        private void expect(String word) {
            int at = next;
            if (!take().equals(word)) {
                throw unexpected(at, "\"" + word + "\"");
            }
        }

        private String take() {
            if (next >= words.length) {
                throw error("the rule ends where more was expected");
            }
            return words[next++];
        }

        private IllegalArgumentException unexpected(int at, String expected) {
            String word = at < words.length ? words[at] : "(end)";
            return error("unexpected \"" + word + "\" (word " + (at + 1) + "), expected " + expected);
        }

        private IllegalArgumentException error(String what) {
            return new IllegalArgumentException("rule in chain " + chain + " \"" + body + "\": " + what
                    + " (the netlink applier compiles only the statements the proxy writes)");
        }
    }

    /** Chain and set names: what nft reads as an identifier (checked again by the netlink module). */
    private static boolean isName(String name) {
        if (name.isEmpty() || name.length() > 255) {
            return false;
        }
        char first = name.charAt(0);
        if (!Character.isLetter(first) && first != '_' && first != '.') {
            return false;
        }
        for (int i = 1; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') && c != '/' && c != '-'
                    && c != '_' && c != '.') {
                return false;
            }
        }
        return true;
    }

    /** Decimal digits of text[from, to) as an int, or -1 when not only digits (or more than 9 of them). */
    static int decimal(String text, int from, int to) {
        if (to <= from || to - from > 9) {
            return -1;
        }
        int value = 0;
        for (int i = from; i < to; i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }

    /** The body's words; runs of spaces count as one separator. */
    private static String[] split(String body) {
        List<String> words = new ArrayList<>(16);
        int from = 0;
        int length = body.length();
        while (from < length) {
            int space = body.indexOf(' ', from);
            int end = space < 0 ? length : space;
            if (end > from) {
                words.add(body.substring(from, end));
            }
            from = end + 1;
        }
        return words.toArray(String[]::new);
    }
}
