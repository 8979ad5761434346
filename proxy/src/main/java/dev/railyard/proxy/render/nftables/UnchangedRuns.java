package dev.railyard.proxy.render.nftables;

import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePortName;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * The runs of service ports a partial sync leaves alone: between the changed services, the ports before and after
 * the sync are the same, in the same order. A partial plan copies each run whole instead of ordering every port's
 * name against its previous self, which at 50,000 services was ~25 ms of a one-endpoint change (60,000 ordering
 * comparisons). The runs are found by binary search for each changed service, then checked port by port for equal
 * names, which is cheap: usually they are the same objects.
 */
final class UnchangedRuns {
    /** {@code length} ports from {@code entryStart} in the new state are those from {@code ruleStart} before. */
    record Run(int entryStart, int ruleStart, int length) {
    }

    private UnchangedRuns() {
    }

    /**
     * The runs, in order, or null when the two lists do not line up between the changed services (then the
     * caller merges port by port, as for a full sync).
     */
    static List<Run> between(List<ProxyState.Entry> entries, ServicePortRules[] before, Set<String> changedServices) {
        List<Run> runs = new ArrayList<>();
        int entryFrom = 0;
        int ruleFrom = 0;
        List<String[]> services = new ArrayList<>(changedServices.size());
        for (String serviceKey : changedServices) {
            int slash = serviceKey.indexOf('/');
            if (slash < 0) {
                return null;
            }
            services.add(new String[] {serviceKey.substring(0, slash), serviceKey.substring(slash + 1)});
        }
        // In the ports' order (namespace, then name), not the keys' text order: "app-2/x" sorts before "app/y".
        services.sort(Comparator.<String[], String>comparing(service -> service[0])
                .thenComparing(service -> service[1]));
        for (String[] service : services) {
            String namespace = service[0];
            String name = service[1];
            int entryStart = firstAtOrAfter(entries.size(), i -> entries.get(i).service().name(), namespace, name);
            int ruleStart = firstAtOrAfter(before.length, j -> before[j].name(), namespace, name);
            int entryEnd = entryStart;
            while (entryEnd < entries.size() && isService(entries.get(entryEnd).service().name(), namespace, name)) {
                entryEnd++;
            }
            int ruleEnd = ruleStart;
            while (ruleEnd < before.length && isService(before[ruleEnd].name(), namespace, name)) {
                ruleEnd++;
            }
            if (entryStart < entryFrom || ruleStart < ruleFrom || !addRun(runs, entries, before, entryFrom, ruleFrom,
                    entryStart, ruleStart)) {
                return null;
            }
            entryFrom = entryEnd;
            ruleFrom = ruleEnd;
        }
        return addRun(runs, entries, before, entryFrom, ruleFrom, entries.size(), before.length) ? runs : null;
    }

    /** Adds the run [entryFrom, entryTo) ~ [ruleFrom, ruleTo) if both hold the same ports. */
    private static boolean addRun(List<Run> runs, List<ProxyState.Entry> entries, ServicePortRules[] before,
                                  int entryFrom, int ruleFrom, int entryTo, int ruleTo) {
        int length = entryTo - entryFrom;
        if (length != ruleTo - ruleFrom) {
            return false;
        }
        if (length == 0) {
            return true;
        }
        for (int k = 0; k < length; k++) {
            ServicePortName now = entries.get(entryFrom + k).service().name();
            ServicePortName then = before[ruleFrom + k].name();
            // Usually the very same object: the tracker keeps the entries of services that did not change.
            if (now != then && !now.equals(then)) {
                return false;
            }
        }
        runs.add(new Run(entryFrom, ruleFrom, length));
        return true;
    }

    private interface NameAt {
        ServicePortName at(int index);
    }

    /** The first index whose port's service sorts at or after namespace/name (ports sort by service first). */
    private static int firstAtOrAfter(int size, NameAt names, String namespace, String name) {
        int low = 0;
        int high = size;
        while (low < high) {
            int middle = (low + high) >>> 1;
            ServicePortName at = names.at(middle);
            int order = at.namespace().compareTo(namespace);
            if (order == 0) {
                order = at.name().compareTo(name);
            }
            if (order < 0) {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        return low;
    }

    private static boolean isService(ServicePortName port, String namespace, String name) {
        return port.namespace().equals(namespace) && port.name().equals(name);
    }
}
