package dev.railyard.proxy.sync;

import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;
import dev.railyard.proxy.source.ClusterEventHandler;
import dev.railyard.proxy.source.EndpointSliceConverter;
import dev.railyard.proxy.source.SliceMerge;
import dev.railyard.proxy.source.InvalidFieldException;
import dev.railyard.proxy.source.NodeInfo;
import dev.railyard.proxy.source.Problem;
import dev.railyard.proxy.source.ServiceCidrs;
import dev.railyard.proxy.source.ServiceConverter;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1ServiceCIDR;

import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Accumulates Service and EndpointSlice events between syncs, as kube-proxy's service and endpoints change
 * trackers do, and hands each IP family's proxier the new state with what changed ({@link #drain}).
 *
 * <p>Changes are compared per service at drain time against what the family's proxier last received, so a
 * service changed and changed back between two syncs (A→B→A) is not reported, and a deletion of an object never
 * seen changes nothing.
 *
 * <p>Invalid objects: every object goes through {@link ServiceConverter} / {@link EndpointSliceConverter}. One
 * that fails is reported ({@link #problems()} and the problem listener) and ignored: the last valid version of
 * that object stays in effect, and nothing else is touched. The API server validates objects, so an invalid one
 * means version skew or a hand-made source; keeping the last valid version means a bad update neither takes a
 * working service down nor removes any other service's rules. A later valid update or a deletion clears the
 * problem. Objects kube-proxy deliberately ignores (headless, ExternalName, another proxy's) count as absent.
 *
 * <p>Thread-safe; event methods only record and never block on a sync.
 */
public final class ChangeTracker implements ClusterEventHandler {
    /** Set by the EndpointSlice controller: when the change that produced this version of the slice happened. */
    public static final String LAST_CHANGE_TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time";

    private final String nodeName;
    private final String source;
    private final Clock clock;
    private final Instant startTime;
    private final Runnable changeListener;
    private final Consumer<Problem> problemListener;

    /** The latest valid version of every Service, converted, by "namespace/name". */
    private final Map<String, Map<IpFamily, List<ServicePort>>> services = new HashMap<>();
    /** The latest valid version of every EndpointSlice, by "namespace/slice name". */
    private final Map<String, EndpointSliceConverter.Converted> slices = new HashMap<>();
    /** Slice keys by service key, in slice-name order so merging is deterministic. */
    private final Map<String, TreeMap<String, EndpointSliceConverter.Converted>> slicesByService = new HashMap<>();
    /** The current problem of each object whose last update was invalid, by object description. */
    private final Map<String, Problem> problems = new TreeMap<>();
    private final Map<IpFamily, FamilyView> families = new EnumMap<>(IpFamily.class);
    /** This node's zone label, from its Node object; empty until known. */
    private String zone = "";
    /** The CIDRs of every valid ServiceCIDR, by name; null until the source delivers the first one. */
    private Map<String, List<String>> serviceCidrs;
    private boolean servicesSynced;
    private boolean endpointSlicesSynced;

    /**
     * @param nodeName        this node, to prefer the local copy of an endpoint listed by two slices
     * @param source          where events come from, for problem reports ("api-server", a directory...)
     * @param changeListener  told after every event that may need a sync (typically the sync runner's run())
     * @param problemListener told about every invalid object as it arrives
     */
    public ChangeTracker(String nodeName, String source, Clock clock, Runnable changeListener,
                         Consumer<Problem> problemListener) {
        this.nodeName = nodeName == null ? "" : nodeName;
        this.source = Objects.requireNonNull(source, "source");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.startTime = clock.instant();
        this.changeListener = Objects.requireNonNull(changeListener, "changeListener");
        this.problemListener = Objects.requireNonNull(problemListener, "problemListener");
        for (IpFamily family : IpFamily.values()) {
            families.put(family, new FamilyView(family));
        }
    }

    public ChangeTracker(String nodeName, Runnable changeListener) {
        this(nodeName, "api-server", Clock.systemUTC(), changeListener, problem -> { });
    }

    @Override
    public void onServiceChange(V1Service oldService, V1Service service) {
        V1Service object = service != null ? service : oldService;
        if (object == null) {
            return;
        }
        Problem problem;
        synchronized (this) {
            problem = recordService(object, service != null);
        }
        notifyListeners(problem);
    }

    @Override
    public void onEndpointSliceChange(V1EndpointSlice oldSlice, V1EndpointSlice slice) {
        V1EndpointSlice object = slice != null ? slice : oldSlice;
        if (object == null) {
            return;
        }
        Problem problem;
        synchronized (this) {
            problem = recordSlice(object, slice != null);
        }
        notifyListeners(problem);
    }

    /**
     * This node's Node changed: a new zone label re-selects every service's endpoints by topology hints, without
     * a restart, with the next sync full (kube-proxy's OnTopologyChange). Other nodes' objects are ignored.
     */
    @Override
    public void onNodeChange(V1Node oldNode, V1Node node) {
        V1Node object = node != null ? node : oldNode;
        if (object == null || object.getMetadata() == null || !nodeName.equals(object.getMetadata().getName())) {
            return;
        }
        String newZone = node == null ? "" : NodeInfo.of(node).zone();
        synchronized (this) {
            if (newZone.equals(zone)) {
                return;
            }
            zone = newZone;
        }
        changeListener.run();
    }

    /**
     * A ServiceCIDR changed: nftables mode drops traffic to unallocated addresses of the service CIDRs, so the next
     * sync is full (kube-proxy's OnServiceCIDRsChanged, read by its setup of the table on full syncs).
     */
    @Override
    public void onServiceCidrChange(V1ServiceCIDR oldCidr, V1ServiceCIDR cidr) {
        V1ServiceCIDR object = cidr != null ? cidr : oldCidr;
        if (object == null) {
            return;
        }
        String name = object.getMetadata() == null ? null : object.getMetadata().getName();
        if (name == null || name.isEmpty()) {
            notifyListeners(new Problem(source, "ServiceCIDR (no name)", "metadata.name",
                    "missing; the event is ignored"));
            return;
        }
        String description = "ServiceCIDR " + name;
        Problem problem = null;
        synchronized (this) {
            if (serviceCidrs == null) {
                serviceCidrs = new TreeMap<>();
            }
            if (cidr == null) {
                problems.remove(description);
                serviceCidrs.remove(name);
            } else {
                try {
                    serviceCidrs.put(name, ServiceCidrs.of(cidr));
                    problems.remove(description);
                } catch (InvalidFieldException e) {
                    problem = problem(description, e.field(), e.getMessage()
                            + keptOrIgnored(serviceCidrs.containsKey(name)));
                }
            }
        }
        notifyListeners(problem);
    }

    /** This node's zone label as last delivered; empty when unknown or unset. */
    public synchronized String zone() {
        return zone;
    }

    @Override
    public void onServicesSynced() {
        synchronized (this) {
            servicesSynced = true;
        }
        changeListener.run();
    }

    @Override
    public void onEndpointSlicesSynced() {
        synchronized (this) {
            endpointSlicesSynced = true;
        }
        changeListener.run();
    }

    /** Both kinds have delivered their initial list: rules may be programmed without fear of a partial view. */
    public synchronized boolean isSynced() {
        return servicesSynced && endpointSlicesSynced;
    }

    /** Objects whose latest version is invalid (their last valid version, if any, is still in effect). */
    public synchronized List<Problem> problems() {
        return List.copyOf(problems.values());
    }

    /**
     * The state of {@code family} and what changed since the previous drain of that family. Unchanged service
     * ports and endpoints are the same objects as in the previous state.
     */
    public synchronized StateUpdate drain(IpFamily family) {
        return families.get(family).drain();
    }

    private Problem recordService(V1Service service, boolean present) {
        String key = key(service.getMetadata());
        if (key == null) {
            return new Problem(source, "Service (no name)", "metadata.name", "missing; the event is ignored");
        }
        String object = "Service " + key;
        if (!present || ServiceConverter.ignoredBecause(service) != null) {
            problems.remove(object);
            if (services.remove(key) != null) {
                markPending(key, clock.instant());
            }
            return null;
        }
        Map<IpFamily, List<ServicePort>> converted;
        try {
            converted = ServiceConverter.convert(service);
        } catch (InvalidFieldException e) {
            return problem(object, e.field(), e.getMessage() + keptOrIgnored(services.containsKey(key)));
        } catch (RuntimeException e) {
            // A converter bug must cost this object's update, never the tracker or the other objects.
            return unexpectedProblem(object, e, keptOrIgnored(services.containsKey(key)));
        }
        problems.remove(object);
        services.put(key, converted);
        markPending(key, clock.instant());
        return null;
    }

    private Problem recordSlice(V1EndpointSlice slice, boolean present) {
        String sliceKey = key(slice.getMetadata());
        if (sliceKey == null) {
            return new Problem(source, "EndpointSlice (no name)", "metadata.name", "missing; the event is ignored");
        }
        String object = "EndpointSlice " + sliceKey;
        if (!present || EndpointSliceConverter.ignoredBecause(slice) != null) {
            problems.remove(object);
            EndpointSliceConverter.Converted removed = slices.remove(sliceKey);
            if (removed != null) {
                forgetSlice(removed.serviceKey(), sliceKey);
                markPending(removed.serviceKey(), clock.instant());
            }
            return null;
        }
        EndpointSliceConverter.Converted converted;
        try {
            converted = EndpointSliceConverter.convert(slice);
        } catch (InvalidFieldException e) {
            return problem(object, e.field(), e.getMessage() + keptOrIgnored(slices.containsKey(sliceKey)));
        } catch (RuntimeException e) {
            return unexpectedProblem(object, e, keptOrIgnored(slices.containsKey(sliceKey)));
        }
        problems.remove(object);
        EndpointSliceConverter.Converted previous = slices.put(sliceKey, converted);
        Instant now = clock.instant();
        if (previous != null && !previous.serviceKey().equals(converted.serviceKey())) {
            // Relabelled to another service: the old one loses these endpoints.
            forgetSlice(previous.serviceKey(), sliceKey);
            markPending(previous.serviceKey(), now);
        }
        slicesByService.computeIfAbsent(converted.serviceKey(), k -> new TreeMap<>()).put(sliceKey, converted);
        markPending(converted.serviceKey(), triggerTime(slice, now));
        return null;
    }

    private void forgetSlice(String serviceKey, String sliceKey) {
        TreeMap<String, EndpointSliceConverter.Converted> byName = slicesByService.get(serviceKey);
        if (byName != null) {
            byName.remove(sliceKey);
            if (byName.isEmpty()) {
                slicesByService.remove(serviceKey);
            }
        }
    }

    /**
     * When the change behind this slice version happened, as the EndpointSlice controller recorded it; the
     * arrival time when it did not, or when it predates this tracker (the initial list is not a change).
     */
    private Instant triggerTime(V1EndpointSlice slice, Instant now) {
        Map<String, String> annotations = slice.getMetadata().getAnnotations();
        String value = annotations == null ? null : annotations.get(LAST_CHANGE_TRIGGER_TIME);
        if (value == null) {
            return now;
        }
        try {
            Instant trigger = Instant.parse(value);
            return trigger.isAfter(startTime) && !trigger.isAfter(now) ? trigger : now;
        } catch (DateTimeParseException e) {
            return now;
        }
    }

    private void markPending(String serviceKey, Instant when) {
        for (FamilyView view : families.values()) {
            view.pendingSince.merge(serviceKey, when, (a, b) -> a.isBefore(b) ? a : b);
        }
    }

    private Problem problem(String object, String field, String message) {
        Problem problem = new Problem(source, object, field, message);
        problems.put(object, problem);
        return problem;
    }

    /** Records a converter's unforeseen failure; {@code object} is the key, as for any other problem. */
    private Problem unexpectedProblem(String object, RuntimeException e, String suffix) {
        Problem problem = Problem.unexpected(source, object, e).withMessageSuffix(suffix);
        problems.put(object, problem);
        return problem;
    }

    private static String keptOrIgnored(boolean hasValidVersion) {
        return hasValidVersion ? "; its last valid version stays in effect" : "; it is ignored";
    }

    private void notifyListeners(Problem problem) {
        if (problem != null) {
            problemListener.accept(problem);
        } else {
            changeListener.run();
        }
    }

    /** "namespace/name", the API's default namespace when none is given; null without a name. */
    private static String key(V1ObjectMeta metadata) {
        if (metadata == null || metadata.getName() == null || metadata.getName().isEmpty()) {
            return null;
        }
        return (metadata.getNamespace() == null ? "default" : metadata.getNamespace()) + "/" + metadata.getName();
    }

    /** What one family's proxier last received, and which services have pending changes for it. */
    private final class FamilyView {
        private final IpFamily family;
        private final Map<String, List<ServicePort>> appliedServices = new HashMap<>();
        private final Map<String, Map<ServicePortName, List<Endpoint>>> appliedEndpoints = new HashMap<>();
        /** The applied ports with their endpoints, in the state's order: the next state is built from it. */
        private final TreeMap<ServicePortName, ProxyState.Entry> entries = new TreeMap<>();
        private final Map<String, Instant> pendingSince = new LinkedHashMap<>();
        private ProxyState state;
        /** The zone and service CIDRs the last drain handed out, to tell whether they changed since. */
        private String drainedZone = "";
        private List<String> drainedServiceCidrs;

        FamilyView(IpFamily family) {
            this.family = family;
            this.state = ProxyState.empty(family);
        }

        StateUpdate drain() {
            Set<String> changed = new TreeSet<>();
            Map<String, Instant> changeTimes = new HashMap<>();
            List<StaleUdpEndpoint> gone = new ArrayList<>();
            Set<ServicePortName> newlyActive = new HashSet<>();
            for (Map.Entry<String, Instant> pending : pendingSince.entrySet()) {
                String key = pending.getKey();
                List<ServicePort> oldPorts = appliedServices.getOrDefault(key, List.of());
                Map<ServicePortName, List<Endpoint>> oldEndpoints = appliedEndpoints.getOrDefault(key, Map.of());
                List<ServicePort> newPorts = reusePorts(oldPorts, currentPorts(key));
                Map<ServicePortName, List<Endpoint>> newEndpoints = reuseEndpoints(oldEndpoints, currentEndpoints(key));
                if (oldPorts.equals(newPorts) && oldEndpoints.equals(newEndpoints)) {
                    continue; // changed and changed back
                }
                changed.add(key);
                changeTimes.put(key, pending.getValue());
                findUdpChanges(oldEndpoints, newEndpoints, gone, newlyActive);
                put(appliedServices, key, newPorts, newPorts.isEmpty());
                put(appliedEndpoints, key, newEndpoints, newEndpoints.isEmpty());
                for (ServicePort port : oldPorts) {
                    entries.remove(port.name());
                }
                for (ServicePort port : newPorts) {
                    entries.put(port.name(), ProxyState.entry(port, newEndpoints.getOrDefault(port.name(), List.of())));
                }
            }
            pendingSince.clear();
            if (!changed.isEmpty()) {
                state = ProxyState.of(family, entries);
            }
            List<String> cidrs = serviceCidrs == null ? null
                    : ServiceCidrs.ofFamily(serviceCidrs.values().stream().flatMap(List::stream).toList(), family);
            boolean contextChanged = !zone.equals(drainedZone) || !java.util.Objects.equals(cidrs, drainedServiceCidrs);
            drainedZone = zone;
            drainedServiceCidrs = cidrs;
            state = state.withZone(zone).withServiceCidrs(cidrs);
            return new StateUpdate(state, changed, gone, newlyActive, changeTimes, contextChanged);
        }

        private List<ServicePort> currentPorts(String key) {
            Map<IpFamily, List<ServicePort>> byFamily = services.get(key);
            return byFamily == null ? List.of() : byFamily.getOrDefault(family, List.of());
        }

        /** The service's endpoints in this family over all its slices; an address in two slices counts once. */
        private Map<ServicePortName, List<Endpoint>> currentEndpoints(String key) {
            TreeMap<String, EndpointSliceConverter.Converted> byName = slicesByService.get(key);
            if (byName == null) {
                return Map.of();
            }
            return SliceMerge.merge(byName.values(), family, nodeName);
        }

    }

    /** New ports, with each one equal to an old one replaced by the old object. */
    private static List<ServicePort> reusePorts(List<ServicePort> old, List<ServicePort> fresh) {
        if (old.isEmpty() || fresh.isEmpty()) {
            return List.copyOf(fresh);
        }
        List<ServicePort> result = new ArrayList<>(fresh.size());
        for (ServicePort port : fresh) {
            int at = old.indexOf(port);
            result.add(at >= 0 ? old.get(at) : port);
        }
        return List.copyOf(result);
    }

    /** New endpoints, with each one equal to an old one replaced by the old object. */
    private static Map<ServicePortName, List<Endpoint>> reuseEndpoints(Map<ServicePortName, List<Endpoint>> old,
                                                                       Map<ServicePortName, List<Endpoint>> fresh) {
        Map<ServicePortName, List<Endpoint>> result = new HashMap<>();
        for (Map.Entry<ServicePortName, List<Endpoint>> port : fresh.entrySet()) {
            List<Endpoint> previous = old.getOrDefault(port.getKey(), List.of());
            Map<String, Endpoint> previousByAddress = new HashMap<>();
            for (Endpoint endpoint : previous) {
                previousByAddress.put(endpoint.hostPort(), endpoint);
            }
            List<Endpoint> list = new ArrayList<>(port.getValue().size());
            for (Endpoint endpoint : port.getValue()) {
                Endpoint same = previousByAddress.get(endpoint.hostPort());
                list.add(endpoint.equals(same) ? same : endpoint);
            }
            result.put(port.getKey(), List.copyOf(list));
        }
        return Map.copyOf(result);
    }

    private static void findUdpChanges(Map<ServicePortName, List<Endpoint>> old,
                                       Map<ServicePortName, List<Endpoint>> fresh,
                                       List<StaleUdpEndpoint> gone, Set<ServicePortName> newlyActive) {
        for (Map.Entry<ServicePortName, List<Endpoint>> port : old.entrySet()) {
            if (port.getKey().protocol() != Protocol.UDP) {
                continue;
            }
            Set<String> stillServing = servingAddresses(fresh.getOrDefault(port.getKey(), List.of()));
            for (Endpoint endpoint : port.getValue()) {
                // One that never served had no traffic, so no conntrack entries to clear.
                if (endpoint.serving() && !stillServing.contains(endpoint.hostPort())) {
                    gone.add(new StaleUdpEndpoint(port.getKey(), endpoint));
                }
            }
        }
        for (Map.Entry<ServicePortName, List<Endpoint>> port : fresh.entrySet()) {
            if (port.getKey().protocol() == Protocol.UDP && !servingAddresses(port.getValue()).isEmpty()
                    && servingAddresses(old.getOrDefault(port.getKey(), List.of())).isEmpty()) {
                newlyActive.add(port.getKey());
            }
        }
    }

    private static Set<String> servingAddresses(List<Endpoint> endpoints) {
        Set<String> result = new HashSet<>();
        for (Endpoint endpoint : endpoints) {
            if (endpoint.serving()) {
                result.add(endpoint.hostPort());
            }
        }
        return result;
    }

    private static <V> void put(Map<String, V> map, String key, V value, boolean remove) {
        if (remove) {
            map.remove(key);
        } else {
            map.put(key, value);
        }
    }
}
