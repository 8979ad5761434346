package dev.railyard.proxy.apply;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reading iptables-restore's complaints: which input line failed, and what that input said around it. */
final class RestoreErrors {

    /**
     * The forms iptables-restore (legacy and nft, 1.6-1.8) uses to name a line:
     * "iptables-restore: line 4 failed", "Error occurred at line: 4" (option parse errors) and
     * "COMMIT expected at line 7". kube-proxy only matches the first; the others are what --test reports
     * for syntax errors, which is exactly when a line number is most useful.
     */
    private static final List<Pattern> LINE_PATTERNS = List.of(
            Pattern.compile("line (\\d+) failed"),
            Pattern.compile("Error occurred at line: (\\d+)"),
            Pattern.compile("COMMIT expected at line (\\d+)"));

    private RestoreErrors() {
    }

    static OptionalInt failedLine(String stderr) {
        for (Pattern pattern : LINE_PATTERNS) {
            Matcher matcher = pattern.matcher(stderr);
            if (matcher.find()) {
                try {
                    int line = Integer.parseInt(matcher.group(1));
                    if (line >= 1) {
                        return OptionalInt.of(line);
                    }
                } catch (NumberFormatException ignored) {
                    // Absurdly long number; treat as not reported.
                }
            }
        }
        return OptionalInt.empty();
    }

    /**
     * Lines {@code line - context .. line + context} (1-based, clipped to the input) of the first
     * {@code length} bytes of {@code data}, like kube-proxy's ExtractLines. Scans bytes rather than
     * decoding the whole ruleset, which can be tens of megabytes on a big cluster.
     */
    static List<InputLine> extractLines(byte[] data, int length, int line, int context) {
        List<InputLine> lines = new ArrayList<>();
        if (line < 1 || context < 0) {
            return lines;
        }
        int first = Math.max(1, line - context);
        int last = line + context;
        int number = 1;
        int start = 0;
        for (int i = 0; i <= length && number <= last; i++) {
            if (i == length || data[i] == '\n') {
                if (i == length && start == length) {
                    break; // Input ends with a newline: there is no further line.
                }
                if (number >= first) {
                    lines.add(new InputLine(number, new String(data, start, i - start, StandardCharsets.UTF_8)));
                }
                number++;
                start = i + 1;
            }
        }
        return lines;
    }
}
