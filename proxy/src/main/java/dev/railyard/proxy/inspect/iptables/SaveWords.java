package dev.railyard.proxy.inspect.iptables;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits one line of iptables-save / iptables-restore text into words the way iptables-restore does: words are
 * separated by blanks; a double quote opens or closes a quoted part, inside which blanks are kept and a
 * backslash takes the next character literally ({@code \"}, {@code \\}), which is how iptables-save writes a
 * comment with spaces or quotes.
 */
final class SaveWords {
    private SaveWords() {
    }

    /** The words of {@code line}; an {@link IllegalArgumentException} if a quote is left open. */
    static List<String> split(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        boolean quoted = false;
        boolean escaped = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (escaped) {
                    word.append(c);
                    escaped = false;
                } else if (c == '\\') {
                    escaped = true;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    word.append(c);
                }
                continue;
            }
            if (c == '"') {
                quoted = true;
                inWord = true;
            } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else {
                word.append(c);
                inWord = true;
            }
        }
        if (quoted) {
            throw new IllegalArgumentException("unterminated double quote");
        }
        if (inWord) {
            words.add(word.toString());
        }
        return words;
    }

    /** One word as iptables-save writes it: bare when it has no blank, quote or backslash; quoted otherwise. */
    static String quote(String word) {
        boolean plain = !word.isEmpty();
        for (int i = 0; i < word.length() && plain; i++) {
            char c = word.charAt(i);
            plain = c != ' ' && c != '\t' && c != '"' && c != '\\' && c != '\'';
        }
        if (plain) {
            return word;
        }
        StringBuilder quoted = new StringBuilder("\"");
        for (int i = 0; i < word.length(); i++) {
            char c = word.charAt(i);
            if (c == '"' || c == '\\') {
                quoted.append('\\');
            }
            quoted.append(c);
        }
        return quoted.append('"').toString();
    }
}
