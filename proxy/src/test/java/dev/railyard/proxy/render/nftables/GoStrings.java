package dev.railyard.proxy.render.nftables;

import java.util.Comparator;

/** Go's string ordering: byte-wise over UTF-8, which is code-point order (Java's compareTo is UTF-16 order). */
final class GoStrings {
    static final Comparator<String> ORDER = GoStrings::compare;

    private GoStrings() {
    }

    static int compare(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Boolean.compare(i < a.length(), j < b.length());
    }
}
