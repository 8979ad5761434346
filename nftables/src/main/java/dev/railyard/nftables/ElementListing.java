package dev.railyard.nftables;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code elements = { ... }} of one set or map as {@code nft list} prints it, read back into elements:
 * {@code 10.96.0.46 . tcp . 80 comment "ns/svc:p" : goto reject-chain}, items separated by commas over as many
 * lines as nft wraps them.
 */
final class ElementListing {
    private static final Pattern BLOCK = Pattern.compile("elements = \\{([^}]*)\\}");
    private static final Pattern ITEM = Pattern.compile("^(.*?)(?: comment \"([^\"]*)\")?(?: : (.*))?$");

    private ElementListing() {
    }

    static List<Element> parse(String container, boolean map, String listing) {
        Matcher block = BLOCK.matcher(listing);
        if (!block.find()) {
            return List.of();
        }
        List<Element> elements = new ArrayList<>();
        for (String raw : block.group(1).split(",")) {
            String item = raw.strip().replaceAll("\\s+", " ");
            if (item.isEmpty()) {
                continue;
            }
            Matcher m = ITEM.matcher(item);
            if (!m.matches()) {
                throw new IllegalArgumentException("cannot read element \"" + item + "\" of " + container);
            }
            List<String> key = Arrays.asList(m.group(1).split(" \\. "));
            List<String> value = !map || m.group(3) == null ? List.of() : Arrays.asList(m.group(3).split(" \\. "));
            elements.add(new Element(container, map, key, value, m.group(2)));
        }
        return elements;
    }
}
