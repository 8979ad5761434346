package dev.railyard.testkit.kubernetes;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.kubernetes.client.common.KubernetesObject;
import io.kubernetes.client.openapi.JSON;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1ServiceCIDR;
import io.kubernetes.client.openapi.models.V1Status;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An in-memory stand-in for kube-apiserver's Service, EndpointSlice, Node and ServiceCIDR endpoints that speaks the real
 * list/watch protocol: lists carry {@code metadata.resourceVersion}; {@code ?watch=true} streams JSON lines of
 * {@code {"type":...,"object":...}} from a resourceVersion (replaying history after it), with BOOKMARKs
 * when asked for, {@code timeoutSeconds}, label selectors applied to watches the way the API server does
 * (an object leaving the selector is DELETED, one entering it ADDED), and 410 Gone for resourceVersions older
 * than the last compaction. Objects are written with client-java's own JSON, so the wire format is real.
 *
 * <p>Not served, because client-java's informers never ask: discovery ({@code /api}, {@code /apis}), field
 * selectors, {@code limit}/{@code continue} paging (the API server may ignore {@code limit}, and does
 * for {@code resourceVersion=0}; so does this), writes over HTTP other than PATCH of one object (a merge or
 * strategic merge patch, of the object or its status, as flannel writes its Node annotations and conditions);
 * tests write through the methods here.
 */
public final class TestApiServer implements AutoCloseable {
    /** The kinds served. */
    public enum Resource {
        SERVICES("/api/v1", "services", "v1", "Service", true),
        ENDPOINT_SLICES("/apis/discovery.k8s.io/v1", "endpointslices", "discovery.k8s.io/v1", "EndpointSlice", true),
        NODES("/api/v1", "nodes", "v1", "Node", false),
        SERVICE_CIDRS("/apis/networking.k8s.io/v1", "servicecidrs", "networking.k8s.io/v1", "ServiceCIDR", false);

        final String prefix;
        final String plural;
        final String apiVersion;
        final String kind;
        final boolean namespaced;

        Resource(String prefix, String plural, String apiVersion, String kind, boolean namespaced) {
            this.prefix = prefix;
            this.plural = plural;
            this.apiVersion = apiVersion;
            this.kind = kind;
            this.namespaced = namespaced;
        }

        static Resource of(KubernetesObject object) {
            if (object instanceof V1Service) {
                return SERVICES;
            }
            if (object instanceof V1EndpointSlice) {
                return ENDPOINT_SLICES;
            }
            if (object instanceof V1Node) {
                return NODES;
            }
            if (object instanceof V1ServiceCIDR) {
                return SERVICE_CIDRS;
            }
            throw new IllegalArgumentException("not served: " + object.getClass().getSimpleName());
        }

        Class<? extends KubernetesObject> type() {
            return switch (this) {
                case SERVICES -> V1Service.class;
                case ENDPOINT_SLICES -> V1EndpointSlice.class;
                case NODES -> V1Node.class;
                case SERVICE_CIDRS -> V1ServiceCIDR.class;
            };
        }
    }

    /** How a watch that asks to start from a compacted resourceVersion is told so. */
    public enum ExpiryStyle {
        /** An HTTP 200 stream whose only event is ERROR with a 410 Status, as the API server's watch cache does. */
        ERROR_EVENT,
        /** An HTTP 410 response with a Status body. */
        HTTP_STATUS
    }

    private static final Pattern PATH = Pattern.compile("(/api/v1|/apis/discovery\\.k8s\\.io/v1|/apis/networking\\.k8s\\.io/v1)"
            + "(?:/namespaces/([^/]+))?/(services|endpointslices|nodes|servicecidrs)(?:/([^/]+)(/status)?)?/?");

    private final JSON json = new JSON();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();

    // Guarded by lock.
    private final Map<Resource, Map<String, KubernetesObject>> objects = new EnumMap<>(Resource.class);
    private final List<Event> history = new ArrayList<>();
    private final Set<WatchStream> openWatches = new HashSet<>();
    private long resourceVersion = 100;
    private long compactedThrough;
    private boolean stalled;
    private boolean serving;
    private ExpiryStyle expiryStyle = ExpiryStyle.ERROR_EVENT;
    private boolean fieldsFromTheFuture;

    private final Map<Resource, AtomicInteger> listRequests = new EnumMap<>(Resource.class);
    private final Map<Resource, AtomicInteger> watchRequests = new EnumMap<>(Resource.class);
    private final AtomicInteger bookmarksSent = new AtomicInteger();
    private final AtomicInteger patchCount = new AtomicInteger();
    private volatile String lastAuthorization;
    private final Map<String, Map<String, String>> lastQueries = new java.util.concurrent.ConcurrentHashMap<>();
    private final int port;
    private HttpServer server;
    private ExecutorService requestThreads;

    private record Event(long resourceVersion, Resource resource, String type, KubernetesObject before,
            KubernetesObject after) {
    }

    private static final class WatchStream {
        final Resource resource;
        final String namespace;
        final LabelSelector selector;
        final boolean bookmarks;
        long cursor;
        boolean dropped;
        boolean expired;
        boolean ended;
        boolean bookmarkRequested;

        WatchStream(Resource resource, String namespace, LabelSelector selector, boolean bookmarks, long cursor) {
            this.resource = resource;
            this.namespace = namespace;
            this.selector = selector;
            this.bookmarks = bookmarks;
            this.cursor = cursor;
        }

        boolean sees(KubernetesObject object) {
            return object != null && (namespace == null || namespace.equals(object.getMetadata().getNamespace()))
                    && selector.matches(object.getMetadata().getLabels());
        }
    }

    /** Thrown inside a watch handler to make the JDK server cut the connection without ending the stream. */
    private static final class AbortConnection extends RuntimeException {
        private static final long serialVersionUID = 1L;

        AbortConnection() {
            super("connection dropped on purpose", null, false, false);
        }
    }

    private TestApiServer() throws IOException {
        for (Resource resource : Resource.values()) {
            objects.put(resource, new TreeMap<>());
            listRequests.put(resource, new AtomicInteger());
            watchRequests.put(resource, new AtomicInteger());
        }
        this.port = listen(0);
    }

    public static TestApiServer start() throws IOException {
        return new TestApiServer();
    }

    public String url() {
        return "http://127.0.0.1:" + port;
    }

    // ---- objects ----

    /** Stores a new object (namespace "default" when unset) and returns it as stored. */
    @SuppressWarnings("unchecked")
    public <T extends KubernetesObject> T create(T object) {
        Resource resource = Resource.of(object);
        lock.lock();
        try {
            T stored = copy(object);
            V1ObjectMeta metadata = stored.getMetadata();
            if (metadata.getNamespace() == null && resource.namespaced) {
                metadata.setNamespace("default");
            }
            String key = keyOf(stored);
            if (objects.get(resource).containsKey(key)) {
                throw new IllegalStateException(resource.kind + " " + key + " already exists");
            }
            metadata.setUid(UUID.randomUUID().toString());
            record(resource, "ADDED", null, stored);
            objects.get(resource).put(key, stored);
            return copy(stored);
        } finally {
            lock.unlock();
        }
    }

    /** Replaces an existing object and returns it as stored, with its new resourceVersion. */
    public <T extends KubernetesObject> T update(T object) {
        Resource resource = Resource.of(object);
        lock.lock();
        try {
            T stored = copy(object);
            if (stored.getMetadata().getNamespace() == null && resource.namespaced) {
                stored.getMetadata().setNamespace("default");
            }
            String key = keyOf(stored);
            KubernetesObject before = objects.get(resource).get(key);
            if (before == null) {
                throw new IllegalStateException(resource.kind + " " + key + " does not exist");
            }
            stored.getMetadata().setUid(before.getMetadata().getUid());
            record(resource, "MODIFIED", before, stored);
            objects.get(resource).put(key, stored);
            return copy(stored);
        } finally {
            lock.unlock();
        }
    }

    public void delete(KubernetesObject object) {
        Resource resource = Resource.of(object);
        lock.lock();
        try {
            String namespace = !resource.namespaced ? null
                    : object.getMetadata().getNamespace() == null ? "default" : object.getMetadata().getNamespace();
            String key = namespace + "/" + object.getMetadata().getName();
            KubernetesObject before = objects.get(resource).remove(key);
            if (before == null) {
                throw new IllegalStateException(resource.kind + " " + key + " does not exist");
            }
            // The API server reports a deletion with the object's last state at the deletion's revision.
            KubernetesObject gone = copy(before);
            record(resource, "DELETED", before, gone);
        } finally {
            lock.unlock();
        }
    }

    public long resourceVersion() {
        lock.lock();
        try {
            return resourceVersion;
        } finally {
            lock.unlock();
        }
    }

    // ---- failure injection ----

    /**
     * Forgets all history up to now, as etcd compaction does: watches from an older resourceVersion get
     * 410 Gone, and an open watch that has not yet sent everything up to now is ended with an ERROR 410 event
     * (or, in {@link ExpiryStyle#HTTP_STATUS} style, closed cleanly so that its next start meets the 410).
     */
    public void compact() {
        lock.lock();
        try {
            for (WatchStream watch : openWatches) {
                boolean missesEvents = history.stream().anyMatch(event -> event.resourceVersion > watch.cursor
                        && event.resource == watch.resource && (watch.sees(event.before) || watch.sees(event.after)));
                if (missesEvents) {
                    watch.expired = true;
                }
            }
            compactedThrough = resourceVersion;
            history.clear();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Cuts every open watch connection without ending its chunked stream, as a network failure would. */
    public void dropWatches() {
        lock.lock();
        try {
            openWatches.forEach(watch -> watch.dropped = true);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Open and new watches stop sending events (a peer that stopped reading, a stuck proxy) until resumed. */
    public void stallWatches() {
        setStalled(true);
    }

    public void resumeWatches() {
        setStalled(false);
    }

    /** Every open watch that allows bookmarks gets a BOOKMARK at the current resourceVersion. */
    public void sendBookmarks() {
        lock.lock();
        try {
            openWatches.forEach(watch -> watch.bookmarkRequested = watch.bookmarks);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Objects go out with fields no client-java model knows, at the top, in metadata, in spec and in each
     * endpoint, as a newer API server's would.
     */
    public void sendFieldsFromTheFuture() {
        lock.lock();
        try {
            fieldsFromTheFuture = true;
        } finally {
            lock.unlock();
        }
    }

    public void expiryStyle(ExpiryStyle style) {
        lock.lock();
        try {
            expiryStyle = style;
        } finally {
            lock.unlock();
        }
    }

    /** The API server goes away: the port stops listening, open connections are cut. State is kept. */
    public void stop() {
        lock.lock();
        try {
            if (!serving) {
                return;
            }
            serving = false;
            openWatches.forEach(watch -> watch.dropped = true);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        server.stop(0);
        requestThreads.shutdownNow();
        try {
            requestThreads.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The API server comes back on the same port with the same objects and history. */
    public void restart() throws IOException {
        listen(port);
    }

    @Override
    public void close() {
        stop();
    }

    // ---- observations ----

    public int listRequests(Resource resource) {
        return listRequests.get(resource).get();
    }

    public int watchRequests(Resource resource) {
        return watchRequests.get(resource).get();
    }

    /** The query parameters of the latest list or watch request for a kind; empty before the first. */
    public Map<String, String> lastQuery(Resource resource, boolean watch) {
        return lastQueries.getOrDefault(resource + (watch ? " watch" : " list"), Map.of());
    }

    /** The Authorization header of the latest request, or null. */
    public String lastAuthorization() {
        return lastAuthorization;
    }

    public int bookmarksSent() {
        return bookmarksSent.get();
    }

    public int openWatches(Resource resource) {
        lock.lock();
        try {
            return (int) openWatches.stream().filter(watch -> watch.resource == resource && !watch.dropped).count();
        } finally {
            lock.unlock();
        }
    }

    // ---- HTTP ----

    private int listen(int requestedPort) throws IOException {
        HttpServer httpServer = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), requestedPort), 0);
        AtomicInteger threadNumber = new AtomicInteger();
        ExecutorService threads = Executors.newCachedThreadPool(runnable -> {
            Thread thread = new Thread(runnable, "test-apiserver-" + threadNumber.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        httpServer.setExecutor(threads);
        httpServer.createContext("/", this::handle);
        lock.lock();
        try {
            server = httpServer;
            requestThreads = threads;
            serving = true;
        } finally {
            lock.unlock();
        }
        httpServer.start();
        return httpServer.getAddress().getPort();
    }

    private void handle(HttpExchange exchange) throws IOException {
        // Not try-with-resources: closing would end a chunked stream cleanly, and a dropped watch must not be.
        try {
            String method = exchange.getRequestMethod();
            if (!"GET".equals(method) && !"PATCH".equals(method)) {
                respond(exchange, 405, status(405, "MethodNotAllowed", "only GET and PATCH are served"));
                return;
            }
            lastAuthorization = exchange.getRequestHeaders().getFirst("Authorization");
            String path = exchange.getRequestURI().getPath();
            if (path.equals("/version")) {
                respond(exchange, 200, "{\"major\":\"1\",\"minor\":\"34\",\"gitVersion\":\"v1.34.0-railyard-test\"}");
                return;
            }
            Matcher matcher = PATH.matcher(path);
            Resource resource = matcher.matches() ? resourceAt(matcher.group(1), matcher.group(3)) : null;
            if (resource == null) {
                respond(exchange, 404, status(404, "NotFound", "the server could not find the requested resource"));
                return;
            }
            String name = matcher.group(4);
            if (name != null) {
                if ("PATCH".equals(method)) {
                    patchObject(exchange, resource, matcher.group(2), name, matcher.group(5) != null);
                } else {
                    getObject(exchange, resource, matcher.group(2), name);
                }
                exchange.close();
                return;
            }
            if (!"GET".equals(method)) {
                respond(exchange, 405, status(405, "MethodNotAllowed", "PATCH needs an object's name"));
                exchange.close();
                return;
            }
            Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
            LabelSelector selector;
            try {
                selector = LabelSelector.parse(query.getOrDefault("labelSelector", ""));
            } catch (IllegalArgumentException e) {
                respond(exchange, 400, status(400, "BadRequest", e.getMessage()));
                return;
            }
            String namespace = matcher.group(2);
            String watch = query.get("watch");
            boolean watching = "true".equals(watch) || "1".equals(watch);
            lastQueries.put(resource + (watching ? " watch" : " list"), Map.copyOf(query));
            if (watching) {
                watchRequests.get(resource).incrementAndGet();
                streamWatch(exchange, resource, namespace, selector, query);
            } else {
                listRequests.get(resource).incrementAndGet();
                respondList(exchange, resource, namespace, selector, query);
            }
        } catch (AbortConnection e) {
            throw e; // the JDK server then closes the socket mid-stream
        } catch (RuntimeException e) {
            // A bug here must reach the test as an answer, not as a client waiting for one forever.
            try {
                respond(exchange, 500, status(500, "InternalError", "test API server: " + e));
            } catch (IOException | RuntimeException ignored) {
                // The headers were already sent: the connection ends below.
            }
            exchange.close();
            throw e;
        } catch (IOException e) {
            exchange.close();
            throw e;
        }
        exchange.close();
    }

    private void getObject(HttpExchange exchange, Resource resource, String namespace, String name)
            throws IOException {
        String body;
        lock.lock();
        try {
            KubernetesObject object = objects.get(resource).get(namespace + "/" + name);
            body = object == null ? null : wire(object);
        } finally {
            lock.unlock();
        }
        if (body == null) {
            respond(exchange, 404, status(404, "NotFound", resource.plural + " \"" + name + "\" not found"));
        } else {
            respond(exchange, 200, body);
        }
    }

    /**
     * PATCH of one object, as the API server takes it: a JSON merge patch (RFC 7386) or a strategic merge patch
     * (the same, except that lists with a merge key, such as a node's {@code status.conditions} by {@code type},
     * are merged element by element). Through {@code /status} only the status changes (and, for Nodes, the
     * metadata, as kube-apiserver's node status strategy allows); otherwise only the rest.
     */
    private void patchObject(HttpExchange exchange, Resource resource, String namespace, String name,
                             boolean statusOnly) throws IOException {
        String contentType = String.valueOf(exchange.getRequestHeaders().getFirst("Content-Type"));
        boolean strategic = contentType.startsWith("application/strategic-merge-patch+json");
        if (!strategic && !contentType.startsWith("application/merge-patch+json")) {
            respond(exchange, 415, status(415, "UnsupportedMediaType", "the patch type " + contentType
                    + " is not served; use application/merge-patch+json or application/strategic-merge-patch+json"));
            return;
        }
        JsonObject patch;
        try {
            patch = JsonParser.parseString(new String(exchange.getRequestBody().readAllBytes(),
                    StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (RuntimeException e) {
            respond(exchange, 400, status(400, "BadRequest", "the patch is not a JSON object: " + e.getMessage()));
            return;
        }
        String body;
        lock.lock();
        try {
            String key = namespace + "/" + name;
            KubernetesObject before = objects.get(resource).get(key);
            if (before == null) {
                respond(exchange, 404, status(404, "NotFound", resource.plural + " \"" + name + "\" not found"));
                return;
            }
            patchCount.incrementAndGet();
            JsonObject target = JsonParser.parseString(json.serialize(before)).getAsJsonObject();
            for (Map.Entry<String, JsonElement> field : patch.entrySet()) {
                boolean status = field.getKey().equals("status");
                // kube-apiserver's node status strategy keeps metadata changes (flannel annotates nodes through
                // nodes/status); the other kinds' status strategies reset them
                boolean metadata = field.getKey().equals("metadata") && (!statusOnly || resource == Resource.NODES);
                if (status == statusOnly || metadata) {
                    JsonElement merged = Patches.merge(target.get(field.getKey()), field.getValue(), strategic,
                            field.getKey());
                    if (merged == null) {
                        target.remove(field.getKey());
                    } else {
                        target.add(field.getKey(), merged);
                    }
                }
            }
            KubernetesObject after = json.deserialize(target.toString(), resource.type());
            record(resource, "MODIFIED", before, after);
            objects.get(resource).put(key, after);
            body = wire(after);
        } finally {
            lock.unlock();
        }
        respond(exchange, 200, body);
    }

    /** PATCH requests served so far. */
    public int patchRequests() {
        return patchCount.get();
    }

    /** The stored object of this kind and name ({@code namespace} null for cluster-scoped kinds), or null. */
    public <T extends KubernetesObject> T get(Resource resource, String namespace, String name) {
        lock.lock();
        try {
            @SuppressWarnings("unchecked")
            T object = (T) objects.get(resource).get((resource.namespaced ? namespace : null) + "/" + name);
            return object == null ? null : copy(object);
        } finally {
            lock.unlock();
        }
    }

    private static Resource resourceAt(String prefix, String plural) {
        for (Resource resource : Resource.values()) {
            if (resource.prefix.equals(prefix) && resource.plural.equals(plural)) {
                return resource;
            }
        }
        return null;
    }

    private void respondList(HttpExchange exchange, Resource resource, String namespace, LabelSelector selector,
            Map<String, String> query) throws IOException {
        StringBuilder body = new StringBuilder();
        lock.lock();
        try {
            String requested = query.getOrDefault("resourceVersion", "");
            if ("Exact".equals(query.get("resourceVersionMatch")) && !requested.isEmpty()
                    && Long.parseLong(requested) < compactedThrough) {
                respond(exchange, 410, tooOld(requested));
                return;
            }
            // Any other resourceVersion means "not older than": the current state always qualifies.
            body.append("{\"kind\":\"").append(resource.kind).append("List\",\"apiVersion\":\"")
                    .append(resource.apiVersion).append("\",\"metadata\":{\"resourceVersion\":\"")
                    .append(resourceVersion).append("\"},\"items\":[");
            WatchStream filter = new WatchStream(resource, namespace, selector, false, 0);
            String separator = "";
            for (KubernetesObject object : objects.get(resource).values()) {
                if (filter.sees(object)) {
                    body.append(separator).append(wire(object));
                    separator = ",";
                }
            }
            body.append("]}");
        } finally {
            lock.unlock();
        }
        respond(exchange, 200, body.toString());
    }

    private void streamWatch(HttpExchange exchange, Resource resource, String namespace, LabelSelector selector,
            Map<String, String> query) throws IOException {
        String requested = query.getOrDefault("resourceVersion", "");
        long deadline = query.containsKey("timeoutSeconds")
                ? System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(query.get("timeoutSeconds")))
                : Long.MAX_VALUE;
        boolean bookmarks = "true".equals(query.get("allowWatchBookmarks"));
        WatchStream watch;
        List<String> initial = new ArrayList<>();
        lock.lock();
        try {
            boolean fromNow = requested.isEmpty() || "0".equals(requested);
            if (!fromNow && Long.parseLong(requested) < compactedThrough && expiryStyle == ExpiryStyle.HTTP_STATUS) {
                respond(exchange, 410, tooOld(requested));
                return;
            }
            watch = new WatchStream(resource, namespace, selector, bookmarks, fromNow ? resourceVersion : Long.parseLong(requested));
            if (fromNow) {
                // "Get state and start at most recent": the current objects as synthetic ADDED events.
                for (KubernetesObject object : objects.get(resource).values()) {
                    if (watch.sees(object)) {
                        initial.add(eventLine("ADDED", wire(object)));
                    }
                }
            } else if (watch.cursor < compactedThrough) {
                watch.expired = true;
            }
            openWatches.add(watch);
        } finally {
            lock.unlock();
        }
        try {
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, 0);
            OutputStream out = exchange.getResponseBody();
            writeLines(out, initial);
            while (true) {
                List<String> lines = nextLines(watch, deadline);
                if (lines == null) {
                    return; // clean end: timeout, or expiry reported
                }
                writeLines(out, lines);
            }
        } catch (IOException e) {
            // The client went away.
        } finally {
            lock.lock();
            try {
                openWatches.remove(watch);
            } finally {
                lock.unlock();
            }
        }
    }

    /** Waits for something to send; null to end the stream cleanly; throws to cut the connection. */
    private List<String> nextLines(WatchStream watch, long deadline) {
        lock.lock();
        try {
            while (true) {
                if (watch.dropped || !serving) {
                    throw new AbortConnection();
                }
                if (watch.ended) {
                    return null;
                }
                if (watch.expired) {
                    watch.ended = true;
                    return expiryStyle == ExpiryStyle.ERROR_EVENT
                            ? List.of(eventLine("ERROR", tooOld(Long.toString(watch.cursor))))
                            : null;
                }
                List<String> lines = new ArrayList<>();
                if (!stalled) {
                    for (Event event : history) {
                        if (event.resourceVersion <= watch.cursor) {
                            continue;
                        }
                        watch.cursor = event.resourceVersion;
                        if (event.resource != watch.resource) {
                            continue;
                        }
                        String type = typeSeenThrough(watch, event);
                        if (type != null) {
                            lines.add(eventLine(type, wire(event.after)));
                        }
                    }
                    if (watch.bookmarkRequested) {
                        watch.bookmarkRequested = false;
                        bookmarksSent.incrementAndGet();
                        watch.cursor = Math.max(watch.cursor, resourceVersion);
                        lines.add(eventLine("BOOKMARK", bookmarkObject(watch.resource)));
                    }
                }
                if (!lines.isEmpty()) {
                    return lines;
                }
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    return null;
                }
                try {
                    changed.awaitNanos(Math.min(remaining, TimeUnit.SECONDS.toNanos(1)));
                } catch (InterruptedException e) {
                    throw new AbortConnection();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** The event type a selective watch reports, or null when it does not see the change at all. */
    private static String typeSeenThrough(WatchStream watch, Event event) {
        boolean sawBefore = watch.sees(event.before);
        boolean seesAfter = watch.sees(event.after);
        switch (event.type) {
            case "ADDED":
                return seesAfter ? "ADDED" : null;
            case "DELETED":
                return sawBefore ? "DELETED" : null;
            default:
                if (sawBefore && seesAfter) {
                    return "MODIFIED";
                }
                if (seesAfter) {
                    return "ADDED";
                }
                return sawBefore ? "DELETED" : null;
        }
    }

    /**
     * What kube-apiserver sends as a bookmark: the kind's zero value as Go serializes it (fields without
     * omitempty included), carrying only the resourceVersion.
     */
    private String bookmarkObject(Resource resource) {
        String metadata = "\"metadata\":{\"resourceVersion\":\"" + resourceVersion + "\",\"creationTimestamp\":null}";
        String typeMeta = "\"kind\":\"" + resource.kind + "\",\"apiVersion\":\"" + resource.apiVersion + "\",";
        return switch (resource) {
            case SERVICES -> "{" + typeMeta + metadata + ",\"spec\":{},\"status\":{\"loadBalancer\":{}}}";
            case ENDPOINT_SLICES -> "{" + typeMeta + metadata + ",\"addressType\":\"\",\"endpoints\":null}";
            case NODES -> "{" + typeMeta + metadata + ",\"spec\":{},\"status\":{\"daemonEndpoints\":{\"kubeletEndpoint\":"
                    + "{\"Port\":0}},\"nodeInfo\":{}}}";
            case SERVICE_CIDRS -> "{" + typeMeta + metadata + ",\"spec\":{},\"status\":{}}";
        };
    }

    private void record(Resource resource, String type, KubernetesObject before, KubernetesObject after) {
        resourceVersion++;
        after.getMetadata().setResourceVersion(Long.toString(resourceVersion));
        setTypeMeta(resource, after);
        history.add(new Event(resourceVersion, resource, type, before, after));
        changed.signalAll();
    }

    private void setStalled(boolean value) {
        lock.lock();
        try {
            stalled = value;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private String tooOld(String requested) {
        return status(410, "Expired", "too old resource version: " + requested + " (" + compactedThrough + ")");
    }

    private String status(int code, String reason, String message) {
        return json.serialize(new V1Status().kind("Status").apiVersion("v1").status("Failure")
                .code(code).reason(reason).message(message).metadata(new io.kubernetes.client.openapi.models.V1ListMeta()));
    }

    private String wire(KubernetesObject object) {
        String serialized = json.serialize(object);
        if (!fieldsFromTheFuture) {
            return serialized;
        }
        JsonObject tree = JsonParser.parseString(serialized).getAsJsonObject();
        addFutureField(tree);
        addFutureField(tree.get("metadata"));
        addFutureField(tree.get("spec"));
        JsonElement endpoints = tree.get("endpoints");
        if (endpoints != null && endpoints.isJsonArray()) {
            endpoints.getAsJsonArray().forEach(TestApiServer::addFutureField);
        }
        return tree.toString();
    }

    private static void addFutureField(JsonElement element) {
        if (element != null && element.isJsonObject()) {
            element.getAsJsonObject().addProperty("fieldFromTheFuture", "v1.99");
        }
    }

    private static String eventLine(String type, String objectJson) {
        return "{\"type\":\"" + type + "\",\"object\":" + objectJson + "}";
    }

    private static void writeLines(OutputStream out, List<String> lines) throws IOException {
        for (String line : lines) {
            out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        }
        out.flush();
    }

    private static void respond(HttpExchange exchange, int code, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(code, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    private static Map<String, String> query(String rawQuery) {
        Map<String, String> parameters = new HashMap<>();
        if (rawQuery == null || rawQuery.isEmpty()) {
            return parameters;
        }
        for (String pair : rawQuery.split("&")) {
            int equals = pair.indexOf('=');
            String name = equals < 0 ? pair : pair.substring(0, equals);
            String value = equals < 0 ? "" : pair.substring(equals + 1);
            parameters.put(URLDecoder.decode(name, StandardCharsets.UTF_8), URLDecoder.decode(value, StandardCharsets.UTF_8));
        }
        return parameters;
    }

    @SuppressWarnings("unchecked")
    private <T extends KubernetesObject> T copy(T object) {
        return (T) json.deserialize(json.serialize(object), object.getClass());
    }

    private static void setTypeMeta(Resource resource, KubernetesObject object) {
        if (object instanceof V1Service service) {
            service.kind(resource.kind).apiVersion(resource.apiVersion);
        } else if (object instanceof V1EndpointSlice slice) {
            slice.kind(resource.kind).apiVersion(resource.apiVersion);
        } else if (object instanceof V1Node node) {
            node.kind(resource.kind).apiVersion(resource.apiVersion);
        } else if (object instanceof V1ServiceCIDR cidr) {
            cidr.kind(resource.kind).apiVersion(resource.apiVersion);
        }
    }

    private static String keyOf(KubernetesObject object) {
        return object.getMetadata().getNamespace() + "/" + object.getMetadata().getName();
    }

    /** The equality-based label selector subset: {@code k}, {@code !k}, {@code k=v}, {@code k==v}, {@code k!=v}. */
    record LabelSelector(List<String[]> terms) {
        static LabelSelector parse(String text) {
            List<String[]> terms = new ArrayList<>();
            for (String raw : text.split(",")) {
                String term = raw.trim();
                if (term.isEmpty()) {
                    continue;
                }
                if (term.contains(" in ") || term.contains(" notin ") || term.contains("(")) {
                    throw new IllegalArgumentException("set-based selector not supported here: " + term);
                }
                if (term.startsWith("!")) {
                    terms.add(new String[] {"absent", term.substring(1).trim(), null});
                } else if (term.contains("!=")) {
                    String[] parts = term.split("!=", 2);
                    terms.add(new String[] {"ne", parts[0].trim(), parts[1].trim()});
                } else if (term.contains("=")) {
                    String[] parts = term.split("==?", 2);
                    terms.add(new String[] {"eq", parts[0].trim(), parts[1].trim()});
                } else {
                    terms.add(new String[] {"present", term, null});
                }
            }
            return new LabelSelector(terms);
        }

        boolean matches(Map<String, String> labels) {
            Map<String, String> present = labels == null ? Map.of() : labels;
            for (String[] term : terms) {
                String value = present.get(term[1]);
                boolean ok = switch (term[0]) {
                    case "absent" -> !present.containsKey(term[1]);
                    case "present" -> present.containsKey(term[1]);
                    case "eq" -> term[2].equals(value);
                    default -> !term[2].equals(value);
                };
                if (!ok) {
                    return false;
                }
            }
            return true;
        }
    }

}
