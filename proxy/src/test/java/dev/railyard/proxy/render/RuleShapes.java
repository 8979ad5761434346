package dev.railyard.proxy.render;

import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.Names;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether restore input still has the shapes the renderer writes, whatever the cluster sent: every line is a
 * table, a chain declaration, a deletion, a COMMIT or a rule; every rule's words are known options or values of
 * the form their option takes; every comment's service reference is made of valid names. A string from the
 * cluster that got into a rule unvalidated breaks one of these (a quote, a space, a newline, an option).
 */
public final class RuleShapes {
    private static final Pattern CHAIN = Pattern.compile("[A-Z][A-Z0-9-]{0,27}");
    private static final Set<String> TABLES = Set.of("*filter", "*nat");
    private static final Set<String> OPTIONS = Set.of("-m", "-p", "-d", "-s", "-j", "!", "--comment", "--ctstate",
            "--dport", "--dst-type", "--src-type", "--mark", "--or-mark", "--xor-mark", "--name", "--nfacct-name",
            "--random-fully", "--rcheck", "--reap", "--seconds", "--set", "--to-destination", "--to-ports",
            "--mode", "--probability");
    private static final Set<String> MODULES = Set.of("comment", "conntrack", "tcp", "udp", "sctp", "addrtype",
            "mark", "recent", "nfacct", "statistic");
    private static final Set<String> TARGETS = Set.of("ACCEPT", "DROP", "REJECT", "RETURN", "MARK", "DNAT",
            "MASQUERADE", "REDIRECT");
    /** What a comment may hold: names, addresses, ports and the renderer's own words. */
    private static final Pattern COMMENT_TEXT = Pattern.compile("[A-Za-z0-9 ./:;,>\\[\\]-]*");
    private static final Pattern SERVICE_REFERENCE = Pattern.compile("([^ /]+)/([^ :/]+)(?::([^ ]+))?");
    private static final Pattern HEX = Pattern.compile("0x[0-9a-f]{8}(/0x[0-9a-f]{8})?");

    private RuleShapes() {
    }

    /** Descriptions of the lines that break a shape; empty when all hold. */
    public static List<String> violations(String restoreInput) {
        List<String> found = new ArrayList<>();
        if (!restoreInput.isEmpty() && !restoreInput.endsWith("\n")) {
            found.add("does not end with a newline");
        }
        int number = 0;
        for (String line : restoreInput.split("\n", -1)) {
            number++;
            if (line.isEmpty() && number > 1) {
                continue; // after the final newline
            }
            String problem = check(line);
            if (problem != null) {
                found.add(number + ": " + problem + ": " + abbreviate(line));
            }
        }
        return found;
    }

    private static String check(String line) {
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c < 0x20 || c > 0x7e) {
                return "a character outside printable ASCII";
            }
        }
        if (TABLES.contains(line) || line.equals("COMMIT")) {
            return null;
        }
        if (line.startsWith(":")) {
            String[] words = line.substring(1).split(" ", -1);
            return words.length == 3 && CHAIN.matcher(words[0]).matches() && words[1].equals("-")
                    && words[2].equals("[0:0]") ? null : "not a chain declaration";
        }
        if (line.startsWith("-X ")) {
            return CHAIN.matcher(line.substring(3)).matches() ? null : "not a chain deletion";
        }
        if (!line.startsWith("-A ")) {
            return "not a table, chain, rule or COMMIT line";
        }
        List<String> words = words(line);
        if (words == null) {
            return "unbalanced quotes";
        }
        if (words.size() < 3 || !CHAIN.matcher(words.get(1)).matches()) {
            return "no chain after -A";
        }
        for (int i = 2; i < words.size(); i++) {
            String option = words.get(i);
            if (!OPTIONS.contains(option)) {
                return "unknown option \"" + option + "\"";
            }
            if (option.equals("!") || option.equals("--random-fully") || option.equals("--rcheck")
                    || option.equals("--reap") || option.equals("--set")) {
                continue;
            }
            if (i + 1 >= words.size()) {
                return option + " without a value";
            }
            String value = words.get(++i);
            String problem = checkValue(option, value);
            if (problem != null) {
                return option + " " + problem;
            }
        }
        return null;
    }

    private static String checkValue(String option, String value) {
        switch (option) {
            case "-m":
                return MODULES.contains(value) ? null : "unknown module";
            case "-p":
                return Set.of("tcp", "udp", "sctp").contains(value) ? null : "unknown protocol";
            case "-d":
            case "-s":
                return isAddressOrCidr(value) ? null : "not an address or CIDR";
            case "-j":
                return TARGETS.contains(value) || CHAIN.matcher(value).matches() ? null : "not a target";
            case "--dport":
            case "--to-ports":
                return isNumber(value, 1, 65535) ? null : "not a port";
            case "--seconds":
                return isNumber(value, 1, 86400) ? null : "not an affinity timeout";
            case "--to-destination":
                return isHostPort(value) ? null : "not ip:port";
            case "--ctstate":
                return value.matches("(NEW|INVALID|RELATED|ESTABLISHED|DNAT)(,(RELATED|ESTABLISHED|DNAT))*") ? null
                        : "not a conntrack state";
            case "--dst-type":
            case "--src-type":
                return value.equals("LOCAL") ? null : "not an address type";
            case "--mark":
            case "--or-mark":
            case "--xor-mark":
                return HEX.matcher(value).matches() ? null : "not a mark";
            case "--name":
                return CHAIN.matcher(value).matches() ? null : "not a recent-list name";
            case "--nfacct-name":
                return value.matches("[a-z_]+") ? null : "not a counter name";
            case "--mode":
                return value.equals("random") ? null : "not a statistic mode";
            case "--probability":
                return value.matches("0\\.[0-9]{10}") ? null : "not a probability";
            case "--comment":
                return checkComment(value);
            default:
                return "unexpected";
        }
    }

    /** A comment: the renderer's words, with any service reference made of valid names. */
    private static String checkComment(String word) {
        String text = word.startsWith("\"") ? word.substring(1, word.length() - 1) : word;
        if (!COMMENT_TEXT.matcher(text).matches()) {
            return "has characters a comment never has";
        }
        for (String part : text.split(" ")) {
            if (part.indexOf('/') < 0 || isAddressOrCidr(part)) {
                continue;
            }
            Matcher reference = SERVICE_REFERENCE.matcher(part);
            if (!reference.matches() || !Names.isDns1123Label(reference.group(1))
                    || !Names.isDns1035Label(reference.group(2))
                    || (reference.group(3) != null && !Names.isDns1123Label(reference.group(3)))) {
                return "holds \"" + part + "\", which is not namespace/name[:port]";
            }
        }
        return null;
    }

    private static boolean isAddressOrCidr(String value) {
        try {
            if (value.indexOf('/') >= 0) {
                IpAddresses.parseCidr(value);
            } else {
                IpAddresses.parse(value);
            }
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static boolean isHostPort(String value) {
        int colon = value.lastIndexOf(':');
        if (colon < 0 || !isNumber(value.substring(colon + 1), 1, 65535)) {
            return false;
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return isAddressOrCidr(host) && host.indexOf('/') < 0;
    }

    private static boolean isNumber(String value, int min, int max) {
        if (!value.matches("[0-9]{1,6}")) {
            return false;
        }
        int number = Integer.parseInt(value);
        return number >= min && number <= max;
    }

    /** The words of a rule; a quoted word keeps its quotes; null when a quote is not closed. */
    private static List<String> words(String line) {
        List<String> words = new ArrayList<>();
        int i = 0;
        while (i < line.length()) {
            if (line.charAt(i) == ' ') {
                i++;
                continue;
            }
            int end;
            if (line.charAt(i) == '"') {
                end = line.indexOf('"', i + 1);
                if (end < 0) {
                    return null;
                }
                end++;
                if (end < line.length() && line.charAt(end) != ' ') {
                    return null; // a quote in the middle of a word
                }
            } else {
                end = line.indexOf(' ', i);
                end = end < 0 ? line.length() : end;
                if (line.substring(i, end).indexOf('"') >= 0) {
                    return null;
                }
            }
            words.add(line.substring(i, end));
            i = end;
        }
        return words;
    }

    private static String abbreviate(String line) {
        return line.length() <= 200 ? line : line.substring(0, 200) + "...";
    }
}
