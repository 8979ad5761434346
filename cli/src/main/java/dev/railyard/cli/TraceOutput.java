package dev.railyard.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import dev.railyard.proxy.inspect.Affinity;
import dev.railyard.proxy.inspect.EndpointShare;
import dev.railyard.proxy.inspect.Outcome;
import dev.railyard.proxy.inspect.Packet;
import dev.railyard.proxy.inspect.Step;
import dev.railyard.proxy.inspect.Trace;
import dev.railyard.proxy.inspect.Verdict;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** How {@code railyard trace} prints a trace: text for people, one JSON object for programs. */
final class TraceOutput {
    private TraceOutput() {
    }

    /**
     * One line per step, indented by chain depth under a header for each chain entered, then a summary.
     * {@code brief} leaves out rules that did not match (except the not-taken side of random choices and
     * affinity checks, which explain the endpoints).
     */
    static String text(Trace trace, String rules, String originReason, boolean brief) {
        StringBuilder out = new StringBuilder();
        Packet packet = trace.packet();
        out.append("trace: ").append(packet.describe());
        if (originReason != null) {
            out.append(" (").append(originReason).append(')');
        }
        out.append('\n');
        out.append("rules: ").append(rules).append('\n');
        for (String note : trace.notes()) {
            out.append("note: ").append(note).append('\n');
        }
        boolean branched = trace.outcomes().size() > 1;
        String header = null;
        for (Step step : trace.path()) {
            if (brief && step.result() == Step.Result.NO_MATCH && !step.why().startsWith("random choice")
                    && !step.why().startsWith("session affinity")) {
                continue;
            }
            String share = branched ? String.format(Locale.ROOT, "[%5s] ", percent(step.reach())) : "";
            if (step.result() == Step.Result.ROUTE || step.result() == Step.Result.END) {
                header = null;
                out.append(share).append(step.result() == Step.Result.ROUTE ? "routing: " : "=> ")
                        .append(step.result() == Step.Result.ROUTE ? step.why() : step.rule() + "  (" + step.why() + ")")
                        .append('\n');
                continue;
            }
            String chainHeader = step.table() + " " + step.chain() + "@" + step.depth();
            if (!chainHeader.equals(header)) {
                header = chainHeader;
                out.append(share).append("  ".repeat(step.depth())).append(step.table()).append(' ')
                        .append(step.chain()).append('\n');
            }
            out.append(share).append("  ".repeat(step.depth() + 1))
                    .append(String.format(Locale.ROOT, "%-9s ", label(step.result())))
                    .append(step.rule());
            if (!step.why().isEmpty()) {
                out.append("   # ").append(step.why());
            }
            out.append('\n');
        }
        out.append('\n').append(summary(trace));
        return out.toString();
    }

    /** The outcome in a few lines: verdict, endpoints, masquerade, affinity, what could not be evaluated. */
    static String summary(Trace trace) {
        StringBuilder out = new StringBuilder();
        Map<Verdict, Double> verdicts = trace.verdicts();
        out.append("verdict: ");
        if (verdicts.size() == 1) {
            out.append(trace.verdict());
        } else {
            List<String> parts = new ArrayList<>();
            verdicts.forEach((verdict, share) -> parts.add(verdict + " " + percent(share)));
            out.append(String.join(", ", parts));
        }
        out.append('\n');
        List<EndpointShare> endpoints = trace.endpoints();
        if (endpoints.isEmpty()) {
            out.append("endpoints: none\n");
        } else {
            out.append("endpoints:\n");
            int width = endpoints.stream().mapToInt(e -> e.address().length()).max().orElse(0);
            for (EndpointShare endpoint : endpoints) {
                out.append(String.format(Locale.ROOT, "  %-" + width + "s  %6s  masquerade: %s%n", endpoint.address(),
                        percent(endpoint.probability()), endpoint.masquerade() ? "yes" : "no"));
            }
        }
        out.append("masquerade: ").append(trace.masquerade() ? "yes" : "no").append('\n');
        List<Affinity> affinity = trace.affinity();
        if (affinity.isEmpty()) {
            out.append("affinity: none\n");
        } else {
            out.append("affinity: ClientIP, ").append(affinity.get(0).seconds())
                    .append(" s (traced as a new client; a client seen within that time returns to its endpoint)\n");
        }
        // The same rule is met once per branch that reaches it; list it once.
        Map<String, Step> unevaluated = new LinkedHashMap<>();
        for (Step step : trace.unevaluated()) {
            unevaluated.putIfAbsent(step.table() + " " + step.chain() + ": " + step.rule(), step);
        }
        if (unevaluated.isEmpty()) {
            out.append("cannot evaluate: none\n");
        } else {
            out.append("cannot evaluate: ").append(unevaluated.size()).append(unevaluated.size() == 1 ? " rule" : " rules")
                    .append(", treated as not matching:\n");
            unevaluated.forEach((where, step) -> out.append("  ").append(where).append("   # ").append(step.why())
                    .append('\n'));
        }
        return out.toString();
    }

    static String json(Trace trace, String rules, String originReason) {
        JsonObject root = new JsonObject();
        Packet packet = trace.packet();
        JsonObject p = new JsonObject();
        p.addProperty("source", packet.source());
        if (packet.sourcePort() != 0) {
            p.addProperty("sourcePort", packet.sourcePort());
        }
        p.addProperty("destination", packet.destination());
        p.addProperty("port", packet.port());
        p.addProperty("protocol", packet.protocol().lowerCase());
        p.addProperty("from", packet.origin().flagValue());
        if (originReason != null) {
            p.addProperty("fromReason", originReason);
        }
        p.add("inInterface", packet.inInterface() == null ? JsonNull.INSTANCE : new JsonPrimitive(packet.inInterface()));
        root.add("packet", p);
        root.addProperty("rules", rules);
        root.addProperty("verdict", trace.verdict().name());
        JsonObject verdicts = new JsonObject();
        trace.verdicts().forEach((verdict, share) -> verdicts.add(verdict.name(), number(share)));
        root.add("verdicts", verdicts);
        JsonArray endpoints = new JsonArray();
        for (EndpointShare endpoint : trace.endpoints()) {
            JsonObject e = new JsonObject();
            e.addProperty("address", endpoint.address());
            e.add("probability", number(endpoint.probability()));
            e.addProperty("masquerade", endpoint.masquerade());
            endpoints.add(e);
        }
        root.add("endpoints", endpoints);
        root.addProperty("masquerade", trace.masquerade());
        JsonArray affinity = new JsonArray();
        for (Affinity check : trace.affinity()) {
            JsonObject a = new JsonObject();
            a.addProperty("list", check.list());
            a.addProperty("timeoutSeconds", check.seconds());
            a.add("target", check.target() == null ? JsonNull.INSTANCE : new JsonPrimitive(check.target()));
            a.add("endpoint", check.endpoint() == null ? JsonNull.INSTANCE : new JsonPrimitive(check.endpoint()));
            affinity.add(a);
        }
        root.add("affinity", affinity);
        JsonArray outcomes = new JsonArray();
        for (Outcome outcome : trace.outcomes()) {
            JsonObject o = new JsonObject();
            o.add("probability", number(outcome.probability()));
            o.addProperty("verdict", outcome.verdict().name());
            o.add("endpoint", outcome.endpoint() == null ? JsonNull.INSTANCE : new JsonPrimitive(outcome.endpoint()));
            o.addProperty("masquerade", outcome.masquerade());
            o.addProperty("decidedBy", outcome.decidedBy());
            o.addProperty("unevaluated", outcome.unevaluated());
            outcomes.add(o);
        }
        root.add("outcomes", outcomes);
        JsonArray path = new JsonArray();
        for (Step step : trace.path()) {
            path.add(step(step));
        }
        root.add("path", path);
        JsonArray unevaluated = new JsonArray();
        trace.unevaluated().forEach(step -> unevaluated.add(step(step)));
        root.add("cannotEvaluate", unevaluated);
        JsonArray notes = new JsonArray();
        trace.notes().forEach(notes::add);
        root.add("notes", notes);
        return new GsonBuilder().disableHtmlEscaping().setPrettyPrinting().create().toJson(root) + "\n";
    }

    private static JsonObject step(Step step) {
        JsonObject s = new JsonObject();
        s.addProperty("table", step.table());
        s.addProperty("chain", step.chain());
        s.addProperty("rule", step.rule());
        s.addProperty("result", step.result().label());
        s.addProperty("why", step.why());
        s.addProperty("depth", step.depth());
        s.add("probability", number(step.reach()));
        return s;
    }

    private static String label(Step.Result result) {
        switch (result) {
            case MATCH:
                return "match";
            case NO_MATCH:
                return "no match";
            case CANNOT_EVALUATE:
                return "CANNOT";
            case POLICY:
                return "policy";
            default:
                return result.label();
        }
    }

    /** Probabilities to 10 decimals, as kube-proxy writes them, without float noise. */
    static JsonPrimitive number(double value) {
        return new JsonPrimitive(new BigDecimal(value).setScale(10, RoundingMode.HALF_EVEN).stripTrailingZeros());
    }

    /** "50%", "33.3%". */
    static String percent(double share) {
        double value = share * 100;
        if (Math.abs(value - Math.rint(value)) < 1e-6) {
            return String.format(Locale.ROOT, "%.0f%%", value);
        }
        return String.format(Locale.ROOT, value >= 1 ? "%.1f%%" : "%.3g%%", value);
    }
}
