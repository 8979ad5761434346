package dev.railyard.proxy.apply;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
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
     * {@code length} bytes of {@code data}, like kube-proxy's ExtractLines.
     */
    static List<InputLine> extractLines(byte[] data, int length, int line, int context) {
        return extractLines(RestoreInput.of(data, length), line, context);
    }

    /**
     * The same lines of what {@code input} writes. Scans the bytes as they are written rather than decoding or
     * joining the whole ruleset, which can be tens of megabytes on a big cluster.
     */
    static List<InputLine> extractLines(RestoreInput input, int line, int context) {
        if (line < 1 || context < 0) {
            return new ArrayList<>();
        }
        LinePicker picker = new LinePicker(Math.max(1, line - context), line + context);
        try {
            input.writeTo(picker);
        } catch (IOException e) {
            // Only the picker is written to, and it does not fail: nothing to report beyond what was picked.
        }
        return picker.finish();
    }

    /** Keeps lines {@code first..last} of the bytes written to it. */
    private static final class LinePicker extends OutputStream {
        private final int first;
        private final int last;
        private final List<InputLine> picked = new ArrayList<>();
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();
        private int number = 1;
        private boolean pending;

        LinePicker(int first, int last) {
            this.first = first;
            this.last = last;
        }

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) {
            int end = offset + length;
            for (int i = offset; i < end && number <= last; i++) {
                if (bytes[i] == '\n') {
                    pick();
                } else {
                    pending = true;
                    if (number >= first) {
                        line.write(bytes[i]);
                    }
                }
            }
        }

        private void pick() {
            if (number >= first) {
                picked.add(new InputLine(number, line.toString(StandardCharsets.UTF_8)));
            }
            line.reset();
            pending = false;
            number++;
        }

        /** The picked lines, with an unterminated last line; an input ending in a newline has no further line. */
        List<InputLine> finish() {
            if (pending && number <= last) {
                pick();
            }
            return picked;
        }
    }
}
