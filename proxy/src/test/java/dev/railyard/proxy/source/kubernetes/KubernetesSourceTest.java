package dev.railyard.proxy.source.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.railyard.proxy.source.ClusterEventHandler;
import dev.railyard.proxy.source.ServiceConverter;
import dev.railyard.testkit.kubernetes.TestApiServer;
import dev.railyard.testkit.kubernetes.TestApiServer.ExpiryStyle;
import dev.railyard.testkit.kubernetes.TestApiServer.Resource;
import io.kubernetes.client.common.KubernetesObject;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.DiscoveryV1EndpointPort;
import io.kubernetes.client.openapi.models.V1Endpoint;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1ServicePort;
import io.kubernetes.client.openapi.models.V1ServiceSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@Timeout(30)
class KubernetesSourceTest {
    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final KubernetesSourceSettings FAST_RETRIES = KubernetesSourceSettings.defaults()
            .withBackoff(new RetryBackoff(Duration.ofMillis(100), Duration.ofMillis(800)));

    private TestApiServer apiServer;
    private RecordingHandler handler;
    private KubernetesSource source;

    @BeforeEach
    void startApiServer() throws Exception {
        apiServer = TestApiServer.start();
        handler = new RecordingHandler();
    }

    @AfterEach
    void stopEverything() {
        if (source != null) {
            source.close();
        }
        apiServer.close();
    }

    @Test
    void deliversTheInitialObjectsThenSignalsSyncedOncePerKind() {
        apiServer.create(service("web"));
        apiServer.create(service("db"));
        apiServer.create(slice("web-abc12", "web"));

        startSource();
        awaitSynced();

        assertThat(handler.serviceEvents()).containsExactlyInAnyOrder("ADD default/web", "ADD default/db", "SYNCED");
        assertThat(handler.serviceEvents()).last().isEqualTo("SYNCED");
        assertThat(handler.sliceEvents()).containsExactly("ADD default/web-abc12", "SYNCED");

        apiServer.create(service("cache"));
        apiServer.create(slice("web-def34", "web"));
        await(() -> handler.serviceEvents().contains("ADD default/cache")
                && handler.sliceEvents().contains("ADD default/web-def34"), "later additions");
        assertThat(handler.serviceEvents()).filteredOn("SYNCED"::equals).hasSize(1);
        assertThat(handler.sliceEvents()).filteredOn("SYNCED"::equals).hasSize(1);
        assertThat(handler.threadsByKind()).allSatisfy((kind, threads) -> assertThat(threads).hasSize(1));
    }

    @Test
    void signalsSyncedForAKindWithNoObjects() {
        apiServer.create(service("web"));

        startSource();
        awaitSynced();

        assertThat(handler.sliceEvents()).containsExactly("SYNCED");
    }

    @Test
    void deliversChangesInOrderWithOldAndNewObjects() {
        startSource();
        awaitSynced();

        V1Service created = apiServer.create(service("web"));
        V1Service updated = apiServer.update(withPort(created, 8080));
        apiServer.delete(updated);
        V1EndpointSlice slice = apiServer.create(slice("web-abc12", "web"));
        V1EndpointSlice sliceUpdated = apiServer.update(withAddress(slice, "10.0.0.9"));
        apiServer.delete(sliceUpdated);

        await(() -> handler.serviceEvents().size() == 4 && handler.sliceEvents().size() == 4, "all changes");
        assertThat(handler.serviceEvents())
                .containsExactly("SYNCED", "ADD default/web", "UPDATE default/web", "DELETE default/web");
        assertThat(handler.sliceEvents())
                .containsExactly("SYNCED", "ADD default/web-abc12", "UPDATE default/web-abc12", "DELETE default/web-abc12");

        List<Change<V1Service>> changes = handler.serviceChanges();
        assertThat(changes.get(0).oldObject()).isNull();
        assertThat(version(changes.get(0).newObject())).isEqualTo(version(created));
        assertThat(version(changes.get(1).oldObject())).isEqualTo(version(created));
        assertThat(version(changes.get(1).newObject())).isEqualTo(version(updated));
        assertThat(changes.get(1).newObject().getSpec().getPorts().get(0).getPort()).isEqualTo(8080);
        assertThat(version(changes.get(2).oldObject())).isEqualTo(version(updated));
        assertThat(changes.get(2).newObject()).isNull();
        List<Change<V1EndpointSlice>> sliceChanges = handler.sliceChanges();
        assertThat(sliceChanges.get(1).newObject().getEndpoints().get(0).getAddresses()).containsExactly("10.0.0.9");
        assertThat(sliceChanges.get(2).newObject()).isNull();
    }

    @Test
    void neverDeliversObjectsOfAnotherProxyOrOfHeadlessServices() {
        apiServer.create(labelled(service("other-proxy"), ServiceConverter.SERVICE_PROXY_NAME_LABEL, "cilium"));
        apiServer.create(labelled(slice("headless-abc12", "headless"), ServiceConverter.HEADLESS_LABEL, ""));
        V1Service web = apiServer.create(service("web"));

        startSource();
        awaitSynced();
        apiServer.create(labelled(service("other-proxy-2"), ServiceConverter.SERVICE_PROXY_NAME_LABEL, "cilium"));
        apiServer.create(labelled(service("headless-2"), ServiceConverter.HEADLESS_LABEL, ""));
        apiServer.create(labelled(slice("headless-def34", "headless"), ServiceConverter.HEADLESS_LABEL, ""));
        // A Service handed to another proxy leaves kube-proxy's view: the API server reports it deleted.
        apiServer.update(labelled(web, ServiceConverter.SERVICE_PROXY_NAME_LABEL, "cilium"));
        apiServer.create(service("sentinel"));
        apiServer.create(slice("sentinel-abc12", "sentinel"));

        await(() -> handler.serviceEvents().contains("ADD default/sentinel")
                && handler.sliceEvents().contains("ADD default/sentinel-abc12"), "sentinels");
        assertThat(handler.serviceEvents())
                .containsExactly("ADD default/web", "SYNCED", "DELETE default/web", "ADD default/sentinel");
        assertThat(handler.sliceEvents()).containsExactly("SYNCED", "ADD default/sentinel-abc12");
    }

    @Test
    void reconnectsAfterDroppedWatchesWithoutDuplicateAdditions() {
        V1Service web = apiServer.create(service("web"));
        apiServer.create(slice("web-abc12", "web"));
        startSource();
        awaitSynced();
        awaitOpenWatches();
        int watchesBefore = apiServer.watchRequests(Resource.SERVICES);

        apiServer.dropWatches();
        await(() -> apiServer.watchRequests(Resource.SERVICES) > watchesBefore, "a new services watch");
        apiServer.update(withPort(web, 8443));
        apiServer.create(service("db"));
        apiServer.create(slice("db-abc12", "db"));

        await(() -> handler.serviceEvents().contains("ADD default/db")
                && handler.serviceEvents().contains("UPDATE default/web")
                && handler.sliceEvents().contains("ADD default/db-abc12"), "changes after the reconnect");
        assertThat(handler.serviceEvents())
                .containsExactlyInAnyOrder("ADD default/web", "SYNCED", "UPDATE default/web", "ADD default/db");
        assertThat(handler.sliceEvents()).containsExactly("ADD default/web-abc12", "SYNCED", "ADD default/db-abc12");
    }

    @ParameterizedTest
    @EnumSource(ExpiryStyle.class)
    void relistsAfterCompactionAndDeliversWhatWasMissed(ExpiryStyle style) {
        apiServer.expiryStyle(style);
        V1Service web = apiServer.create(service("web"));
        V1Service db = apiServer.create(service("db"));
        startSource();
        awaitSynced();
        awaitOpenWatches();
        int listsBefore = apiServer.listRequests(Resource.SERVICES);

        // The source's watch falls behind while a deletion happens and history is compacted away.
        apiServer.stallWatches();
        apiServer.delete(db);
        V1Service webUpdated = apiServer.update(withPort(web, 9090));
        apiServer.create(service("cache"));
        apiServer.compact();
        apiServer.resumeWatches();

        await(() -> apiServer.listRequests(Resource.SERVICES) > listsBefore, "a relist");
        await(() -> handler.serviceEvents().size() == 6, "the missed changes");
        assertThat(handler.serviceEvents()).containsExactlyInAnyOrder("ADD default/web", "ADD default/db", "SYNCED",
                "DELETE default/db", "UPDATE default/web", "ADD default/cache");
        Change<V1Service> deletion = handler.serviceChanges().stream()
                .filter(change -> change.newObject() == null).findFirst().orElseThrow();
        assertThat(deletion.oldObject().getMetadata().getName()).isEqualTo("db");
        assertThat(handler.currentServices()).containsOnlyKeys("default/web", "default/cache");
        assertThat(version(handler.currentServices().get("default/web"))).isEqualTo(version(webUpdated));

        apiServer.create(service("after"));
        await(() -> handler.serviceEvents().contains("ADD default/after"), "a change after the relist");
    }

    @Test
    void resumesAfterTheApiServerComesBack() throws Exception {
        V1Service web = apiServer.create(service("web"));
        startSource();
        awaitSynced();
        awaitOpenWatches();

        apiServer.stop();
        apiServer.delete(web); // happens "while the API server is unreachable" to this client
        Thread.sleep(2_500); // the outage itself, long enough for several failed attempts
        apiServer.restart();
        apiServer.create(service("db"));
        apiServer.create(slice("db-abc12", "db"));

        await(() -> handler.serviceEvents().contains("ADD default/db")
                && handler.sliceEvents().contains("ADD default/db-abc12"), "changes after the restart");
        await(() -> handler.serviceEvents().contains("DELETE default/web"), "the deletion during the outage");
        assertThat(handler.currentServices()).containsOnlyKeys("default/db");
        assertThat(handler.serviceEvents()).filteredOn("SYNCED"::equals).hasSize(1);
    }

    @Test
    void bookmarksProduceNoEvents() {
        apiServer.create(service("web"));
        startSource();
        awaitSynced();
        awaitOpenWatches();
        int before = handler.serviceEvents().size();

        apiServer.create(slice("web-abc12", "web")); // moves the resourceVersion the bookmark carries
        apiServer.sendBookmarks();
        await(() -> apiServer.bookmarksSent() >= 2, "bookmarks on both watches");
        apiServer.create(service("db"));

        await(() -> handler.serviceEvents().contains("ADD default/db"), "the next change");
        assertThat(handler.serviceEvents().subList(before, handler.serviceEvents().size()))
                .containsExactly("ADD default/db");
        assertThat(handler.sliceEvents()).containsExactly("SYNCED", "ADD default/web-abc12");
    }

    @Test
    void readsObjectsWithFieldsNewerThanClientJava() throws Exception {
        apiServer.sendFieldsFromTheFuture();
        apiServer.create(service("web"));
        apiServer.create(slice("web-abc12", "web"));
        // The premise: client-java's own JSON refuses such objects, and with them the whole list.
        ApiClient strictClient = ApiClients.fromMaster(apiServer.url());
        assertThatThrownBy(() -> new CoreV1Api(strictClient).listServiceForAllNamespaces().execute())
                .hasMessageContaining("fieldFromTheFuture");

        startSource();
        awaitSynced();
        apiServer.create(service("db"));
        apiServer.create(slice("db-abc12", "db"));

        await(() -> handler.serviceEvents().contains("ADD default/db")
                && handler.sliceEvents().contains("ADD default/db-abc12"), "objects from a newer API server");
        assertThat(handler.serviceEvents()).containsExactly("ADD default/web", "SYNCED", "ADD default/db");
        V1Service web = handler.serviceChanges().get(0).newObject();
        assertThat(web.getSpec().getPorts().get(0).getPort()).isEqualTo(80);
        assertThat(web.getMetadata().getResourceVersion()).isNotBlank();
        V1EndpointSlice slice = handler.sliceChanges().get(1).newObject();
        assertThat(slice.getEndpoints().get(0).getAddresses()).containsExactly("10.0.0.1");
        assertThat(slice.getPorts().get(0).getPort()).isEqualTo(8080);
    }

    @Test
    void asksForKubeProxysSelectionWithBookmarksAndClientGoWatchTimeouts() {
        startSource();
        awaitSynced();
        awaitOpenWatches();

        for (Resource resource : List.of(Resource.SERVICES, Resource.ENDPOINT_SLICES)) {
            Map<String, String> list = apiServer.lastQuery(resource, false);
            Map<String, String> watch = apiServer.lastQuery(resource, true);
            String selector = "!service.kubernetes.io/headless,!service.kubernetes.io/service-proxy-name";
            assertThat(list).containsEntry("labelSelector", selector).containsEntry("resourceVersion", "0");
            assertThat(watch).containsEntry("labelSelector", selector).containsEntry("allowWatchBookmarks", "true")
                    .containsEntry("resourceVersion", Long.toString(apiServer.resourceVersion()));
            assertThat(Integer.parseInt(watch.get("timeoutSeconds"))).isBetween(300, 600);
        }
    }

    @Test
    void resyncRedeliversKnownObjectsUnchanged() {
        apiServer.create(service("web"));
        source = new KubernetesSource(clientFor(apiServer), handler, FAST_RETRIES.withResyncPeriod(Duration.ofMillis(300)));
        source.start();
        awaitSynced();

        await(() -> handler.serviceEvents().stream().filter("UPDATE default/web"::equals).count() >= 2, "two resyncs");
        Change<V1Service> resync = handler.serviceChanges().get(1);
        assertThat(version(resync.oldObject())).isEqualTo(version(resync.newObject()));
        assertThat(handler.sliceEvents()).containsExactly("SYNCED");
    }

    @Test
    void closeStopsDeliveryAndThreads() {
        apiServer.create(service("web"));
        startSource();
        awaitSynced();
        awaitOpenWatches();

        source.close();
        int eventsAtClose = handler.serviceEvents().size();
        await(() -> liveThreadsNamed("railyard-kube-", "informer-controller-", "controller-reflector-").isEmpty(),
                "source threads to end");
        // The server notices a client has gone only when it writes, as a real one does: bookmarks make it write.
        await(() -> {
            apiServer.sendBookmarks();
            return apiServer.openWatches(Resource.SERVICES) == 0 && apiServer.openWatches(Resource.ENDPOINT_SLICES) == 0;
        }, "watches to close");
        apiServer.create(service("db"));
        // Deliveries are made on the threads that are gone, so nothing can arrive any more.
        assertThat(handler.serviceEvents()).hasSize(eventsAtClose);
    }

    // ---- helpers ----

    private void startSource() {
        source = new KubernetesSource(clientFor(apiServer), handler, FAST_RETRIES);
        source.start();
    }

    private static ApiClient clientFor(TestApiServer server) {
        try {
            return ApiClients.fromMaster(server.url());
        } catch (ClientConfigException e) {
            throw new AssertionError(e);
        }
    }

    private void awaitSynced() {
        await(() -> source.hasSynced(), "both kinds synced");
    }

    private void awaitOpenWatches() {
        await(() -> apiServer.openWatches(Resource.SERVICES) > 0 && apiServer.openWatches(Resource.ENDPOINT_SLICES) > 0,
                "open watches");
    }

    private static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + WAIT + " waiting for " + what);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what);
            }
        }
    }

    private static Set<String> liveThreadsNamed(String... prefixes) {
        Set<String> names = new HashSet<>();
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            for (String prefix : prefixes) {
                if (thread.isAlive() && thread.getName().startsWith(prefix)) {
                    names.add(thread.getName());
                }
            }
        }
        return names;
    }

    private static String version(KubernetesObject object) {
        return object.getMetadata().getResourceVersion();
    }

    static V1Service service(String name) {
        return new V1Service()
                .metadata(new V1ObjectMeta().name(name).namespace("default"))
                .spec(new V1ServiceSpec().type("ClusterIP").clusterIP("10.96.0." + (Math.abs(name.hashCode()) % 200 + 10))
                        .addPortsItem(new V1ServicePort().name("http").port(80).protocol("TCP")));
    }

    private static V1EndpointSlice slice(String name, String serviceName) {
        return new V1EndpointSlice()
                .metadata(new V1ObjectMeta().name(name).namespace("default")
                        .putLabelsItem("kubernetes.io/service-name", serviceName))
                .addressType("IPv4")
                .addEndpointsItem(new V1Endpoint().addAddressesItem("10.0.0.1"))
                .addPortsItem(new DiscoveryV1EndpointPort().name("http").port(8080).protocol("TCP"));
    }

    private static <T extends KubernetesObject> T labelled(T object, String key, String value) {
        object.getMetadata().putLabelsItem(key, value);
        return object;
    }

    private static V1Service withPort(V1Service service, int port) {
        service.getSpec().getPorts().get(0).setPort(port);
        return service;
    }

    private static V1EndpointSlice withAddress(V1EndpointSlice slice, String address) {
        slice.getEndpoints().get(0).setAddresses(new ArrayList<>(List.of(address)));
        return slice;
    }

    record Change<T>(T oldObject, T newObject) {
    }

    /** Records every call, and which threads made them, as the proxy's sync loop would receive them. */
    private static final class RecordingHandler implements ClusterEventHandler {
        private final List<String> serviceEvents = new ArrayList<>();
        private final List<String> sliceEvents = new ArrayList<>();
        private final List<Change<V1Service>> serviceChanges = new ArrayList<>();
        private final List<Change<V1EndpointSlice>> sliceChanges = new ArrayList<>();
        private final Map<String, Set<String>> threadsByKind = new HashMap<>();

        @Override
        public synchronized void onServiceChange(V1Service oldService, V1Service service) {
            serviceEvents.add(describe(oldService, service));
            serviceChanges.add(new Change<>(oldService, service));
            noteThread("services");
        }

        @Override
        public synchronized void onEndpointSliceChange(V1EndpointSlice oldSlice, V1EndpointSlice slice) {
            sliceEvents.add(describe(oldSlice, slice));
            sliceChanges.add(new Change<>(oldSlice, slice));
            noteThread("endpointslices");
        }

        @Override
        public synchronized void onServicesSynced() {
            serviceEvents.add("SYNCED");
            noteThread("services");
        }

        @Override
        public synchronized void onEndpointSlicesSynced() {
            sliceEvents.add("SYNCED");
            noteThread("endpointslices");
        }

        synchronized List<String> serviceEvents() {
            return List.copyOf(serviceEvents);
        }

        synchronized List<String> sliceEvents() {
            return List.copyOf(sliceEvents);
        }

        synchronized List<Change<V1Service>> serviceChanges() {
            return List.copyOf(serviceChanges);
        }

        synchronized List<Change<V1EndpointSlice>> sliceChanges() {
            return List.copyOf(sliceChanges);
        }

        synchronized Map<String, Set<String>> threadsByKind() {
            return threadsByKind.entrySet().stream()
                    .collect(Collectors.toMap(Map.Entry::getKey, entry -> Set.copyOf(entry.getValue())));
        }

        /** The Services a consumer applying every change in order would hold now. */
        synchronized Map<String, V1Service> currentServices() {
            Map<String, V1Service> current = new HashMap<>();
            for (Change<V1Service> change : serviceChanges) {
                if (change.newObject() == null) {
                    current.remove(key(change.oldObject()));
                } else {
                    current.put(key(change.newObject()), change.newObject());
                }
            }
            return current;
        }

        private void noteThread(String kind) {
            threadsByKind.computeIfAbsent(kind, k -> new HashSet<>()).add(Thread.currentThread().getName());
        }

        private static String describe(KubernetesObject oldObject, KubernetesObject newObject) {
            if (oldObject == null) {
                return "ADD " + key(newObject);
            }
            if (newObject == null) {
                return "DELETE " + key(oldObject);
            }
            return "UPDATE " + key(newObject);
        }

        private static String key(KubernetesObject object) {
            return object.getMetadata().getNamespace() + "/" + object.getMetadata().getName();
        }
    }
}
