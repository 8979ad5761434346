package dev.railyard.proxy.render;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Arrays;

/**
 * The "--probability" strings of the statistic match, 1/n spelled exactly as Go's fmt "%0.10f" spells it, so
 * rules stay diffable against kube-proxy's. Go rounds the exact binary value of the double to nearest, ties to
 * even; BigDecimal of the double does the same, where Java's own %f would round a decimal approximation.
 * Computed once per n and kept, as kube-proxy does.
 */
final class Probabilities {
    private String[] cache = new String[0];

    String of(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("probability of 1/" + n);
        }
        if (n >= cache.length) {
            grow(n);
        }
        return cache[n];
    }

    private void grow(int n) {
        int from = cache.length;
        String[] bigger = Arrays.copyOf(cache, Math.max(n + 1, from * 2));
        for (int i = Math.max(1, from); i < bigger.length; i++) {
            bigger[i] = format(i);
        }
        cache = bigger;
    }

    static String format(int n) {
        return new BigDecimal(1.0 / n).setScale(10, RoundingMode.HALF_EVEN).toPlainString();
    }
}
