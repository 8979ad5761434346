package dev.railyard.proxy.render.nftables;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.railyard.nftables.Chain;
import dev.railyard.nftables.Family;
import dev.railyard.nftables.Ruleset;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * A table by what can be compared across nft's JSON and the model: per chain its hook ("" for a regular
 * chain) and rule count, per set or map its elements as "key" or "key : verdict", sorted.
 */
record KernelTable(Map<String, String> chains, Map<String, List<String>> containers) {

    static KernelTable of(Ruleset model, Family family) {
        String table = NftablesLayout.TABLE;
        Map<String, String> chains = new TreeMap<>();
        for (String name : model.chainNames(family, table)) {
            Chain chain = model.chain(family, table, name);
            String hook = chain.base() == null ? ""
                    : chain.base().type() + " " + chain.base().hook() + " " + chain.base().priority();
            chains.put(name, hook + " rules=" + model.rules(family, table, name).size());
        }
        Map<String, List<String>> containers = new TreeMap<>();
        List<String> names = new ArrayList<>(model.setNames(family, table));
        names.addAll(model.mapNames(family, table));
        for (String name : names) {
            containers.put(name, model.elements(family, table, name).stream()
                    .map(e -> e.inMap() ? e.keyText() + " : " + e.valueText() : e.keyText())
                    .sorted().collect(Collectors.toList()));
        }
        return new KernelTable(chains, containers);
    }

    static KernelTable parse(String json) {
        Map<String, String> chainHooks = new TreeMap<>();
        Map<String, Integer> ruleCounts = new TreeMap<>();
        Map<String, List<String>> containers = new TreeMap<>();
        for (JsonElement item : JsonParser.parseString(json).getAsJsonObject().getAsJsonArray("nftables")) {
            JsonObject object = item.getAsJsonObject();
            if (object.has("chain")) {
                JsonObject chain = object.getAsJsonObject("chain");
                chainHooks.put(chain.get("name").getAsString(), chain.has("hook")
                        ? chain.get("type").getAsString() + " " + chain.get("hook").getAsString() + " "
                        + chain.get("prio").getAsInt() : "");
            } else if (object.has("rule")) {
                ruleCounts.merge(object.getAsJsonObject("rule").get("chain").getAsString(), 1, Integer::sum);
            } else if (object.has("set") || object.has("map")) {
                JsonObject container = object.getAsJsonObject(object.has("set") ? "set" : "map");
                List<String> elements = new ArrayList<>();
                if (container.has("elem")) {
                    for (JsonElement element : container.getAsJsonArray("elem")) {
                        elements.add(element.isJsonArray() ? key(element.getAsJsonArray().get(0)) + " : "
                                + value(element.getAsJsonArray().get(1)) : key(element));
                    }
                }
                elements.sort(null);
                containers.put(container.get("name").getAsString(), elements);
            }
        }
        Map<String, String> chains = new TreeMap<>();
        chainHooks.forEach((name, hook) -> chains.put(name, hook + " rules=" + ruleCounts.getOrDefault(name, 0)));
        return new KernelTable(chains, containers);
    }

    /** "10.96.0.10 . tcp . 80" from {"concat": [...]} (inside {"elem": {"val": ...}} when commented). */
    private static String key(JsonElement key) {
        if (key.isJsonObject() && key.getAsJsonObject().has("elem")) {
            return key(key.getAsJsonObject().getAsJsonObject("elem").get("val"));
        }
        if (key.isJsonObject() && key.getAsJsonObject().has("concat")) {
            JsonArray parts = key.getAsJsonObject().getAsJsonArray("concat");
            List<String> words = new ArrayList<>();
            parts.forEach(part -> words.add(part.getAsString()));
            return String.join(" . ", words);
        }
        return key.getAsString();
    }

    /** A map value: data ({"concat": [...]} or a word) as a key is written, or a verdict. */
    private static String value(JsonElement value) {
        if (!value.isJsonObject() || value.getAsJsonObject().has("concat")) {
            return key(value);
        }
        return verdict(value);
    }

    /** "goto CHAIN", "drop" ... from {"goto": {"target": CHAIN}} or {"drop": null}. */
    private static String verdict(JsonElement value) {
        Map.Entry<String, JsonElement> entry = value.getAsJsonObject().entrySet().iterator().next();
        JsonElement argument = entry.getValue();
        return argument.isJsonObject() && argument.getAsJsonObject().has("target")
                ? entry.getKey() + " " + argument.getAsJsonObject().get("target").getAsString() : entry.getKey();
    }
}
