package dev.railyard.proxy.render.nftables;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class NftTransactionSortTest {

    private static String resource(String name) {
        return NftCompatCase.shared(name);
    }

    /** Test_sortNFTablesTransaction: upstream's own input and expected output (helpers_test.go). */
    @Test
    void sortsUpstreamsTestInputIntoUpstreamsExpectedOutput() {
        String input = resource("sort-test-input.nft");
        String expected = resource("sort-test-expected.nft").strip();

        assertThat(NftTransactionSort.sort(input)).isEqualTo(expected);
    }

    /** Test_diffNFTablesTransaction. */
    @Test
    void diffIsEmptyOnlyForEquivalentTransactions() {
        String input = resource("sort-test-input.nft");
        String expected = resource("sort-test-expected.nft");
        assertThat(NftTransactionSort.diff(input, expected)).isEmpty();

        // upstream drops the first two lines of testExpected ("" and the table line)
        List<String> lines = Arrays.asList(expected.split("\n", -1));
        String notExpected = String.join("\n", lines.subList(2, lines.size()));
        assertThat(NftTransactionSort.diff(input, notExpected))
                .contains("add table ip testing { comment \"rules for kube-proxy\" ; }");
    }

    @Test
    void rulesOfAChainKeepTheirOrderAndEverythingElseIsOrderedByTypeNameAndLine() {
        String tx = String.join("\n",
                "add element ip t m { b : drop }",
                "add rule ip t c2 second",
                "add map ip t m { type ipv4_addr : verdict ; }",
                "# a comment",
                "",
                "add rule ip t c1 zzz",
                "add element ip t m { a : drop }",
                "add rule ip t c2 first-but-added-later",
                "add chain ip t c2",
                "add rule ip t c1 aaa",
                "add chain ip t c1",
                "add table ip t { comment \"x\" ; }",
                "");

        assertThat(NftTransactionSort.sort(tx)).isEqualTo(String.join("\n",
                "add table ip t { comment \"x\" ; }",
                "add chain ip t c1",
                "add chain ip t c2",
                "add rule ip t c1 zzz",
                "add rule ip t c1 aaa",
                "add rule ip t c2 second",
                "add rule ip t c2 first-but-added-later",
                "add map ip t m { type ipv4_addr : verdict ; }",
                "add element ip t m { a : drop }",
                "add element ip t m { b : drop }"));
    }

    @Test
    void onlyLinesStartingWithHashAreComments() {
        // upstream tests lines[i][0] == '#': an indented '#' line is kept (with fewer than 5 words it is never "less")
        assertThat(NftTransactionSort.sort("add chain ip t b\n#dropped\nadd chain ip t a\n  # indented\n"))
                .isEqualTo("add chain ip t a\nadd chain ip t b\n  # indented");
    }

    @Test
    void aLineWithFewerThanFiveWordsIsNeverLessAndBlocksInsertionSort() {
        // "junk" is neither less nor greater than anything, so the insertion sort cannot move "a" past it,
        // exactly as Go's sort.SliceStable does with upstream's comparator
        assertThat(NftTransactionSort.sort("add chain ip t b\njunk\nadd chain ip t a"))
                .isEqualTo("add chain ip t b\njunk\nadd chain ip t a");
        assertThat(NftTransactionSort.sort("add chain ip t b\nadd chain ip t a\njunk"))
                .isEqualTo("add chain ip t a\nadd chain ip t b\njunk");
    }

    @Test
    void objectNamesCompareAsGoStringsNotAsJavaStrings() {
        // U+FF5E (fullwidth tilde) < U+1F600 (emoji) in UTF-8 bytes and code points, but not in UTF-16 units
        String tx = "add chain ip t \uD83D\uDE00\nadd chain ip t \uFF5E";
        assertThat(NftTransactionSort.sort(tx)).isEqualTo("add chain ip t \uFF5E\nadd chain ip t \uD83D\uDE00");
    }

    @Test
    void sortIsIdempotent() {
        String input = resource("sort-test-input.nft");
        String once = NftTransactionSort.sort(input);
        assertThat(NftTransactionSort.sort(once)).isEqualTo(once);
    }

    /** The Go stable sort port against Java's stable sort, for valid orders, in sizes that exercise SymMerge. */
    @Test
    void goStableSortAgreesWithAStableSortForStrictWeakOrders() {
        Random random = new Random(20240611L);
        for (int round = 0; round < 200; round++) {
            int n = random.nextInt(300);
            int[][] items = new int[n][];
            for (int i = 0; i < n; i++) {
                items[i] = new int[] {random.nextInt(12), i}; // key, original position
            }
            List<int[]> expected = new ArrayList<>(Arrays.asList(items.clone()));
            expected.sort(Comparator.comparingInt(a -> a[0]));

            int[][] data = items.clone();
            GoStableSort.sort(new GoStableSort.Data() {
                @Override
                public boolean less(int i, int j) {
                    return data[i][0] < data[j][0];
                }

                @Override
                public void swap(int i, int j) {
                    int[] t = data[i];
                    data[i] = data[j];
                    data[j] = t;
                }
            }, n);

            assertThat(Arrays.asList(data)).as("round %d, n=%d", round, n).containsExactlyElementsOf(expected);
        }
    }
}
