package dev.railyard.netlink;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Turns prefixes into the start/end elements of an interval set the way nft 1.0 sends them. Each range is a
 * start element plus an end element (flag INTERVAL_END) at the first address after it (none when it reaches the
 * top of the address space). When adding, a leading end element at address zero marks everything below the
 * first range as outside the set (nft sends it whenever the first range does not start at zero; adding it again
 * is harmless). Named sets keep adjacent ranges apart and refuse overlapping ones, as nft does without
 * {@code auto-merge}; anonymous sets merge them.
 */
public final class Intervals {

    private Intervals() {
    }

    /** Elements that add these prefixes to a named interval set (overlapping prefixes are refused). */
    public static List<SetElement> forAdd(List<Prefix> prefixes) {
        return elements(ranges(prefixes, false), true);
    }

    /** Elements that delete these prefixes (each exactly as it was added) from a named interval set. */
    public static List<SetElement> forDelete(List<Prefix> prefixes) {
        return elements(ranges(prefixes, false), false);
    }

    /** Elements of an anonymous interval set: overlapping and adjacent prefixes merged, as nft's auto-merge. */
    static List<SetElement> merged(List<Prefix> prefixes) {
        return elements(ranges(prefixes, true), true);
    }

    private record Range(BigInteger start, BigInteger end, Prefix prefix, int width) {
    }

    private static List<Range> ranges(List<Prefix> prefixes, boolean merge) {
        if (prefixes.isEmpty()) {
            throw new IllegalArgumentException("no prefixes");
        }
        int width = prefixes.get(0).address().length;
        List<Range> ranges = new ArrayList<>();
        for (Prefix prefix : prefixes) {
            if (prefix.address().length != width) {
                throw new IllegalArgumentException("cannot mix IPv4 and IPv6 prefixes in one interval set: " + prefixes);
            }
            BigInteger start = new BigInteger(1, prefix.address());
            BigInteger end = start.add(BigInteger.ONE.shiftLeft(width * 8 - prefix.length()));
            ranges.add(new Range(start, end, prefix, width));
        }
        ranges.sort(Comparator.comparing(Range::start));
        List<Range> result = new ArrayList<>();
        for (Range range : ranges) {
            Range last = result.isEmpty() ? null : result.get(result.size() - 1);
            if (last != null && range.start().compareTo(last.end()) < 0 && !merge) {
                throw new IllegalArgumentException("interval set prefixes overlap: " + last.prefix() + " and " + range.prefix());
            }
            if (last != null && merge && range.start().compareTo(last.end()) <= 0) {
                result.set(result.size() - 1, new Range(last.start(), last.end().max(range.end()), last.prefix(), width));
            } else {
                result.add(range);
            }
        }
        return result;
    }

    private static List<SetElement> elements(List<Range> ranges, boolean leadingZeroEnd) {
        int width = ranges.get(0).width();
        BigInteger top = BigInteger.ONE.shiftLeft(width * 8);
        List<SetElement> elements = new ArrayList<>();
        if (leadingZeroEnd && ranges.get(0).start().signum() != 0) {
            elements.add(SetElement.end(bytes(BigInteger.ZERO, width)));
        }
        for (Range range : ranges) {
            elements.add(SetElement.of(bytes(range.start(), width)));
            if (range.end().compareTo(top) < 0) {
                elements.add(SetElement.end(bytes(range.end(), width)));
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
