package dev.railyard.cli;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as kube-proxy's flags and configuration file spell them (Go's time.ParseDuration): "1s", "30s",
 * "1m", "1m30s", "500ms", "2h45m". Negative durations are rejected: no setting here can use one.
 */
final class GoDurations {
    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|ms|s|m|h)");
    private static final Map<String, Long> NANOS = Map.of("ns", 1L, "us", 1_000L, "µs", 1_000L,
            "ms", 1_000_000L, "s", 1_000_000_000L, "m", 60_000_000_000L, "h", 3_600_000_000_000L);

    private GoDurations() {
    }

    /** @throws IllegalArgumentException naming {@code what} when {@code text} is not a duration */
    static Duration parse(String what, String text) {
        String value = text == null ? "" : text.trim();
        if (value.equals("0")) {
            return Duration.ZERO;
        }
        Matcher part = PART.matcher(value);
        BigDecimal nanos = BigDecimal.ZERO;
        int end = 0;
        while (part.find() && part.start() == end) {
            nanos = nanos.add(new BigDecimal(part.group(1)).multiply(BigDecimal.valueOf(NANOS.get(part.group(2)))));
            end = part.end();
        }
        if (value.isEmpty() || end != value.length()) {
            throw new IllegalArgumentException(what + ": \"" + text + "\" is not a duration (like 1s, 30s, 1m, "
                    + "1m30s, 500ms)");
        }
        return Duration.ofNanos(nanos.longValueExact());
    }
}
