package dev.railyard.overlay.config;

import com.google.gson.JsonParseException;

/**
 * Gson's parse errors in an operator's words: Gson names its own exception class, suggests a lenient mode and
 * links its troubleshooting guide, over two lines; what is left is the problem and where it is.
 */
public final class JsonErrors {
    private JsonErrors() {
    }

    /** "malformed JSON at line 1 column 6", "Expected ':' at line 1 column 7", "unexpected end at line 1 column 6". */
    public static String describe(JsonParseException e) {
        Throwable source = e.getCause() != null && e.getCause().getMessage() != null ? e.getCause() : e;
        String message = source.getMessage() == null ? "not JSON" : source.getMessage();
        int newline = message.indexOf('\n');
        if (newline >= 0) {
            message = message.substring(0, newline);
        }
        return message
                .replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON", "malformed JSON")
                .replace("End of input", "unexpected end")
                .replaceFirst(" path \\$\\S*$", "")
                .strip();
    }
}
