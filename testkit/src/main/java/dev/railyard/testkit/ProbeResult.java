package dev.railyard.testkit;

import java.util.Locale;

/**
 * What a client probe ({@code tcp-get}/{@code udp-get}) observed: the outcome and, for {@link Outcome#OK},
 * the line the server sent, or for {@link Outcome#ERROR} the error message.
 */
public record ProbeResult(Outcome outcome, String detail) {

    public enum Outcome { OK, REFUSED, TIMEOUT, UNREACHABLE, ERROR }

    public ProbeResult {
        detail = detail == null ? "" : detail;
    }

    /** Parses an agent answer such as {@code ok web 10.0.0.2:40000} or {@code refused}. */
    public static ProbeResult parse(String answer) {
        String[] parts = answer.split(" ", 2);
        String rest = parts.length > 1 ? parts[1] : "";
        return switch (parts[0]) {
            case "ok", "refused", "timeout", "unreachable", "error" ->
                    new ProbeResult(Outcome.valueOf(parts[0].toUpperCase(Locale.ROOT)), rest);
            default -> new ProbeResult(Outcome.ERROR, "unexpected agent answer: " + answer);
        };
    }

    public boolean isOk() {
        return outcome == Outcome.OK;
    }

    /** The line received from the server; fails with a descriptive message unless the probe succeeded. */
    public String reply() {
        if (!isOk()) {
            throw new IllegalStateException("probe did not get a reply: " + this);
        }
        return detail;
    }

    /** The reply of a {@link NetnsAgent} server, parsed: which server answered and whom it saw. */
    public ServerReply serverReply() {
        return ServerReply.parse(reply());
    }

    @Override
    public String toString() {
        return outcome.name().toLowerCase(Locale.ROOT) + (detail.isEmpty() ? "" : " " + detail);
    }
}
