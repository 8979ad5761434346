package dev.railyard.proxy.render.nftables;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A readable account of how two line lists differ: lines only in one of them, with counts for repeated lines. */
final class LineDiff {
    private static final int MAX_LINES = 40;

    private LineDiff() {
    }

    static String describe(String expected, String actual) {
        Map<String, Integer> balance = new LinkedHashMap<>();
        for (String line : expected.split("\n", -1)) {
            balance.merge(line, 1, Integer::sum);
        }
        for (String line : actual.split("\n", -1)) {
            balance.merge(line, -1, Integer::sum);
        }
        List<String> missing = new ArrayList<>();
        List<String> extra = new ArrayList<>();
        balance.forEach((line, count) -> {
            for (int i = 0; i < Math.abs(count); i++) {
                (count > 0 ? missing : extra).add(line);
            }
        });
        StringBuilder out = new StringBuilder();
        if (missing.isEmpty() && extra.isEmpty()) {
            out.append("same lines, different order after sorting (rule order within a chain?)\n");
            String[] e = expected.split("\n", -1);
            String[] a = actual.split("\n", -1);
            for (int i = 0; i < Math.min(e.length, a.length); i++) {
                if (!e[i].equals(a[i])) {
                    out.append("first difference at line ").append(i + 1).append(":\n- ").append(e[i])
                            .append("\n+ ").append(a[i]).append('\n');
                    break;
                }
            }
            return out.toString();
        }
        append(out, "- missing (expected, not in result)", missing);
        append(out, "+ unexpected (in result, not expected)", extra);
        return out.toString();
    }

    private static void append(StringBuilder out, String title, List<String> lines) {
        if (lines.isEmpty()) {
            return;
        }
        out.append(title).append(", ").append(lines.size()).append(" line(s):\n");
        for (int i = 0; i < Math.min(lines.size(), MAX_LINES); i++) {
            out.append("  ").append(lines.get(i)).append('\n');
        }
        if (lines.size() > MAX_LINES) {
            out.append("  ... ").append(lines.size() - MAX_LINES).append(" more\n");
        }
    }
}
