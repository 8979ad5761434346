package dev.railyard.proxy.inspect.nftables;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A comparison of one {@code numgen random mod K [offset B]} value with constants ({@code 0}, {@code != 0},
 * {@code { 0, 1 }}, {@code 0-1}, {@code < 2}, with or without a mask): which of the K equally likely values match.
 * It reads nothing of the packet, so it is worked out once per rule; a trace splits on it by the matching share
 * (the flat layout's dispatch cascade, {@code numgen random mod 3 0 goto ...}, gives each rule 1/(rules left)).
 *
 * @param numgen    the numgen expression
 * @param matching  how many of the K values match
 * @param matched   the matching values (as numgen produces them, offset included), in words
 * @param unmatched the other values, in words
 * @param unknown   why the share cannot be told (then the other fields say nothing), or null
 */
record NumgenComparison(Selector numgen, long matching, String matched, String unmatched, String unknown) {
    /** A masked value is tested value by value; beyond this many values the rule is reported instead. */
    private static final int MAX_MASKED_VALUES = 1 << 16;
    private static final long TOP = 0xffffffffL;
    /** Runs of values named in a step before the rest is counted only. */
    private static final int RUNS_NAMED = 4;

    /** The comparison {@code match} makes, or null when it is not one of a lone numgen value with constants. */
    static NumgenComparison of(Statement.Match match) {
        if (match.key().size() != 1 || match.key().get(0).kind() != Selector.Kind.NUMGEN || match.values() == null) {
            return null;
        }
        Selector numgen = match.key().get(0);
        List<long[]> values = new ArrayList<>();
        for (List<Value> alternative : match.values()) {
            if (!(alternative.get(0) instanceof Value.Num number)) {
                return unknown(numgen, "\"" + match.text() + "\" compares numgen with something not a number");
            }
            values.add(new long[] {number.low(), number.high()});
        }
        List<long[]> runs;
        if (match.mask() == -1) {
            runs = matchingRuns(numgen, merge(values));
        } else if (numgen.modulus() <= MAX_MASKED_VALUES) {
            runs = maskedRuns(numgen, match.mask(), values);
        } else {
            return unknown(numgen, "a mask on numgen random mod " + numgen.modulus() + " is not modelled");
        }
        List<long[]> outcomes = outcomes(numgen);
        List<long[]> others = subtract(outcomes, runs);
        if (match.negated()) {
            List<long[]> swap = runs;
            runs = others;
            others = swap;
        }
        return new NumgenComparison(numgen, count(runs), words(runs), words(others), null);
    }

    private static NumgenComparison unknown(Selector numgen, String why) {
        return new NumgenComparison(numgen, 0, "", "", why);
    }

    /** K. */
    int modulus() {
        return numgen.modulus();
    }

    /** The share of the packets that get to the rule for which the comparison holds. */
    double share() {
        return (double) matching / numgen.modulus();
    }

    /**
     * The values numgen produces, in the order of the random number they come from: B..B+K-1, in two runs when
     * they wrap at 2^32 as the kernel's 32-bit register does.
     */
    private static List<long[]> outcomes(Selector numgen) {
        long first = numgen.offset();
        long last = first + numgen.modulus() - 1;
        if (last <= TOP) {
            return List.of(new long[] {first, last});
        }
        return List.of(new long[] {first, TOP}, new long[] {0, last - TOP - 1});
    }

    /** Sorted, overlapping and adjacent ranges joined. */
    private static List<long[]> merge(List<long[]> ranges) {
        List<long[]> sorted = new ArrayList<>(ranges);
        sorted.sort(Comparator.comparingLong(r -> r[0]));
        List<long[]> merged = new ArrayList<>();
        for (long[] range : sorted) {
            long[] last = merged.isEmpty() ? null : merged.get(merged.size() - 1);
            if (last != null && range[0] <= last[1] + 1) {
                last[1] = Math.max(last[1], range[1]);
            } else {
                merged.add(new long[] {range[0], range[1]});
            }
        }
        return merged;
    }

    /** The values numgen produces that lie in {@code values} (merged), in outcome order. */
    private static List<long[]> matchingRuns(Selector numgen, List<long[]> values) {
        List<long[]> runs = new ArrayList<>();
        for (long[] outcome : outcomes(numgen)) {
            for (long[] value : values) {
                long low = Math.max(outcome[0], value[0]);
                long high = Math.min(outcome[1], value[1]);
                if (low <= high) {
                    runs.add(new long[] {low, high});
                }
            }
        }
        return runs;
    }

    /** Value by value: those whose masked value lies in one of {@code values}. */
    private static List<long[]> maskedRuns(Selector numgen, long mask, List<long[]> values) {
        List<long[]> runs = new ArrayList<>();
        for (int v = 0; v < numgen.modulus(); v++) {
            long produced = (numgen.offset() + v) & TOP;
            long masked = produced & mask;
            boolean in = false;
            for (long[] value : values) {
                in |= value[0] <= masked && masked <= value[1];
            }
            if (!in) {
                continue;
            }
            long[] last = runs.isEmpty() ? null : runs.get(runs.size() - 1);
            if (last != null && last[1] + 1 == produced) {
                last[1] = produced;
            } else {
                runs.add(new long[] {produced, produced});
            }
        }
        return runs;
    }

    /** The parts of {@code outcomes} not in {@code runs} (runs lie within outcomes, in the same order). */
    private static List<long[]> subtract(List<long[]> outcomes, List<long[]> runs) {
        List<long[]> rest = new ArrayList<>();
        for (long[] outcome : outcomes) {
            long from = outcome[0];
            for (long[] run : runs) {
                if (run[1] < outcome[0] || run[0] > outcome[1]) {
                    continue;
                }
                if (run[0] > from) {
                    rest.add(new long[] {from, run[0] - 1});
                }
                from = run[1] + 1;
            }
            if (from <= outcome[1]) {
                rest.add(new long[] {from, outcome[1]});
            }
        }
        return rest;
    }

    private static long count(List<long[]> runs) {
        long count = 0;
        for (long[] run : runs) {
            count += run[1] - run[0] + 1;
        }
        return count;
    }

    /** "0", "1 or 2", "0-5 or 9", "0, 2, 4, 6 or 12 other values". */
    private static String words(List<long[]> runs) {
        List<String> parts = new ArrayList<>();
        long more = 0;
        for (long[] run : runs) {
            List<String> named = run[1] == run[0] ? List.of(Long.toString(run[0]))
                    : run[1] == run[0] + 1 ? List.of(Long.toString(run[0]), Long.toString(run[1]))
                    : List.of(run[0] + "-" + run[1]);
            for (String part : named) {
                if (parts.size() < RUNS_NAMED) {
                    parts.add(part);
                } else {
                    more += named.size() == 1 ? run[1] - run[0] + 1 : 1;
                }
            }
        }
        if (more > 0) {
            return String.join(", ", parts) + " or " + more + " other values";
        }
        if (parts.size() < 2) {
            return String.join("", parts);
        }
        return String.join(", ", parts.subList(0, parts.size() - 1)) + " or " + parts.get(parts.size() - 1);
    }
}
