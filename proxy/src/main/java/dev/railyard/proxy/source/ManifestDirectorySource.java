package dev.railyard.proxy.source;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.kubernetes.client.common.KubernetesObject;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1ServiceCIDR;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Cluster state from a directory of manifests ({@code railyard proxy --manifests DIR}), for nodes without an API
 * server and for tests: every {@code *.yaml}, {@code *.yml} and {@code *.json} file directly in the directory
 * (hidden files skipped, symlinks followed, so a mounted ConfigMap works) is read with {@link ManifestReader},
 * and its v1 Services and discovery.k8s.io/v1 EndpointSlices are delivered to a {@link ClusterEventHandler}.
 *
 * <p>Each scan compares what the files hold with what was delivered before (an object is identified by kind and
 * namespace/name) and delivers only the differences, as additions, updates and deletions, so the proxy sees the
 * same event stream an informer would give it. Both kinds are marked synced after the first scan.
 *
 * <p>Scans follow file changes (a {@link WatchService}, debounced so that an editor's or {@code kubectl}'s
 * several writes make one scan) and also run periodically, because watch events can be lost (overflow, network
 * file systems). A file that cannot be read or parsed keeps the objects it last delivered: a half-written or
 * mistyped file must not take services down; it is reported in the log and in {@link #problems()}. Semantic
 * validation (ports, IPs) is the change tracker's job, as for objects from the API server.
 *
 * <p>All handler calls come from one thread, in order.
 */
public final class ManifestDirectorySource implements ClusterSource {
    private static final Logger log = LoggerFactory.getLogger(ManifestDirectorySource.class);
    public static final Duration DEFAULT_RESCAN_PERIOD = Duration.ofSeconds(30);
    public static final Duration DEFAULT_DEBOUNCE = Duration.ofMillis(200);

    private final Path directory;
    private final ClusterEventHandler handler;
    private final Duration rescanPeriod;
    private final Duration debounce;
    private final ScheduledExecutorService scanner;
    private final AtomicBoolean scanPending = new AtomicBoolean();
    private volatile boolean synced;
    private volatile boolean closed;
    private boolean started;
    private WatchService watchService;
    private Thread watchThread;

    // Only the scanner thread touches these.
    /** What each file last parsed to: by object id, in file order. */
    private final Map<Path, Map<ObjectId, KubernetesObject>> lastGoodByFile = new HashMap<>();
    /** What the handler has been given, by object id. */
    private final Map<ObjectId, KubernetesObject> delivered = new HashMap<>();
    /**
     * Files whose last read had no problem, as they were then: such a file is not parsed again until it changes.
     * Parsing is what a scan costs (a 10,000-service cluster is 21 MB of JSON), and every change to any file,
     * like every periodic scan, used to re-parse all of them.
     */
    private final Map<Path, FileStamp> cleanReads = new HashMap<>();
    /** Files parsed again during this scan to locate a handler's problem ({@link #located}). */
    private final Map<Path, List<ManifestObject>> reparsed = new HashMap<>();
    private volatile Thread scannerThread;
    private volatile int filesParsed;
    private volatile Map<String, Problem> problems = Map.of();
    private volatile int scans;

    /** What identifies a version of a file: a replaced file (a new inode) or a rewritten one differs. */
    private record FileStamp(Object fileKey, FileTime modified, long size) {
        static FileStamp of(Path file) {
            try {
                BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
                return new FileStamp(attributes.fileKey(), attributes.lastModifiedTime(), attributes.size());
            } catch (IOException e) {
                return null;
            }
        }
    }

    /** An object's identity across files and scans. */
    record ObjectId(String kind, String namespace, String name) implements Comparable<ObjectId> {
        @Override
        public int compareTo(ObjectId other) {
            return toString().compareTo(other.toString());
        }

        @Override
        public String toString() {
            return ManifestObject.clusterScoped(kind) ? kind + " " + name : kind + " " + namespace + "/" + name;
        }
    }

    public ManifestDirectorySource(Path directory, ClusterEventHandler handler) {
        this(directory, handler, DEFAULT_RESCAN_PERIOD, DEFAULT_DEBOUNCE);
    }

    /**
     * @param rescanPeriod how often to scan even without watch events
     * @param debounce     how long to wait after a watch event for more before scanning
     */
    public ManifestDirectorySource(Path directory, ClusterEventHandler handler, Duration rescanPeriod,
                                   Duration debounce) {
        this.directory = Objects.requireNonNull(directory, "directory");
        this.handler = Objects.requireNonNull(handler, "handler");
        this.rescanPeriod = Objects.requireNonNull(rescanPeriod, "rescanPeriod");
        this.debounce = Objects.requireNonNull(debounce, "debounce");
        if (rescanPeriod.isZero() || rescanPeriod.isNegative() || debounce.isNegative()) {
            throw new IllegalArgumentException("rescan period must be positive and debounce not negative");
        }
        this.scanner = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "railyard-manifest-scan");
            thread.setDaemon(true);
            scannerThread = thread;
            return thread;
        });
    }

    /**
     * The problem with its location narrowed from this directory to the file and line of the field, when a handler
     * finds it in an object this source is delivering (on the scanner thread: the handler's own checks, such as a
     * port out of range, know only the source); any other problem as it is. The file is parsed again for its
     * lines, at most once per scan.
     */
    public Problem located(Problem problem) {
        if (Thread.currentThread() != scannerThread || !problem.location().equals(directory.toString())) {
            return problem;
        }
        for (Map.Entry<Path, Map<ObjectId, KubernetesObject>> file : lastGoodByFile.entrySet()) {
            for (ObjectId id : file.getValue().keySet()) {
                if (id.toString().equals(problem.object())) {
                    for (ManifestObject object : reparsed.computeIfAbsent(file.getKey(), this::parseAgain)) {
                        if (object.describe().equals(problem.object())) {
                            return problem.withLocation(object.locate(problem.field()));
                        }
                    }
                    return problem.withLocation(file.getKey().toString());
                }
            }
        }
        return problem;
    }

    private List<ManifestObject> parseAgain(Path file) {
        try {
            return ManifestReader.read(file.toString(), Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException | ManifestSyntaxException | RuntimeException e) {
            return List.of(); // changed since this scan read it: the next scan reports it
        }
    }

    /**
     * Starts scanning: the first scan runs at once (on the scanner thread), then on changes and periodically.
     *
     * @throws IllegalArgumentException if the directory does not exist; it is better to fail at start than to
     *                                  program an empty cluster
     */
    @Override
    public synchronized void start() {
        if (closed) {
            throw new IllegalStateException("the source is closed");
        }
        if (started) {
            return;
        }
        if (!Files.isDirectory(directory)) {
            throw new IllegalArgumentException("--manifests " + directory + ": not a directory");
        }
        started = true;
        try {
            watchService = directory.getFileSystem().newWatchService();
            directory.register(watchService, StandardWatchEventKinds.ENTRY_CREATE,
                    StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_DELETE);
            watchThread = new Thread(this::watchLoop, "railyard-manifest-watch");
            watchThread.setDaemon(true);
            watchThread.start();
        } catch (IOException e) {
            // The periodic scan still follows changes, only later.
            log.warn("cannot watch {} for changes, relying on a scan every {}: {}", directory, rescanPeriod,
                    e.toString());
        }
        scanner.execute(this::scanSafely);
        scanner.scheduleWithFixedDelay(this::scanSafely, rescanPeriod.toMillis(), rescanPeriod.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    @Override
    public boolean hasSynced() {
        return synced;
    }

    /** Files that failed their last read, and invalid objects, by "file" or "file: object". */
    public List<Problem> problems() {
        return List.copyOf(problems.values());
    }

    /** Files parsed so far, for tests. */
    int filesParsed() {
        return filesParsed;
    }

    /** How many distinct objects the source holds (delivered and per file), for tests; runs on the scanner. */
    int distinctObjectsHeld() throws InterruptedException, ExecutionException {
        return scanner.submit(() -> {
            Set<KubernetesObject> held = Collections.newSetFromMap(new IdentityHashMap<>());
            held.addAll(delivered.values());
            lastGoodByFile.values().forEach(objects -> held.addAll(objects.values()));
            return held.size();
        }).get();
    }

    /** Completed scans, for tests and logs. */
    public int scans() {
        return scans;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        if (watchService != null) {
            try {
                watchService.close();
            } catch (IOException e) {
                log.debug("closing the watch service", e);
            }
        }
        scanner.shutdownNow();
        try {
            if (!scanner.awaitTermination(10, TimeUnit.SECONDS)) {
                log.warn("manifest scan did not stop within 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (watchThread != null) {
            watchThread.interrupt();
        }
    }

    private void watchLoop() {
        while (!closed) {
            WatchKey key;
            try {
                key = watchService.take();
            } catch (InterruptedException | ClosedWatchServiceException e) {
                return;
            }
            key.pollEvents(); // Which file changed does not matter: a scan compares them all.
            if (scanPending.compareAndSet(false, true)) {
                try {
                    scanner.schedule(this::scanSafely, debounce.toMillis(), TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    return; // closed meanwhile
                }
            }
            if (!key.reset()) {
                log.warn("{} can no longer be watched (deleted?); relying on the periodic scan", directory);
                return;
            }
        }
    }

    private void scanSafely() {
        scanPending.set(false);
        if (closed) {
            return;
        }
        try {
            scan();
        } catch (RuntimeException e) {
            // Never let one bad scan end the periodic schedule.
            log.error("scanning {} failed", directory, e);
        }
    }

    private void scan() {
        Map<String, Problem> found = new TreeMap<>();
        List<Path> files;
        try {
            files = manifestFiles();
        } catch (IOException e) {
            // The directory itself is unreadable: keep everything as it is.
            log.warn("cannot list {}: {}; keeping the objects already delivered", directory, e.toString());
            return;
        }
        lastGoodByFile.keySet().retainAll(files);
        cleanReads.keySet().retainAll(files);
        for (Path file : files) {
            readFile(file, found);
        }
        Map<ObjectId, KubernetesObject> wanted = new TreeMap<>();
        Map<ObjectId, Path> definedIn = new HashMap<>();
        for (Path file : files) {
            for (Map.Entry<ObjectId, KubernetesObject> entry
                    : lastGoodByFile.getOrDefault(file, Map.of()).entrySet()) {
                Path first = definedIn.putIfAbsent(entry.getKey(), file);
                if (first != null) {
                    found.put(file + ": " + entry.getKey(), new Problem(file.toString(), entry.getKey().toString(),
                            "metadata.name", "also defined in " + first.getFileName() + "; that one is used"));
                    continue;
                }
                wanted.put(entry.getKey(), entry.getValue());
            }
        }
        deliver(wanted);
        reparsed.clear();
        reportNewProblems(found);
        problems = Map.copyOf(found);
        scans++;
        if (!synced) {
            synced = true;
            handler.onServicesSynced();
            handler.onEndpointSlicesSynced();
            log.info("read {} manifest file{} from {}: {} services, {} endpoint slices", files.size(),
                    files.size() == 1 ? "" : "s", directory, count(wanted, "Service"), count(wanted, "EndpointSlice"));
        }
    }

    private List<Path> manifestFiles() throws IOException {
        TreeSet<Path> files = new TreeSet<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                String lower = name.toLowerCase(Locale.ROOT);
                if (name.startsWith(".") || !(lower.endsWith(".yaml") || lower.endsWith(".yml")
                        || lower.endsWith(".json")) || !Files.isRegularFile(entry)) {
                    continue;
                }
                files.add(entry);
            }
        }
        return new ArrayList<>(files);
    }

    /** Parses one file into {@link #lastGoodByFile}; a file that fails keeps what it held before. */
    private void readFile(Path file, Map<String, Problem> found) {
        // Taken before reading: a write during the read changes the stamp, so the next scan reads it again.
        FileStamp stamp = FileStamp.of(file);
        if (stamp != null && stamp.equals(cleanReads.get(file)) && lastGoodByFile.containsKey(file)) {
            return;
        }
        cleanReads.remove(file);
        int problemsBefore = found.size();
        filesParsed++;
        List<ManifestObject> objects;
        try {
            objects = ManifestReader.read(file.toString(), Files.readString(file, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            lastGoodByFile.remove(file); // deleted between listing and reading: the next scan agrees
            return;
        } catch (IOException | ManifestSyntaxException | RuntimeException e) {
            String location = file.toString();
            String message = "cannot read: " + e;
            if (e instanceof ManifestSyntaxException syntax) {
                location = syntax.line() > 0 ? file + ":" + syntax.line() : location;
                message = syntax.getMessage().replace(location + ": ", "");
            }
            message += lastGoodByFile.containsKey(file) ? "; its previous objects stay in effect" : "; skipped";
            found.put(file.toString(), new Problem(location, "the file", "", message));
            return;
        }
        Map<ObjectId, KubernetesObject> previous = lastGoodByFile.getOrDefault(file, Map.of());
        Map<ObjectId, KubernetesObject> current = new LinkedHashMap<>();
        for (ManifestObject object : objects) {
            String kind = object.kind();
            if (kind == null) {
                try {
                    object.checkReadable();
                } catch (InvalidFieldException e) { // not even a kind to tell what it is: a list, a number...
                    found.put(object.locate(e.field()), new Problem(object.locate(e.field()), object.describe(),
                            e.field(), e.getMessage() + "; ignored"));
                }
            }
            Class<? extends KubernetesObject> type;
            if ("Service".equals(kind) && "v1".equals(object.apiVersion())) {
                type = V1Service.class;
                kind = "Service"; // the constant, not one more copy per object
            } else if ("EndpointSlice".equals(kind) && "discovery.k8s.io/v1".equals(object.apiVersion())) {
                type = V1EndpointSlice.class;
                kind = "EndpointSlice";
            } else if ("Node".equals(kind) && "v1".equals(object.apiVersion())) {
                type = V1Node.class; // the handler reads only this node's: its zone, pod CIDRs and taints
                kind = "Node";
            } else if ("ServiceCIDR".equals(kind) && "networking.k8s.io/v1".equals(object.apiVersion())) {
                type = V1ServiceCIDR.class;
                kind = "ServiceCIDR";
            } else {
                continue; // Other kinds (Deployments, legacy Endpoints...) are not the proxy's business.
            }
            ObjectId id = idOf(kind, object.json());
            if (id == null) {
                found.put(object.locate("metadata.name"), new Problem(object.locate("metadata.name"),
                        object.describe(), "metadata.name", "missing; the object is ignored"));
                continue;
            }
            try {
                object.checkReadable();
                KubernetesObject bound = RetainedObjects.trim(KubeObjects.bind(object.json(), type));
                // The id's strings, so that the key and the object share one copy of each.
                if (!ManifestObject.clusterScoped(kind)) {
                    bound.getMetadata().setNamespace(id.namespace());
                }
                bound.getMetadata().setName(id.name());
                // An unchanged object keeps its previous instance, which is also the delivered one: holding
                // both copies doubled the source's memory after the first re-read.
                KubernetesObject before = previous.get(id);
                current.put(id, bound.equals(before) ? before : bound);
            } catch (InvalidFieldException e) {
                KubernetesObject kept = previous.get(id);
                found.put(file + ": " + id, new Problem(object.locate(e.field()), object.describe(), e.field(),
                        e.getMessage() + (kept != null ? "; its previous version stays in effect" : "; ignored")));
                if (kept != null) {
                    current.put(id, kept);
                }
            } catch (RuntimeException e) {
                KubernetesObject kept = previous.get(id);
                found.put(file + ": " + id, Problem.unexpected(object.locate(""), object.describe(), e));
                if (kept != null) {
                    current.put(id, kept);
                }
            }
        }
        lastGoodByFile.put(file, current);
        if (stamp != null && found.size() == problemsBefore) {
            cleanReads.put(file, stamp);
        }
    }

    private static ObjectId idOf(String kind, JsonObject json) {
        JsonElement metadata = json.get("metadata");
        if (metadata == null || !metadata.isJsonObject()) {
            return null;
        }
        String name = string(metadata.getAsJsonObject().get("name"));
        if (name == null || name.isEmpty()) {
            return null;
        }
        String namespace = string(metadata.getAsJsonObject().get("namespace"));
        return new ObjectId(kind, namespace == null || namespace.isEmpty() ? "default" : namespace, name);
    }

    private static String string(JsonElement element) {
        return element != null && element.isJsonPrimitive() ? element.getAsString() : null;
    }

    /** Hands the handler the differences between {@code wanted} and what it was given before. */
    private void deliver(Map<ObjectId, KubernetesObject> wanted) {
        // Deletions first, so a service renamed across files never briefly exists twice.
        for (ObjectId id : new TreeSet<>(delivered.keySet())) {
            if (!wanted.containsKey(id)) {
                send(id, delivered.remove(id), null);
            }
        }
        for (Map.Entry<ObjectId, KubernetesObject> entry : wanted.entrySet()) {
            KubernetesObject before = delivered.get(entry.getKey());
            if (!entry.getValue().equals(before)) {
                delivered.put(entry.getKey(), entry.getValue());
                send(entry.getKey(), before, entry.getValue());
            }
        }
    }

    private void send(ObjectId id, KubernetesObject before, KubernetesObject after) {
        switch (id.kind()) {
            case "Service" -> handler.onServiceChange((V1Service) before, (V1Service) after);
            case "Node" -> handler.onNodeChange((V1Node) before, (V1Node) after);
            case "ServiceCIDR" -> handler.onServiceCidrChange((V1ServiceCIDR) before, (V1ServiceCIDR) after);
            default -> handler.onEndpointSliceChange((V1EndpointSlice) before, (V1EndpointSlice) after);
        }
    }

    private void reportNewProblems(Map<String, Problem> found) {
        Map<String, Problem> before = problems;
        found.forEach((key, problem) -> {
            if (!problem.toString().equals(String.valueOf(before.get(key)))) {
                log.warn("manifest problem: {}", problem);
            }
        });
        before.keySet().stream().filter(key -> !found.containsKey(key))
                .forEach(key -> log.info("manifest problem resolved: {}", key));
    }

    private static long count(Map<ObjectId, KubernetesObject> objects, String kind) {
        return objects.keySet().stream().filter(id -> id.kind().equals(kind)).count();
    }
}
