package dev.railyard.proxy.daemon.ops;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict little parser of the Prometheus text format 0.0.4, enough to check what ProxyMetrics writes: every
 * sample belongs to a family declared by HELP and TYPE before it, names and labels are well formed, values are
 * numbers, and histograms are consistent (cumulative buckets, +Inf = count).
 */
final class PrometheusText {
    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern SAMPLE = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})? (\\S+)");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    record Sample(String name, Map<String, String> labels, double value) {
    }

    final Map<String, String> types = new LinkedHashMap<>();
    final Map<String, String> helps = new LinkedHashMap<>();
    final List<Sample> samples = new ArrayList<>();

    static PrometheusText parse(String text) {
        PrometheusText result = new PrometheusText();
        if (!text.isEmpty() && !text.endsWith("\n")) {
            throw new AssertionError("exposition must end with a newline");
        }
        for (String line : text.split("\n", -1)) {
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("# HELP ")) {
                String[] parts = line.substring(7).split(" ", 2);
                requireName(parts[0]);
                if (result.helps.put(parts[0], parts.length > 1 ? parts[1] : "") != null) {
                    throw new AssertionError("HELP twice for " + parts[0]);
                }
            } else if (line.startsWith("# TYPE ")) {
                String[] parts = line.substring(7).split(" ");
                requireName(parts[0]);
                if (parts.length != 2 || !List.of("counter", "gauge", "histogram", "summary", "untyped")
                        .contains(parts[1])) {
                    throw new AssertionError("bad TYPE line: " + line);
                }
                if (result.types.put(parts[0], parts[1]) != null) {
                    throw new AssertionError("TYPE twice for " + parts[0]);
                }
            } else if (line.startsWith("#")) {
                continue;
            } else {
                Matcher m = SAMPLE.matcher(line);
                if (!m.matches()) {
                    throw new AssertionError("bad sample line: " + line);
                }
                String name = m.group(1);
                if (result.familyOf(name) == null) {
                    throw new AssertionError("sample before its TYPE: " + line);
                }
                Map<String, String> labels = new TreeMap<>();
                if (m.group(3) != null && !m.group(3).isEmpty()) {
                    for (String pair : splitLabels(m.group(3))) {
                        Matcher lm = LABEL.matcher(pair);
                        if (!lm.matches()) {
                            throw new AssertionError("bad label " + pair + " in " + line);
                        }
                        if (labels.put(lm.group(1), lm.group(2)) != null) {
                            throw new AssertionError("label twice in " + line);
                        }
                    }
                }
                result.samples.add(new Sample(name, labels, parseValue(m.group(4), line)));
            }
        }
        result.checkHistograms();
        return result;
    }

    /** The declared family a sample name belongs to (histograms add _bucket, _sum, _count). */
    String familyOf(String sampleName) {
        if (types.containsKey(sampleName)) {
            return sampleName;
        }
        for (String suffix : List.of("_bucket", "_sum", "_count")) {
            if (sampleName.endsWith(suffix)) {
                String base = sampleName.substring(0, sampleName.length() - suffix.length());
                if ("histogram".equals(types.get(base))) {
                    return base;
                }
            }
        }
        return null;
    }

    /** The value of the one sample with this name and exactly these labels. */
    double value(String name, Map<String, String> labels) {
        List<Sample> found = samples.stream().filter(s -> s.name.equals(name) && s.labels.equals(labels)).toList();
        if (found.size() != 1) {
            throw new AssertionError("expected one sample " + name + labels + ", found " + found);
        }
        return found.get(0).value;
    }

    boolean has(String name, Map<String, String> labels) {
        return samples.stream().anyMatch(s -> s.name.equals(name) && s.labels.equals(labels));
    }

    /** Bucket bounds ("le" values) of one histogram series, in order. */
    List<String> bucketBounds(String histogram, Map<String, String> labels) {
        List<String> result = new ArrayList<>();
        for (Sample s : samples) {
            if (s.name.equals(histogram + "_bucket")) {
                Map<String, String> rest = new TreeMap<>(s.labels);
                String le = rest.remove("le");
                if (rest.equals(labels)) {
                    result.add(le);
                }
            }
        }
        return result;
    }

    /**
     * Cumulative count of the bucket with this bound, compared as a number: Go's client writes {@code le="1"},
     * the Java client {@code le="1.0"}, and Prometheus reads both as 1.
     */
    double bucket(String histogram, Map<String, String> labels, String le) {
        double bound = Double.parseDouble(le);
        for (String written : bucketBounds(histogram, labels)) {
            if (!written.equals("+Inf") && Double.parseDouble(written) == bound) {
                Map<String, String> withLe = new TreeMap<>(labels);
                withLe.put("le", written);
                return value(histogram + "_bucket", withLe);
            }
        }
        throw new AssertionError("no bucket le=" + le + " in " + histogram + labels);
    }

    private void checkHistograms() {
        for (Map.Entry<String, String> type : types.entrySet()) {
            if (!type.getValue().equals("histogram")) {
                continue;
            }
            String name = type.getKey();
            Map<Map<String, String>, List<Sample>> series = new LinkedHashMap<>();
            for (Sample s : samples) {
                if (s.name.equals(name + "_bucket")) {
                    Map<String, String> rest = new TreeMap<>(s.labels);
                    rest.remove("le");
                    series.computeIfAbsent(rest, k -> new ArrayList<>()).add(s);
                }
            }
            series.forEach((labels, buckets) -> {
                double previousBound = Double.NEGATIVE_INFINITY;
                double previousCount = 0;
                for (Sample b : buckets) {
                    double bound = parseValue(b.labels.get("le"), b.toString());
                    if (!(bound > previousBound) || b.value < previousCount) {
                        throw new AssertionError(name + labels + ": buckets not cumulative at le=" + b.labels.get("le"));
                    }
                    previousBound = bound;
                    previousCount = b.value;
                }
                if (previousBound != Double.POSITIVE_INFINITY) {
                    throw new AssertionError(name + labels + " has no +Inf bucket");
                }
                if (value(name + "_count", labels) != previousCount) {
                    throw new AssertionError(name + labels + ": _count differs from the +Inf bucket");
                }
                value(name + "_sum", labels);
            });
        }
    }

    private static List<String> splitLabels(String text) {
        List<String> result = new ArrayList<>();
        int start = 0;
        boolean quoted = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                quoted = !quoted;
            } else if (c == ',' && !quoted) {
                result.add(text.substring(start, i));
                start = i + 1;
            }
        }
        result.add(text.substring(start));
        return result;
    }

    private static void requireName(String name) {
        if (!NAME.matcher(name).matches()) {
            throw new AssertionError("bad metric name " + name);
        }
    }

    private static double parseValue(String text, String line) {
        switch (text) {
            case "+Inf":
                return Double.POSITIVE_INFINITY;
            case "-Inf":
                return Double.NEGATIVE_INFINITY;
            case "NaN":
                return Double.NaN;
            default:
                try {
                    return Double.parseDouble(text);
                } catch (NumberFormatException e) {
                    throw new AssertionError("bad value " + text + " in " + line);
                }
        }
    }
}
