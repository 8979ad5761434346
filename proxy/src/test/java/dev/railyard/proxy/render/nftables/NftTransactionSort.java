package dev.railyard.proxy.render.nftables;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A port of kube-proxy's {@code sortNFTablesTransaction} and {@code diffNFTablesTransaction} (pkg/proxy/nftables/
 * helpers_test.go), which its tests use to compare an expected nftables text with the knftables Fake's dump.
 *
 * <p>Blank lines and lines whose first byte is '#' are dropped, then the lines are sorted with Go's
 * {@code sort.SliceStable} and this comparator, and joined with "\n" (no trailing newline):
 * <ol>
 * <li>a line with fewer than 5 space-separated words is "not less" than anything (so it stays where the stable sort
 * leaves it);</li>
 * <li>by object type (word 2): table, chain, rule, set, map, element, then anything else. The comparison is
 * {@code rank(a) >= rank(b)}, so two different unknown types are each "less" than the other, as upstream;</li>
 * <li>by object name (word 5), as Go strings (byte order);</li>
 * <li>rules of the same chain keep their order;</li>
 * <li>other lines of the same type and name by the whole line.</li>
 * </ol>
 * Because the comparator is not a strict weak order for malformed input, the sort itself is a line-by-line port of
 * Go's stable sort (insertion sort of blocks of 20, then SymMerge), so even odd input lands where Go puts it.
 */
public final class NftTransactionSort {
    private static final Map<String, Integer> OBJECT_ORDER = Map.of(
            "table", 10, "chain", 9, "rule", 8, "set", 7, "map", 6, "element", 5);

    private NftTransactionSort() {
    }

    /** {@code sortNFTablesTransaction(tx)}. */
    public static String sort(String tx) {
        List<String> lines = new ArrayList<>();
        for (String line : tx.split("\n", -1)) {
            if (!line.isEmpty() && line.charAt(0) != '#') {
                lines.add(line);
            }
        }
        String[] data = lines.toArray(new String[0]);
        String[][] words = new String[data.length][];
        for (int i = 0; i < data.length; i++) {
            words[i] = data[i].split(" ", -1);
        }
        GoStableSort.sort(new GoStableSort.Data() {
            @Override
            public boolean less(int i, int j) {
                return NftTransactionSort.less(data[i], words[i], data[j], words[j]);
            }

            @Override
            public void swap(int i, int j) {
                String line = data[i];
                data[i] = data[j];
                data[j] = line;
                String[] w = words[i];
                words[i] = words[j];
                words[j] = w;
            }
        }, data.length);
        return String.join("\n", Arrays.asList(data));
    }

    /**
     * {@code diffNFTablesTransaction(expected, result)}: empty if both sort to the same text, otherwise a short
     * line-based description of the difference (upstream prints a cmp.Diff; only emptiness matters there).
     */
    public static String diff(String expected, String result) {
        String sortedExpected = sort(expected);
        String sortedResult = sort(result);
        if (sortedExpected.equals(sortedResult)) {
            return "";
        }
        return LineDiff.describe(sortedExpected, sortedResult);
    }

    static boolean less(String li, String[] wi, String lj, String[] wj) {
        // Every well-formed line has at least 5 words ("add TYPE FAMILY TABLE NAME..."); others are never less.
        if (wi.length < 5 || wj.length < 5) {
            return false;
        }
        if (!wi[1].equals(wj[1])) {
            return OBJECT_ORDER.getOrDefault(wi[1], 0) >= OBJECT_ORDER.getOrDefault(wj[1], 0);
        }
        if (!wi[4].equals(wj[4])) {
            return GoStrings.compare(wi[4], wj[4]) < 0;
        }
        if (wi[1].equals("rule")) {
            return false;
        }
        return GoStrings.compare(li, lj) < 0;
    }
}
