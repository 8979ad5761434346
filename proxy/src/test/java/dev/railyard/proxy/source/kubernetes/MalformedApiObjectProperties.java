package dev.railyard.proxy.source.kubernetes;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.render.IptablesRenderer;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.render.RuleShapes;
import dev.railyard.proxy.source.MalformedObjects;
import dev.railyard.proxy.source.MalformedObjects.Mutation;
import dev.railyard.proxy.source.MalformedObjects.Template;
import dev.railyard.proxy.source.Problem;
import dev.railyard.proxy.source.RetainedObjects;
import dev.railyard.proxy.sync.ChangeTracker;
import io.kubernetes.client.common.KubernetesObject;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1Service;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The daemon's path for objects from the API server, with broken objects: decoded as the watch decodes them
 * ({@link TolerantJson}), trimmed as the informer's transform does ({@link RetainedObjects}), then handed to the
 * {@link ChangeTracker}. Whatever arrives: no exception; a bad update of a valid object keeps its last valid
 * version in the state; the rules rendered from every state keep their shapes; and syncing goes on (a valid
 * object added afterwards is in the next state).
 */
class MalformedApiObjectProperties {
    private static final List<Template> WATCHED = List.of(Template.CLUSTER_IP_SERVICE, Template.NODE_PORT_SERVICE,
            Template.DUAL_STACK_LOAD_BALANCER, Template.SLICE_IPV4, Template.SLICE_IPV6);

    enum Kind {
        /** A valid object of the cluster is updated to a broken version (same namespace and name). */
        BREAK_VALID,
        /** A broken object is added, whatever its name. */
        ADD_BROKEN,
        /** A broken object is added, then deleted. */
        ADD_THEN_DELETE_BROKEN
    }

    record Event(Kind kind, Template template, int number, List<Mutation> mutations) {
    }

    @Provide
    Arbitrary<List<Event>> events() {
        return Combinators.combine(Arbitraries.of(Kind.class), Arbitraries.of(WATCHED),
                        Arbitraries.integers().between(0, 199), MalformedObjects.mutations())
                .as(Event::new).list().ofMinSize(1).ofMaxSize(8);
    }

    @Property(tries = 200)
    void brokenObjectsNeverStopTheTrackerAndABadUpdateKeepsTheLastValidVersion(@ForAll("events") List<Event> events) {
        List<Problem> reported = new ArrayList<>();
        ChangeTracker tracker = new ChangeTracker("node-a", "api-server",
                Clock.fixed(Instant.parse("2024-01-01T00:00:00Z"), ZoneOffset.UTC), () -> { }, reported::add);
        for (Template template : WATCHED) {
            deliver(tracker, null, decode(template.make("g", 0), template));
        }
        tracker.onServicesSynced();
        tracker.onEndpointSlicesSynced();
        assertThat(reported).as("the valid cluster").isEmpty();
        Map<IpFamily, IptablesRenderer> renderers = new TreeMap<>();
        for (IpFamily family : IpFamily.values()) {
            renderers.put(family, new IptablesRenderer(RenderConfig.builder(family).nodeName("node-a")
                    .clusterCidrs(List.of(family == IpFamily.V4 ? "10.244.0.0/16" : "fd00:10:244::/56")).build()));
        }
        Map<IpFamily, ProxyState> states = drainAndCheck(tracker, renderers);

        for (Event event : events) {
            reported.clear();
            JsonObject valid = event.template().make(event.kind() == Kind.BREAK_VALID ? "g" : "m", event.number());
            JsonObject broken = MalformedObjects.mutate(valid, event.mutations());
            if (event.kind() == Kind.BREAK_VALID) {
                keepIdentity(broken, valid); // an update never changes namespace and name
            }
            KubernetesObject object;
            try {
                object = decode(broken, event.template());
            } catch (JsonParseException | IllegalStateException | NullPointerException
                     | UnsupportedOperationException e) {
                Statistics.collect("not decoded");
                continue; // what TolerantWatch reports as a malformed event; the informer never delivers it
            }
            KubernetesObject before = event.kind() == Kind.BREAK_VALID ? decode(valid, event.template()) : null;
            deliver(tracker, before, object);
            if (event.kind() == Kind.ADD_THEN_DELETE_BROKEN) {
                deliver(tracker, object, null);
            }
            for (Problem problem : reported) {
                assertThat(problem.isUnexpected()).as("a converter bug: %s", problem).isFalse();
                assertThat(problem.field()).as("the field of %s", problem).isNotEmpty();
                assertThat(problem.toString()).doesNotContain("\n");
            }
            Statistics.collect(event.kind() + (reported.isEmpty() ? " accepted" : " rejected"));
            Map<IpFamily, ProxyState> after = drainAndCheck(tracker, renderers);
            if (event.kind() == Kind.BREAK_VALID && !reported.isEmpty()) {
                String service = "g-" + (event.template() == Template.SLICE_IPV6 ? "lb" : event.template()
                        == Template.NODE_PORT_SERVICE ? "np" : event.template() == Template.SLICE_IPV4
                        || event.template() == Template.CLUSTER_IP_SERVICE ? "web" : "lb") + "-" + event.number();
                for (IpFamily family : IpFamily.values()) {
                    assertThat(entriesOf(after.get(family), service))
                            .as("%s of %s after a rejected update", family, service)
                            .isEqualTo(entriesOf(states.get(family), service));
                }
            }
            states = after;
        }

        reported.clear();
        deliver(tracker, null, decode(Template.CLUSTER_IP_SERVICE.make("canary", 200), Template.CLUSTER_IP_SERVICE));
        assertThat(reported).isEmpty();
        assertThat(entriesOf(drainAndCheck(tracker, renderers).get(IpFamily.V4), "canary-web-200"))
                .as("a valid service added after the broken ones").isNotEmpty();
    }

    private static KubernetesObject decode(JsonObject json, Template template) {
        Class<? extends KubernetesObject> type = template == Template.SLICE_IPV4 || template == Template.SLICE_IPV6
                ? V1EndpointSlice.class : V1Service.class;
        return RetainedObjects.trim(TolerantJson.<KubernetesObject>parse(json, type));
    }

    private static void deliver(ChangeTracker tracker, KubernetesObject before, KubernetesObject after) {
        KubernetesObject any = after != null ? after : before;
        if (any instanceof V1Service) {
            tracker.onServiceChange((V1Service) before, (V1Service) after);
        } else {
            tracker.onEndpointSliceChange((V1EndpointSlice) before, (V1EndpointSlice) after);
        }
    }

    private static void keepIdentity(JsonObject broken, JsonObject valid) {
        JsonObject validMetadata = valid.getAsJsonObject("metadata");
        JsonElement metadata = broken.get("metadata");
        if (metadata == null || !metadata.isJsonObject()) {
            metadata = new JsonObject();
            broken.add("metadata", metadata);
        }
        metadata.getAsJsonObject().add("name", validMetadata.get("name"));
        metadata.getAsJsonObject().add("namespace", validMetadata.get("namespace"));
    }

    /** Drains both families, checking that the rules of each state keep their shapes. */
    private static Map<IpFamily, ProxyState> drainAndCheck(ChangeTracker tracker,
                                                           Map<IpFamily, IptablesRenderer> renderers) {
        Map<IpFamily, ProxyState> states = new TreeMap<>();
        for (IpFamily family : IpFamily.values()) {
            ProxyState state = tracker.drain(family).state();
            states.put(family, state);
            String rules = renderers.get(family).render(state).toString();
            assertThat(RuleShapes.violations(rules)).as("%s rule shapes", family).isEmpty();
            assertThat(rules.toLowerCase(Locale.ROOT))
                    .doesNotContain(MalformedObjects.MARKER.toLowerCase(Locale.ROOT));
        }
        return states;
    }

    private static List<List<Object>> entriesOf(ProxyState state, String service) {
        return state.entries().stream().filter(e -> e.service().name().name().equals(service))
                .map(e -> List.<Object>of(e.service(), e.endpoints())).toList();
    }
}
