package dev.railyard.netlink;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Turns prefixes into the start/end elements of an interval set the way nft 1.0 sends them: sorted, overlapping
 * and adjacent ranges merged, each range a start element plus an end element (flag INTERVAL_END) at the first
 * address after it (none when it reaches the top), and a leading end element at address zero when the first
 * range does not start there (it marks everything below as outside the set).
 */
public final class Intervals {

    private Intervals() {
    }

    public static List<SetElement> fromPrefixes(List<Prefix> prefixes) {
        if (prefixes.isEmpty()) {
            return List.of();
        }
        int width = prefixes.get(0).address().length;
        List<BigInteger[]> ranges = new ArrayList<>();
        for (Prefix prefix : prefixes) {
            if (prefix.address().length != width) {
                throw new IllegalArgumentException("cannot mix IPv4 and IPv6 prefixes in one interval set: " + prefixes);
            }
            BigInteger start = new BigInteger(1, prefix.address());
            BigInteger end = start.add(BigInteger.ONE.shiftLeft(width * 8 - prefix.length()));
            ranges.add(new BigInteger[] {start, end});
        }
        ranges.sort(Comparator.comparing((BigInteger[] r) -> r[0]));
        List<BigInteger[]> merged = new ArrayList<>();
        for (BigInteger[] range : ranges) {
            BigInteger[] last = merged.isEmpty() ? null : merged.get(merged.size() - 1);
            if (last != null && range[0].compareTo(last[1]) <= 0) {
                last[1] = last[1].max(range[1]);
            } else {
                merged.add(range.clone());
            }
        }
        BigInteger top = BigInteger.ONE.shiftLeft(width * 8);
        List<SetElement> elements = new ArrayList<>();
        if (merged.get(0)[0].signum() != 0) {
            elements.add(SetElement.end(bytes(BigInteger.ZERO, width)));
        }
        for (BigInteger[] range : merged) {
            elements.add(SetElement.of(bytes(range[0], width)));
            if (range[1].compareTo(top) < 0) {
                elements.add(SetElement.end(bytes(range[1], width)));
            }
        }
        return elements;
    }

    static byte[] bytes(BigInteger value, int width) {
        byte[] raw = value.toByteArray();
        byte[] out = new byte[width];
        int copy = Math.min(raw.length, width);
        System.arraycopy(raw, raw.length - copy, out, width - copy, copy);
        return out;
    }
}
