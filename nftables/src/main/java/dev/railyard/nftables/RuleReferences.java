package dev.railyard.nftables;

import java.util.ArrayList;
import java.util.List;

/**
 * The chains, sets and maps a rule body names: {@code jump X} and {@code goto X} (also inside an anonymous
 * verdict map), {@code vmap @M} and {@code map @M}, and any other {@code @S}. Word by word, as knftables' Fake
 * checks references; nft syntax puts spaces around these.
 */
public final class RuleReferences {
    public enum Kind { CHAIN, SET, MAP }

    public record Reference(Kind kind, String name) {
    }

    private RuleReferences() {
    }

    public static List<Reference> of(String body) {
        String[] words = body.split(" ");
        List<Reference> found = new ArrayList<>(2);
        for (int i = 0; i < words.length; i++) {
            String word = words[i];
            if (word.startsWith("@") && word.length() > 1) {
                String name = trim(word.substring(1));
                boolean map = i > 0 && (words[i - 1].equals("vmap") || words[i - 1].equals("map"));
                found.add(new Reference(map ? Kind.MAP : Kind.SET, name));
            } else if ((word.equals("jump") || word.equals("goto")) && i + 1 < words.length) {
                found.add(new Reference(Kind.CHAIN, trim(words[i + 1])));
            }
        }
        return found;
    }

    private static String trim(String name) {
        int end = name.length();
        while (end > 0 && (name.charAt(end - 1) == ',' || name.charAt(end - 1) == '}')) {
            end--;
        }
        return name.substring(0, end);
    }
}
