package dev.railyard.proxy.inspect.iptables;

import dev.railyard.proxy.model.IpAddresses;
import inet.ipaddr.IPAddress;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Turns the words of one rule (after {@code -A CHAIN}) into conditions and a target. Options belong to the
 * match module loaded last that knows them ({@code -m tcp --dport 80}), or to the protocol's implicit match
 * ({@code -p tcp --dport 80}), or to the target once {@code -j} was given, as in iptables. The order of words does
 * not matter: {@code railyard render} writes {@code -m comment ... -m tcp -p tcp -d IP --dport P} where
 * iptables-save writes {@code -d IP/32 -p tcp -m comment ... -m tcp --dport P}; both give the same rule.
 *
 * <p>Nothing is ever dropped silently: an unknown module or option becomes an {@link Condition.Unsupported}
 * condition, an unknown target an {@link Target.Unsupported} one, and a trace reports both on the rule.
 */
final class RuleParser {

    /** Options of the match modules the trace models, with how many words each takes. */
    private static final Map<String, Map<String, Integer>> MODULES = Map.ofEntries(
            Map.entry("comment", Map.of("--comment", 1)),
            Map.entry("tcp", Map.of("--dport", 1, "--destination-port", 1, "--sport", 1, "--source-port", 1,
                    "--syn", 0, "--tcp-flags", 2, "--tcp-option", 1)),
            Map.entry("udp", Map.of("--dport", 1, "--destination-port", 1, "--sport", 1, "--source-port", 1)),
            Map.entry("udplite", Map.of("--dport", 1, "--destination-port", 1, "--sport", 1, "--source-port", 1)),
            Map.entry("sctp", Map.of("--dport", 1, "--destination-port", 1, "--sport", 1, "--source-port", 1,
                    "--chunk-types", 2)),
            Map.entry("multiport", Map.of("--dports", 1, "--destination-ports", 1, "--sports", 1, "--source-ports", 1,
                    "--ports", 1)),
            Map.entry("addrtype", Map.of("--src-type", 1, "--dst-type", 1, "--limit-iface-in", 0,
                    "--limit-iface-out", 0)),
            Map.entry("statistic", Map.of("--mode", 1, "--probability", 1, "--every", 1, "--packet", 1)),
            Map.entry("recent", Map.ofEntries(Map.entry("--name", 1), Map.entry("--set", 0), Map.entry("--rcheck", 0),
                    Map.entry("--update", 0), Map.entry("--remove", 0), Map.entry("--seconds", 1),
                    Map.entry("--reap", 0), Map.entry("--hitcount", 1), Map.entry("--rttl", 0),
                    Map.entry("--rsource", 0), Map.entry("--rdest", 0), Map.entry("--mask", 1))),
            Map.entry("mark", Map.of("--mark", 1)),
            Map.entry("conntrack", Map.ofEntries(Map.entry("--ctstate", 1), Map.entry("--ctproto", 1),
                    Map.entry("--ctorigsrc", 1), Map.entry("--ctorigdst", 1), Map.entry("--ctreplsrc", 1),
                    Map.entry("--ctrepldst", 1), Map.entry("--ctorigsrcport", 1), Map.entry("--ctorigdstport", 1),
                    Map.entry("--ctreplsrcport", 1), Map.entry("--ctrepldstport", 1), Map.entry("--ctstatus", 1),
                    Map.entry("--ctexpire", 1), Map.entry("--ctdir", 1))),
            Map.entry("state", Map.of("--state", 1)),
            Map.entry("nfacct", Map.of("--nfacct-name", 1)));

    /** Options of the targets the trace models. */
    private static final Map<String, Map<String, Integer>> TARGETS = Map.ofEntries(
            Map.entry("ACCEPT", Map.of()),
            Map.entry("DROP", Map.of()),
            Map.entry("RETURN", Map.of()),
            Map.entry("REJECT", Map.of("--reject-with", 1)),
            Map.entry("DNAT", Map.of("--to-destination", 1, "--random", 0, "--persistent", 0, "--random-fully", 0)),
            Map.entry("SNAT", Map.of("--to-source", 1, "--random", 0, "--persistent", 0, "--random-fully", 0)),
            Map.entry("MASQUERADE", Map.of("--to-ports", 1, "--random", 0, "--random-fully", 0)),
            Map.entry("REDIRECT", Map.of("--to-ports", 1, "--random", 0)),
            Map.entry("MARK", Map.of("--set-xmark", 1, "--set-mark", 1, "--or-mark", 1, "--and-mark", 1,
                    "--xor-mark", 1)),
            Map.entry("NOTRACK", Map.of()),
            Map.entry("CT", Map.of("--notrack", 0)),
            Map.entry("LOG", Map.of("--log-prefix", 1, "--log-level", 1, "--log-tcp-sequence", 0,
                    "--log-tcp-options", 0, "--log-ip-options", 0, "--log-uid", 0, "--log-macdecode", 0)),
            Map.entry("NFLOG", Map.of("--nflog-group", 1, "--nflog-prefix", 1, "--nflog-range", 1,
                    "--nflog-size", 1, "--nflog-threshold", 1)),
            Map.entry("TRACE", Map.of()));

    /** Targets that change something the trace does not follow, but never where the packet goes. */
    private static final Set<String> PATH_NEUTRAL_TARGETS = Set.of("LOG", "NFLOG", "ULOG", "TRACE", "AUDIT", "TCPMSS",
            "CLASSIFY", "DSCP", "TOS", "CHECKSUM", "SECMARK", "CONNSECMARK", "IDLETIMER", "LED");

    private static final Set<String> PORT_PROTOCOLS = Set.of("tcp", "udp", "sctp", "udplite");

    private RuleParser() {
    }

    /** One option as written: its name, whether it was negated, its words. */
    private record Option(String name, boolean negated, List<String> args) {
    }

    /** One {@code -m NAME} (or the protocol's implicit match) and the options given to it. */
    private static final class ModuleUse {
        final String name;
        final Map<String, Integer> spec;
        final List<Option> options = new ArrayList<>();

        ModuleUse(String name) {
            this.name = name;
            this.spec = MODULES.get(name);
        }
    }

    /**
     * Parses {@code words} (everything after {@code -A CHAIN}). An {@link IllegalArgumentException} says what is
     * malformed (an option without its value, a bad address); unknown but well-formed things do not fail.
     */
    static IptablesRule parse(String chain, List<String> words, String text, String origin) {
        List<Condition> conditions = new ArrayList<>();
        List<ModuleUse> modules = new ArrayList<>();
        String protocol = null;
        boolean protocolGiven = false;
        String targetName = null;
        boolean isGoto = false;
        List<Option> targetOptions = new ArrayList<>();
        boolean negated = false;

        int i = 0;
        while (i < words.size()) {
            String word = words.get(i);
            if (word.equals("!")) {
                if (negated) {
                    throw new IllegalArgumentException("two ! in a row");
                }
                negated = true;
                i++;
                continue;
            }
            switch (word) {
                case "-s", "--source", "-d", "--destination" -> {
                    String value = value(words, i);
                    boolean source = word.equals("-s") || word.equals("--source");
                    conditions.add(address(source, negated, value));
                    i += 2;
                }
                case "-i", "--in-interface", "-o", "--out-interface" -> {
                    conditions.add(new Condition.Interface(word.startsWith("-i") || word.equals("--in-interface"),
                            negated, value(words, i)));
                    i += 2;
                }
                case "-p", "--protocol" -> {
                    protocol = value(words, i).toLowerCase(Locale.ROOT);
                    protocolGiven = true;
                    conditions.add(new Condition.ProtocolIs(negated, protocol));
                    if (negated) {
                        protocol = null; // "! -p tcp" loads no tcp match
                    }
                    i += 2;
                }
                case "-f", "--fragment" -> {
                    conditions.add(new Condition.Fragment(negated));
                    i++;
                }
                case "-m", "--match" -> {
                    if (negated) {
                        throw new IllegalArgumentException("! cannot negate -m");
                    }
                    modules.add(new ModuleUse(value(words, i)));
                    i += 2;
                }
                case "-j", "--jump", "-g", "--goto" -> {
                    if (targetName != null) {
                        throw new IllegalArgumentException("more than one target (-j/-g)");
                    }
                    targetName = value(words, i);
                    isGoto = word.startsWith("-g") || word.equals("--goto");
                    i += 2;
                }
                case "-c", "--set-counters" -> {
                    if (i + 2 >= words.size()) {
                        throw new IllegalArgumentException(word + " needs packets and bytes");
                    }
                    i += 3;
                }
                default -> {
                    if (!word.startsWith("--")) {
                        throw new IllegalArgumentException("unexpected word \"" + word + "\"");
                    }
                    i = option(words, i, negated, modules, protocol, targetName, targetOptions, conditions);
                }
            }
            negated = false;
        }
        if (negated) {
            throw new IllegalArgumentException("! at the end of the rule");
        }

        for (ModuleUse module : modules) {
            conditions.addAll(conditionsOf(module, protocolGiven));
        }
        Target target = targetName == null ? new Target.None() : target(targetName, isGoto, targetOptions);
        return new IptablesRule(chain, text, origin, conditions, target);
    }

    private static int option(List<String> words, int i, boolean negated, List<ModuleUse> modules, String protocol,
                              String targetName, List<Option> targetOptions, List<Condition> conditions) {
        String name = words.get(i);
        // The target's own options come first once -j was given (iptables-save prints them last).
        if (targetName != null) {
            Map<String, Integer> spec = TARGETS.get(targetName);
            if (spec == null ? ownerOf(name, modules, protocol) == null : spec.containsKey(name)) {
                int arity = spec == null ? guessArity(words, i) : spec.get(name);
                targetOptions.add(new Option(name, negated, args(words, i, arity)));
                return i + 1 + arity;
            }
        }
        ModuleUse owner = ownerOf(name, modules, protocol);
        if (owner == null && protocol != null && PORT_PROTOCOLS.contains(protocol)
                && MODULES.get(protocol).containsKey(name)) {
            owner = new ModuleUse(protocol); // -p tcp --dport 80: tcp's implicit match
            modules.add(owner);
        }
        if (owner == null) {
            // An unknown module's option: its words are everything up to the next option.
            ModuleUse unknown = null;
            for (int m = modules.size() - 1; m >= 0 && unknown == null; m--) {
                if (modules.get(m).spec == null) {
                    unknown = modules.get(m);
                }
            }
            int arity = guessArity(words, i);
            if (unknown == null) {
                conditions.add(new Condition.Unsupported("option " + name + " belongs to no loaded match"));
            } else {
                unknown.options.add(new Option(name, negated, args(words, i, arity)));
            }
            return i + 1 + arity;
        }
        int arity = owner.spec.get(name);
        owner.options.add(new Option(name, negated, args(words, i, arity)));
        return i + 1 + arity;
    }

    private static ModuleUse ownerOf(String option, List<ModuleUse> modules, String protocol) {
        for (int m = modules.size() - 1; m >= 0; m--) {
            ModuleUse module = modules.get(m);
            if (module.spec != null && module.spec.containsKey(option)) {
                return module;
            }
        }
        return null;
    }

    private static int guessArity(List<String> words, int i) {
        int arity = 0;
        while (i + 1 + arity < words.size()) {
            String next = words.get(i + 1 + arity);
            if (next.equals("!") || next.startsWith("-") && next.length() > 1 && !Character.isDigit(next.charAt(1))) {
                break;
            }
            arity++;
        }
        return arity;
    }

    private static List<String> args(List<String> words, int i, int arity) {
        if (i + arity >= words.size()) {
            throw new IllegalArgumentException(words.get(i) + " needs " + (arity == 1 ? "a value" : arity + " values"));
        }
        return List.copyOf(words.subList(i + 1, i + 1 + arity));
    }

    private static String value(List<String> words, int i) {
        if (i + 1 >= words.size()) {
            throw new IllegalArgumentException(words.get(i) + " needs a value");
        }
        return words.get(i + 1);
    }

    private static Condition address(boolean source, boolean negated, String value) {
        String text = value;
        try {
            IPAddress cidr;
            int slash = value.indexOf('/');
            if (slash < 0) {
                cidr = IpAddresses.parse(value);
            } else {
                String mask = value.substring(slash + 1);
                if (mask.contains(".") || mask.contains(":")) {
                    int prefix = prefixOfMask(mask);
                    value = value.substring(0, slash) + "/" + prefix;
                }
                cidr = IpAddresses.parseCidr(value);
            }
            return new Condition.Address(source, negated, cidr, text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException((source ? "-s " : "-d ") + text + ": " + e.getMessage());
        }
    }

    private static int prefixOfMask(String mask) {
        IPAddress address = IpAddresses.parse(mask);
        Integer prefix = address.getBlockMaskPrefixLength(true);
        if (prefix == null) {
            throw new IllegalArgumentException("mask " + mask + " is not contiguous");
        }
        return prefix;
    }

    // ---------------------------------------------------------------------------------------------------------

    private static List<Condition> conditionsOf(ModuleUse module, boolean protocolGiven) {
        List<Condition> conditions = new ArrayList<>();
        if (module.spec == null) {
            StringBuilder text = new StringBuilder("match -m ").append(module.name);
            for (Option option : module.options) {
                text.append(option.negated ? " ! " : " ").append(option.name);
                option.args.forEach(a -> text.append(' ').append(SaveWords.quote(a)));
            }
            conditions.add(new Condition.Unsupported(text + " is not modelled"));
            return conditions;
        }
        switch (module.name) {
            case "comment" -> module.options.forEach(o -> conditions.add(new Condition.Comment(o.args.get(0))));
            case "tcp", "udp", "udplite", "sctp" -> {
                if (!protocolGiven) {
                    conditions.add(new Condition.ProtocolIs(false, module.name));
                }
                for (Option o : module.options) {
                    switch (o.name) {
                        case "--dport", "--destination-port" -> conditions.add(
                                ports(Condition.Ports.Which.DESTINATION, o.negated, o.args.get(0), false));
                        case "--sport", "--source-port" -> conditions.add(
                                ports(Condition.Ports.Which.SOURCE, o.negated, o.args.get(0), false));
                        case "--syn" -> conditions.add(new Condition.Syn(o.negated));
                        default -> conditions.add(unsupported(module, o));
                    }
                }
            }
            case "multiport" -> {
                for (Option o : module.options) {
                    Condition.Ports.Which which = o.name.startsWith("--d") ? Condition.Ports.Which.DESTINATION
                            : o.name.startsWith("--s") ? Condition.Ports.Which.SOURCE : Condition.Ports.Which.EITHER;
                    conditions.add(ports(which, o.negated, o.args.get(0), true));
                }
            }
            case "addrtype" -> {
                for (Option o : module.options) {
                    if (o.name.startsWith("--limit-iface")) {
                        conditions.add(unsupported(module, o));
                        continue;
                    }
                    Set<String> types = new LinkedHashSet<>();
                    for (String type : o.args.get(0).split(",")) {
                        types.add(type.strip().toUpperCase(Locale.ROOT));
                    }
                    conditions.add(new Condition.AddressType(o.name.equals("--src-type"), o.negated, types));
                }
            }
            case "statistic" -> conditions.add(statistic(module));
            case "recent" -> conditions.add(recent(module));
            case "mark" -> module.options.forEach(o -> conditions.add(mark(o)));
            case "conntrack", "state" -> {
                for (Option o : module.options) {
                    if (!o.name.equals("--ctstate") && !o.name.equals("--state")) {
                        conditions.add(unsupported(module, o));
                        continue;
                    }
                    Set<String> states = new LinkedHashSet<>();
                    for (String state : o.args.get(0).split(",")) {
                        states.add(state.strip().toUpperCase(Locale.ROOT));
                    }
                    conditions.add(new Condition.ConnectionState(o.negated, states, o.args.get(0)));
                }
            }
            case "nfacct" -> module.options.forEach(o -> conditions.add(new Condition.Counter(o.args.get(0))));
            default -> throw new IllegalStateException("no conditions for module " + module.name);
        }
        return conditions;
    }

    private static Condition unsupported(ModuleUse module, Option option) {
        return new Condition.Unsupported("-m " + module.name + (option.negated ? " ! " : " ") + option.name
                + (option.args.isEmpty() ? "" : " " + String.join(" ", option.args)) + " is not modelled");
    }

    private static Condition ports(Condition.Ports.Which which, boolean negated, String text, boolean list) {
        List<int[]> ranges = new ArrayList<>();
        for (String part : list ? text.split(",") : new String[] {text}) {
            int colon = part.indexOf(':');
            int low = colon < 0 ? port(part) : colon == 0 ? 0 : port(part.substring(0, colon));
            int high = colon < 0 ? low : colon == part.length() - 1 ? 65535 : port(part.substring(colon + 1));
            if (low > high) {
                throw new IllegalArgumentException("port range " + part + " is empty");
            }
            ranges.add(new int[] {low, high});
        }
        return new Condition.Ports(which, negated, ranges, text);
    }

    private static int port(String text) {
        try {
            int port = Integer.parseInt(text.strip());
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port " + text + " is out of range 0-65535");
            }
            return port;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("port \"" + text + "\" is not a number (service names are not read)");
        }
    }

    private static Condition statistic(ModuleUse module) {
        String mode = null;
        Double probability = null;
        boolean negated = false;
        for (Option o : module.options) {
            if (o.name.equals("--mode")) {
                mode = o.args.get(0);
            } else if (o.name.equals("--probability")) {
                try {
                    probability = Double.parseDouble(o.args.get(0));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("--probability " + o.args.get(0) + " is not a number");
                }
                if (!(probability >= 0 && probability <= 1)) {
                    throw new IllegalArgumentException("--probability " + o.args.get(0) + " is not within 0-1");
                }
                negated = o.negated;
            }
        }
        if (!"random".equals(mode) || probability == null) {
            StringBuilder text = new StringBuilder("-m statistic");
            module.options.forEach(o -> text.append(' ').append(o.name).append(' ').append(String.join(" ", o.args)));
            return new Condition.Unsupported(text + " is not modelled (only --mode random --probability)");
        }
        return new Condition.Random(negated ? 1 - probability : probability);
    }

    private static Condition recent(ModuleUse module) {
        Condition.Recent.Mode mode = null;
        boolean negated = false;
        String name = "DEFAULT";
        long seconds = 0;
        for (Option o : module.options) {
            switch (o.name) {
                case "--set" -> {
                    mode = Condition.Recent.Mode.SET;
                    negated = o.negated;
                }
                case "--rcheck", "--update" -> {
                    mode = Condition.Recent.Mode.CHECK;
                    negated = o.negated;
                }
                case "--remove" -> {
                    mode = Condition.Recent.Mode.REMOVE;
                    negated = o.negated;
                }
                case "--name" -> name = o.args.get(0);
                case "--seconds" -> {
                    try {
                        seconds = Long.parseLong(o.args.get(0));
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("--seconds " + o.args.get(0) + " is not a number");
                    }
                }
                default -> {
                    // --reap, --hitcount, --rttl, --rsource, --rdest, --mask: they refine a check that a new
                    // client fails anyway.
                }
            }
        }
        if (mode == null) {
            return new Condition.Unsupported("-m recent without --set, --rcheck, --update or --remove");
        }
        return new Condition.Recent(mode, negated, name, seconds);
    }

    private static Condition mark(Option o) {
        String text = o.args.get(0);
        int slash = text.indexOf('/');
        long value = number(slash < 0 ? text : text.substring(0, slash));
        long mask = slash < 0 ? 0xffffffffL : number(text.substring(slash + 1));
        return new Condition.Mark(o.negated, value & mask, mask, text);
    }

    static long number(String text) {
        try {
            long value = Long.decode(text.strip());
            if (value < 0 || value > 0xffffffffL) {
                throw new IllegalArgumentException(text + " is not a 32-bit value");
            }
            return value;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(text + " is not a number");
        }
    }

    // ---------------------------------------------------------------------------------------------------------

    private static Target target(String name, boolean isGoto, List<Option> options) {
        if (isGoto) {
            if (!options.isEmpty()) {
                throw new IllegalArgumentException("-g " + name + " takes no options");
            }
            return new Target.Goto(name);
        }
        Map<String, Integer> spec = TARGETS.get(name);
        if (spec == null) {
            List<String> words = new ArrayList<>();
            for (Option o : options) {
                words.add(o.name);
                words.addAll(o.args);
            }
            if (PATH_NEUTRAL_TARGETS.contains(name)) {
                return new Target.Observe(name);
            }
            return new Target.Named(name, words);
        }
        switch (name) {
            case "ACCEPT":
                return new Target.Verdict(Target.Verdict.Kind.ACCEPT);
            case "DROP":
                return new Target.Verdict(Target.Verdict.Kind.DROP);
            case "RETURN":
                return new Target.Verdict(Target.Verdict.Kind.RETURN);
            case "REJECT":
                return new Target.Verdict(Target.Verdict.Kind.REJECT);
            case "DNAT":
                return dnat(options);
            case "SNAT":
                return new Target.SourceNat("SNAT" + (optionValue(options, "--to-source") == null ? ""
                        : " to " + optionValue(options, "--to-source")));
            case "MASQUERADE":
                return new Target.SourceNat("MASQUERADE");
            case "REDIRECT":
                return redirect(options);
            case "MARK":
                return mark(options);
            case "NOTRACK":
                return new Target.NoTrack();
            case "CT":
                return optionPresent(options, "--notrack") ? new Target.NoTrack()
                        : new Target.Unsupported("CT", "CT without --notrack is not modelled");
            default:
                return new Target.Observe(name);
        }
    }

    private static Target dnat(List<Option> options) {
        String to = optionValue(options, "--to-destination");
        if (to == null) {
            return new Target.Unsupported("DNAT", "DNAT without --to-destination is not modelled");
        }
        long count = options.stream().filter(o -> o.name.equals("--to-destination")).count();
        if (count > 1) {
            return new Target.Unsupported("DNAT", "DNAT to several --to-destination ranges is not modelled");
        }
        String address;
        String port = null;
        if (to.startsWith("[")) {
            int close = to.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("--to-destination " + to + ": no closing ]");
            }
            address = to.substring(1, close);
            if (close + 1 < to.length()) {
                if (to.charAt(close + 1) != ':') {
                    throw new IllegalArgumentException("--to-destination " + to + ": expected : after ]");
                }
                port = to.substring(close + 2);
            }
        } else if (to.indexOf(':') != to.lastIndexOf(':')) {
            address = to; // IPv6 without a port
        } else {
            int colon = to.indexOf(':');
            address = colon < 0 ? to : to.substring(0, colon);
            port = colon < 0 ? null : to.substring(colon + 1);
        }
        if (address.contains("-") || port != null && port.contains("-")) {
            return new Target.Unsupported("DNAT", "DNAT to a range (" + to + ") is not modelled");
        }
        if (address.isEmpty()) {
            return new Target.Unsupported("DNAT", "DNAT to a port only (" + to + ") is not modelled");
        }
        try {
            IpAddresses.parse(address);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--to-destination " + to + ": " + e.getMessage());
        }
        return new Target.Dnat(IpAddresses.canonical(IpAddresses.parse(address)), port == null ? 0 : port(port));
    }

    private static Target redirect(List<Option> options) {
        String ports = optionValue(options, "--to-ports");
        if (ports == null) {
            return new Target.Redirect(0);
        }
        if (ports.contains("-")) {
            return new Target.Unsupported("REDIRECT", "REDIRECT to a port range (" + ports + ") is not modelled");
        }
        return new Target.Redirect(port(ports));
    }

    private static Target mark(List<Option> options) {
        if (options.size() != 1) {
            throw new IllegalArgumentException("MARK needs exactly one of --set-xmark, --set-mark, --or-mark, "
                    + "--and-mark, --xor-mark");
        }
        Option o = options.get(0);
        String text = o.args.get(0);
        int slash = text.indexOf('/');
        long value = number(slash < 0 ? text : text.substring(0, slash));
        Long mask = slash < 0 ? null : number(text.substring(slash + 1));
        switch (o.name) {
            case "--set-xmark":
                return new Target.SetMark(mask == null ? 0xffffffffL : mask, value);
            case "--set-mark":
                return new Target.SetMark((mask == null ? 0xffffffffL : mask) | value, value);
            case "--or-mark":
                return new Target.SetMark(value, value);
            case "--and-mark":
                return new Target.SetMark(~value & 0xffffffffL, 0);
            default: // --xor-mark
                return new Target.SetMark(0, value);
        }
    }

    private static String optionValue(List<Option> options, String name) {
        for (Option o : options) {
            if (o.name.equals(name) && !o.args.isEmpty()) {
                return o.args.get(0);
            }
        }
        return null;
    }

    private static boolean optionPresent(List<Option> options, String name) {
        return options.stream().anyMatch(o -> o.name.equals(name));
    }
}
