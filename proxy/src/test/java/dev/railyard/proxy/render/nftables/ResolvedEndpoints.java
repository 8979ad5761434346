package dev.railyard.proxy.render.nftables;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A dump ({@code Ruleset.dump()} lines) with the flat layout's endpoint keys resolved: where each service chain's
 * block of keys sits in the shared endpoint maps depends on the order of earlier syncs, what it holds does not.
 * Each dispatch rule's {@code offset B map @M} becomes the list of endpoints it reads, and the endpoint maps'
 * elements go; an element no dispatch rule reads is an error (a leak), as is a key a rule reads that is missing.
 */
final class ResolvedEndpoints {
    private static final Pattern DISPATCH = Pattern.compile(
            "numgen random mod ([0-9]+) offset ([0-9]+) map @((endpoints-(?:tcp|udp|sctp))-[0-9]+)$");
    private static final Pattern ELEMENT = Pattern.compile(
            "^add element (ip6?) kube-proxy (endpoints-(?:tcp|udp|sctp)-[0-9]+) \\{ ([0-9]+) : (.*) \\}$");
    private static final Pattern DECLARATION = Pattern.compile(
            "^add map (ip6?) kube-proxy (endpoints-(?:tcp|udp|sctp)-[0-9]+) \\{");

    private ResolvedEndpoints() {
    }

    static List<String> of(String dump) {
        Map<String, String> values = new HashMap<>();
        List<String> lines = new ArrayList<>();
        Set<String> declared = new HashSet<>();
        for (String line : dump.split("\n")) {
            Matcher element = ELEMENT.matcher(line);
            Matcher declaration = DECLARATION.matcher(line);
            if (declaration.find()) {
                // Which shard holds a block is bookkeeping; that the map a rule reads exists is checked below.
                declared.add(declaration.group(1) + " " + declaration.group(2));
            } else if (element.find()) {
                values.put(element.group(1) + " " + element.group(2) + " " + element.group(3), element.group(4));
            } else if (!line.isBlank()) {
                lines.add(line);
            }
        }
        Set<String> read = new HashSet<>();
        List<String> result = new ArrayList<>();
        for (String line : lines) {
            Matcher dispatch = DISPATCH.matcher(line);
            if (!dispatch.find()) {
                result.add(line);
                continue;
            }
            String family = line.startsWith("add rule ip6 ") ? "ip6" : "ip";
            if (!declared.contains(family + " " + dispatch.group(3))) {
                throw new AssertionError("map " + dispatch.group(3) + " is missing for: " + line);
            }
            int modulus = Integer.parseInt(dispatch.group(1));
            long offset = Long.parseLong(dispatch.group(2));
            List<String> endpoints = new ArrayList<>();
            for (long key = offset; key < offset + modulus; key++) {
                String id = family + " " + dispatch.group(3) + " " + key;
                String value = values.get(id);
                if (value == null) {
                    throw new AssertionError("key " + key + " of " + dispatch.group(3) + " is missing for: " + line);
                }
                if (!read.add(id)) {
                    throw new AssertionError("key " + key + " of " + dispatch.group(3) + " is read twice: " + line);
                }
                endpoints.add(value);
            }
            result.add(line.substring(0, dispatch.start()) + "numgen random mod " + modulus + " map @"
                    + dispatch.group(4) + " " + endpoints);
        }
        Set<String> unread = new HashSet<>(values.keySet());
        unread.removeAll(read);
        if (!unread.isEmpty()) {
            throw new AssertionError("endpoint map elements no rule reads: " + unread);
        }
        return result;
    }
}
