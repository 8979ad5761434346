package dev.railyard.proxy.render.nftables;

/**
 * Go's {@code sort.SliceStable} algorithm (sort/zsortfunc.go: {@code stable_func}, {@code insertionSort_func},
 * {@code symMerge_func}, {@code rotate_func}, {@code swapRange_func}), step for step. A port of the algorithm rather
 * than Java's own stable sort, because kube-proxy's comparators are not always strict weak orders and then only the
 * exact sequence of comparisons and swaps reproduces Go's result.
 */
final class GoStableSort {

    /** Go's {@code lessSwap}. */
    interface Data {
        boolean less(int i, int j);

        void swap(int i, int j);
    }

    private GoStableSort() {
    }

    static void sort(Data data, int n) {
        int blockSize = 20;
        int a = 0;
        int b = blockSize;
        while (b <= n) {
            insertionSort(data, a, b);
            a = b;
            b += blockSize;
        }
        insertionSort(data, a, n);
        while (blockSize < n) {
            a = 0;
            b = 2 * blockSize;
            while (b <= n) {
                symMerge(data, a, a + blockSize, b);
                a = b;
                b += 2 * blockSize;
            }
            int m = a + blockSize;
            if (m < n) {
                symMerge(data, a, m, n);
            }
            blockSize *= 2;
        }
    }

    private static void insertionSort(Data data, int a, int b) {
        for (int i = a + 1; i < b; i++) {
            for (int j = i; j > a && data.less(j, j - 1); j--) {
                data.swap(j, j - 1);
            }
        }
    }

    private static void symMerge(Data data, int a, int m, int b) {
        if (m - a == 1) {
            int i = m;
            int j = b;
            while (i < j) {
                int h = (i + j) >>> 1;
                if (data.less(h, a)) {
                    i = h + 1;
                } else {
                    j = h;
                }
            }
            for (int k = a; k < i - 1; k++) {
                data.swap(k, k + 1);
            }
            return;
        }
        if (b - m == 1) {
            int i = a;
            int j = m;
            while (i < j) {
                int h = (i + j) >>> 1;
                if (!data.less(m, h)) {
                    i = h + 1;
                } else {
                    j = h;
                }
            }
            for (int k = m; k > i; k--) {
                data.swap(k, k - 1);
            }
            return;
        }
        int mid = (a + b) >>> 1;
        int n = mid + m;
        int start;
        int r;
        if (m > mid) {
            start = n - b;
            r = mid;
        } else {
            start = a;
            r = m;
        }
        int p = n - 1;
        while (start < r) {
            int c = (start + r) >>> 1;
            if (!data.less(p - c, c)) {
                start = c + 1;
            } else {
                r = c;
            }
        }
        int end = n - start;
        if (start < m && m < end) {
            rotate(data, start, m, end);
        }
        if (a < start && start < mid) {
            symMerge(data, a, start, mid);
        }
        if (mid < end && end < b) {
            symMerge(data, mid, end, b);
        }
    }

    private static void rotate(Data data, int a, int m, int b) {
        int i = m - a;
        int j = b - m;
        while (i != j) {
            if (i > j) {
                swapRange(data, m - i, m, j);
                i -= j;
            } else {
                swapRange(data, m - i, m + j - i, i);
                j -= i;
            }
        }
        swapRange(data, m - i, m, i);
    }

    private static void swapRange(Data data, int a, int b, int n) {
        for (int i = 0; i < n; i++) {
            data.swap(a + i, b + i);
        }
    }
}
