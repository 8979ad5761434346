package dev.railyard.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code nft list} output in a form two listings of the same rules compare equal in: each table's chains, sets
 * and maps in name order, each set's or map's elements sorted. The kernel lists objects in the order they were
 * created (a full sync re-creates base chains) and hash-set elements in its own order; neither says anything
 * about the rules.
 */
public final class NftListing {
    private static final Pattern ELEMENTS = Pattern.compile("elements = \\{([^}]*)\\}");

    private NftListing() {
    }

    public static String normalized(String listing) {
        Matcher elements = ELEMENTS.matcher(listing);
        StringBuilder sorted = new StringBuilder();
        while (elements.find()) {
            List<String> items = new ArrayList<>();
            for (String item : elements.group(1).split(",")) {
                items.add(item.strip());
            }
            items.sort(null);
            elements.appendReplacement(sorted, Matcher.quoteReplacement("elements = { " + String.join(", ", items)
                    + " }"));
        }
        elements.appendTail(sorted);
        // Objects are the blocks from "\t<kind> <name> {" to "\t}"; tables keep their order.
        StringBuilder out = new StringBuilder();
        List<String> objects = new ArrayList<>();
        StringBuilder current = null;
        for (String line : sorted.toString().split("\n")) {
            if (line.startsWith("\t") && !line.startsWith("\t\t") && line.endsWith("{")) {
                current = new StringBuilder();
            }
            if (current != null) {
                if (!line.isBlank()) {
                    current.append(line).append('\n');
                }
                if (line.equals("\t}")) {
                    objects.add(current.toString());
                    current = null;
                }
            } else if (line.equals("}")) {
                objects.sort(null);
                objects.forEach(out::append);
                objects.clear();
                out.append(line).append('\n');
            } else if (!line.isBlank()) {
                out.append(line).append('\n');
            }
        }
        return out.toString();
    }
}
