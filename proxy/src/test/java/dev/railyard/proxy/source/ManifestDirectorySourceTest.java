package dev.railyard.proxy.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.railyard.proxy.sync.ChangeTracker;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1Service;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManifestDirectorySourceTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    /** Long enough that only watch events can explain a scan within a test. */
    private static final Duration NO_PERIODIC_SCAN = Duration.ofHours(1);

    @TempDir
    Path dir;
    private final Recorder handler = new Recorder();
    private ManifestDirectorySource source;

    @AfterEach
    void close() {
        if (source != null) {
            source.close();
        }
    }

    @Test
    void deliversTheInitialFilesThenSignalsSyncedOnce() throws Exception {
        write("web.yaml", service("web", "10.96.0.10", "80") + "---\n" + slice("web-1", "web", "10.244.1.5"));
        write("db.json", "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"db\",\"namespace\":\"data\"},"
                + "\"spec\":{\"type\":\"ClusterIP\",\"clusterIP\":\"10.96.0.11\",\"clusterIPs\":[\"10.96.0.11\"],"
                + "\"ports\":[{\"protocol\":\"TCP\",\"port\":5432}]}}");
        write("README.txt", "not a manifest");
        write(".web.yaml.swp", "garbage: [");
        write("deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n");

        start(NO_PERIODIC_SCAN);
        await(source::hasSynced, "synced");

        assertThat(handler.events()).containsExactlyInAnyOrder("ADD Service data/db", "ADD Service default/web",
                "ADD EndpointSlice default/web-1", "SYNCED services", "SYNCED slices");
        assertThat(handler.events().subList(3, 5)).as("synced after the objects")
                .containsExactly("SYNCED services", "SYNCED slices");
        assertThat(source.problems()).isEmpty();

        write("cache.yaml", service("cache", "10.96.0.12", "6379"));
        await(() -> handler.events().contains("ADD Service default/cache"), "a new file's objects");
        assertThat(handler.events()).filteredOn(e -> e.startsWith("SYNCED")).hasSize(2);
    }

    /** The tracker's own checks know only the directory; the source narrows that to the field's file and line. */
    @Test
    void aProblemTheHandlerFindsIsLocatedAtItsFileAndLine() throws Exception {
        write("web.yaml", service("web", "10.96.0.10", "80") + "---\n" + service("bad", "10.96.0.11", "99999"));
        AtomicReference<ManifestDirectorySource> self = new AtomicReference<>();
        List<Problem> reported = new CopyOnWriteArrayList<>();
        ChangeTracker tracker = new ChangeTracker("node", dir.toString(), Clock.systemUTC(), () -> { },
                problem -> reported.add(self.get().located(problem)));
        source = new ManifestDirectorySource(dir, tracker, NO_PERIODIC_SCAN, Duration.ofMillis(50));
        self.set(source);
        source.start();
        await(source::hasSynced, "synced");

        assertThat(reported).extracting(Problem::toString).singleElement().asString()
                .startsWith(dir.resolve("web.yaml") + ":23: Service default/bad: spec.ports[0].port: 99999 is out");
        Problem elsewhere = new Problem(dir.toString(), "Service default/bad", "spec.ports[0].port", "off the scan");
        assertThat(source.located(elsewhere)).as("not on the scanner thread").isSameAs(elsewhere);
    }

    @Test
    void changedAndDeletedFilesBecomeUpdatesAndDeletionsFromWatchEvents() throws Exception {
        write("web.yaml", service("web", "10.96.0.10", "80") + "---\n" + slice("web-1", "web", "10.244.1.5"));
        write("db.yaml", service("db", "10.96.0.11", "5432"));
        start(NO_PERIODIC_SCAN);
        await(source::hasSynced, "synced");
        handler.clear();

        write("web.yaml", service("web", "10.96.0.10", "8080") + "---\n" + slice("web-1", "web", "10.244.1.5"));
        await(() -> !handler.events().isEmpty(), "the change delivered");
        assertThat(handler.events()).containsExactly("UPDATE Service default/web");
        assertThat(handler.lastService.getSpec().getPorts().get(0).getPort()).isEqualTo(8080);
        assertThat(handler.previousService.getSpec().getPorts().get(0).getPort()).isEqualTo(80);

        handler.clear();
        Files.delete(dir.resolve("db.yaml"));
        await(() -> !handler.events().isEmpty(), "the deletion delivered");
        assertThat(handler.events()).containsExactly("DELETE Service default/db");

        handler.clear();
        // An object moving from one file to another is neither deleted nor changed.
        write("web-slice.yaml", slice("web-1", "web", "10.244.1.5"));
        write("web.yaml", service("web", "10.96.0.10", "8080"));
        Thread.sleep(500);
        assertThat(handler.events()).isEmpty();
    }

    @Test
    void aBrokenFileKeepsItsObjectsUntilFixed() throws Exception {
        write("web.yaml", service("web", "10.96.0.10", "80") + "---\n" + slice("web-1", "web", "10.244.1.5"));
        start(NO_PERIODIC_SCAN);
        await(source::hasSynced, "synced");
        handler.clear();

        write("web.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web\n");
        await(() -> !source.problems().isEmpty(), "the broken file reported");
        assertThat(source.problems()).singleElement().satisfies(p -> {
            assertThat(p.location()).endsWith("web.yaml:4");
            assertThat(p.message()).contains("not valid YAML or JSON", "previous objects stay in effect");
        });
        assertThat(handler.events()).as("nothing deleted").isEmpty();

        // One object of a file that binds badly keeps its previous version; the file's others still change.
        write("web.yaml", service("web", "10.96.0.10", "eighty") + "---\n" + slice("web-1", "web", "10.244.1.6"));
        await(() -> handler.events().contains("UPDATE EndpointSlice default/web-1"), "the valid object updated");
        assertThat(handler.events()).containsExactly("UPDATE EndpointSlice default/web-1");
        assertThat(source.problems()).singleElement().satisfies(p -> {
            assertThat(p.field()).isEqualTo("spec.ports[0].port");
            assertThat(p.message()).contains("previous version stays in effect");
        });

        handler.clear();
        write("web.yaml", service("web", "10.96.0.10", "81") + "---\n" + slice("web-1", "web", "10.244.1.6"));
        await(() -> source.problems().isEmpty(), "the problem resolved");
        await(() -> handler.events().contains("UPDATE Service default/web"), "the fixed service delivered");
    }

    /** YAML that is no object costs that document, not the file: the daemon's path as well as render's. */
    @Test
    void aDocumentThatCannotBeAnObjectIsReportedAndTheRestOfTheFileDelivered() throws Exception {
        write("web.yaml", service("web", "10.96.0.10", "80") + "---\n" + slice("web-1", "web", "10.244.1.5"));
        start(NO_PERIODIC_SCAN);
        await(source::hasSynced, "synced");
        handler.clear();

        write("web.yaml", service("web", "10.96.0.10", "&loop [*loop]") + "---\n- just\n- a list\n---\n"
                + slice("web-1", "web", "10.244.1.6"));
        await(() -> handler.events().contains("UPDATE EndpointSlice default/web-1"), "the valid object updated");

        assertThat(handler.events()).containsExactly("UPDATE EndpointSlice default/web-1");
        assertThat(source.problems()).extracting(Problem::field, Problem::message).containsExactlyInAnyOrder(
                tuple("spec.ports[0].port[0]",
                        "refers to itself (a recursive YAML alias); its previous version stays in effect"),
                tuple("", "not a Kubernetes object: expected a mapping, found a list; ignored"));
    }

    @Test
    void thePeriodicScanCatchesChangesWithoutWatchEventsAndDuplicatesAreReported() throws Exception {
        write("a.yaml", service("web", "10.96.0.10", "80"));
        write("b.yaml", service("web", "10.96.0.99", "80"));
        start(Duration.ofMillis(300));
        await(source::hasSynced, "synced");
        assertThat(handler.events()).containsExactly("ADD Service default/web", "SYNCED services", "SYNCED slices");
        assertThat(handler.lastService.getSpec().getClusterIP()).as("the first file wins").isEqualTo("10.96.0.10");
        assertThat(source.problems()).singleElement()
                .satisfies(p -> assertThat(p.message()).contains("also defined in a.yaml"));

        int scans = source.scans();
        await(() -> source.scans() >= scans + 2, "periodic scans");
        assertThat(handler.events()).as("unchanged files deliver nothing").hasSize(3);
    }

    @Test
    void onlyChangedFilesAreParsedAgainAndUnchangedObjectsAreHeldOnce() throws Exception {
        write("web.yaml", service("web", "10.96.0.10", "80") + "---\n" + slice("web-1", "web", "10.244.1.5"));
        write("db.yaml", service("db", "10.96.0.11", "5432"));
        start(Duration.ofMillis(300));
        await(source::hasSynced, "synced");
        int scans = source.scans();
        await(() -> source.scans() >= scans + 2, "periodic scans");
        assertThat(source.filesParsed()).as("unchanged files are not parsed again").isEqualTo(2);
        handler.clear();

        write("web.yaml", service("web", "10.96.0.10", "80") + "---\n" + slice("web-1", "web", "10.244.1.6"));
        await(() -> handler.events().contains("UPDATE EndpointSlice default/web-1"), "the change delivered");
        assertThat(handler.events()).containsExactly("UPDATE EndpointSlice default/web-1");
        assertThat(source.filesParsed()).isEqualTo(3);
        // web's Service was parsed again but is unchanged: one instance, not one per read.
        assertThat(source.distinctObjectsHeld()).isEqualTo(3);
    }

    @Test
    void aMissingDirectoryFailsAtStart() {
        source = new ManifestDirectorySource(dir.resolve("nope"), handler);
        assertThatThrownBy(source::start).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("nope").hasMessageContaining("not a directory");
    }

    private void start(Duration rescan) {
        source = new ManifestDirectorySource(dir, handler, rescan, Duration.ofMillis(50));
        source.start();
    }

    /** Written atomically, as kubectl cp or a ConfigMap update would, so a scan never sees half a file. */
    private void write(String name, String text) throws IOException {
        Path temp = Files.createTempFile(dir, ".tmp", ".part");
        Files.writeString(temp, text, StandardCharsets.UTF_8);
        Files.move(temp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static String service(String name, String clusterIp, String port) {
        return "apiVersion: v1\nkind: Service\nmetadata:\n  name: " + name + "\nspec:\n  type: ClusterIP\n"
                + "  clusterIP: " + clusterIp + "\n  clusterIPs: [" + clusterIp + "]\n"
                + "  ports:\n  - protocol: TCP\n    port: " + port + "\n";
    }

    private static String slice(String name, String service, String address) {
        return "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: " + name + "\n"
                + "  labels:\n    kubernetes.io/service-name: " + service + "\naddressType: IPv4\n"
                + "ports:\n- protocol: TCP\n  port: 8080\nendpoints:\n- addresses: [" + address + "]\n"
                + "  conditions: {ready: true}\n";
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("timed out after " + WAIT + " waiting for: " + what);
    }

    private static final class Recorder implements ClusterEventHandler {
        private final List<String> events = new ArrayList<>();
        volatile V1Service lastService;
        volatile V1Service previousService;

        synchronized List<String> events() {
            return List.copyOf(events);
        }

        synchronized void clear() {
            events.clear();
        }

        @Override
        public synchronized void onServiceChange(V1Service oldService, V1Service service) {
            V1Service object = service != null ? service : oldService;
            events.add(kind(oldService, service) + " Service " + object.getMetadata().getNamespace() + "/"
                    + object.getMetadata().getName());
            previousService = oldService;
            lastService = service;
        }

        @Override
        public synchronized void onEndpointSliceChange(V1EndpointSlice oldSlice, V1EndpointSlice slice) {
            V1EndpointSlice object = slice != null ? slice : oldSlice;
            events.add(kind(oldSlice, slice) + " EndpointSlice " + object.getMetadata().getNamespace() + "/"
                    + object.getMetadata().getName());
        }

        @Override
        public synchronized void onServicesSynced() {
            events.add("SYNCED services");
        }

        @Override
        public synchronized void onEndpointSlicesSynced() {
            events.add("SYNCED slices");
        }

        private static String kind(Object before, Object after) {
            return before == null ? "ADD" : after == null ? "DELETE" : "UPDATE";
        }
    }
}
