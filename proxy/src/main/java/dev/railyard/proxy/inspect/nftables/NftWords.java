package dev.railyard.proxy.inspect.nftables;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits nft text into words: whitespace separates them, a quoted string is one word (quotes kept), and
 * {@code { } , ;} are words of their own wherever they stand. Addresses ({@code fd00::1}, {@code 10.0.0.0/8}),
 * names with slashes and {@code @set} references stay whole; nft writes the concatenation "." and the map
 * ":" with spaces around them, so they are words too.
 */
final class NftWords {
    private NftWords() {
    }

    static List<String> split(String text) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c == '"') {
                int end = text.indexOf('"', i + 1);
                if (end < 0) {
                    end = text.length() - 1;
                }
                flush(word, words);
                words.add(text.substring(i, end + 1));
                i = end + 1;
                continue;
            }
            if (Character.isWhitespace(c)) {
                flush(word, words);
            } else if (c == '{' || c == '}' || c == ',' || c == ';') {
                flush(word, words);
                words.add(String.valueOf(c));
            } else {
                word.append(c);
            }
            i++;
        }
        flush(word, words);
        return words;
    }

    private static void flush(StringBuilder word, List<String> words) {
        if (word.length() > 0) {
            words.add(word.toString());
            word.setLength(0);
        }
    }
}
