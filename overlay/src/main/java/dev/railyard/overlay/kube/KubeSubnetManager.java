package dev.railyard.overlay.kube;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.railyard.overlay.config.ConfigException;
import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.config.Ip6Address;
import dev.railyard.overlay.config.Ip6Net;
import dev.railyard.overlay.config.NetworkConfig;
import dev.railyard.overlay.lease.Lease;
import dev.railyard.overlay.lease.LeaseAttrs;
import dev.railyard.overlay.lease.LeaseEvent;
import dev.railyard.overlay.lease.LeaseException;
import dev.railyard.overlay.lease.LeaseListener;
import dev.railyard.overlay.lease.LeaseSubnets;
import dev.railyard.overlay.lease.StoredNodeState;
import dev.railyard.overlay.lease.SubnetManager;
import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.informer.ResourceEventHandler;
import io.kubernetes.client.informer.SharedIndexInformer;
import io.kubernetes.client.informer.SharedInformerFactory;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Node;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Pattern;
import java.nio.charset.StandardCharsets;
import okhttp3.Call;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * flannel's kube subnet manager ({@code --kube-subnet-mgr}, pkg/subnet/kube): the node's subnets are its Node's
 * {@code spec.podCIDRs} (kube-controller-manager allocates them; nothing is allocated here), the node publishes its
 * lease as annotations written with a strategic-merge PATCH of {@code nodes/status}, and every Node carrying
 * {@code kube-subnet-manager: "true"} is a peer, followed through a client-java informer. Leases never expire: a
 * node stays a peer until its Node object is deleted. Once the data plane is up, the Node's NetworkUnavailable
 * condition is set to False with flannel's reason, as flannel's CompleteLease does.
 *
 * <p>Annotations, VTEP MAC reuse and the public-ip overwrite follow flannel, so flanneld and Railyard nodes are
 * peers of each other in one cluster.
 */
public final class KubeSubnetManager implements SubnetManager {
    private static final Logger log = LoggerFactory.getLogger(KubeSubnetManager.class);
    private static final Pattern MAC = Pattern.compile("[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}");
    private static final Duration SYNC_WAIT = Duration.ofSeconds(30);

    /**
     * @param nodeName this node's name (flannel: {@code NODE_NAME})
     * @param setNodeNetworkUnavailable whether to set NetworkUnavailable=False once up ({@code --set-node-network-unavailable})
     * @param nodeWait how long to wait for this node's Node to appear before failing an acquisition (retried)
     */
    public record Settings(String nodeName, NodeAnnotations annotations, boolean setNodeNetworkUnavailable,
                           Duration nodeWait) {
        public Settings {
            if (nodeName == null || nodeName.isBlank()) {
                throw new ConfigException("--kube-subnet-mgr needs this node's name: set NODE_NAME");
            }
            annotations = annotations == null ? NodeAnnotations.withPrefix(null) : annotations;
            nodeWait = nodeWait == null ? Duration.ofSeconds(30) : nodeWait;
        }
    }

    private final ApiClient client;
    private final NetworkConfig config;
    private final Settings settings;
    private final NodeAnnotations names;
    private final SharedInformerFactory factory;
    private final SharedIndexInformer<V1Node> informer;
    private final ExecutorService informerThreads;
    // Guarded by this: the lease each peer Node stands for now, and who hears about changes.
    private final Map<String, Lease> leases = new HashMap<>();
    private LeaseListener listener;
    private boolean started;
    private volatile boolean closed;
    /** Whether the wait for this node's Node to register has been logged (once per process). */
    private volatile boolean waitingForNodeSaid;

    public KubeSubnetManager(ApiClient client, NetworkConfig config, Settings settings) {
        if (client.getReadTimeout() != 0) {
            throw new IllegalArgumentException("the ApiClient has a read timeout of " + client.getReadTimeout()
                    + " ms; watches need none (0)");
        }
        this.client = client;
        this.config = Objects.requireNonNull(config, "config");
        this.settings = settings;
        this.names = settings.annotations();
        this.informerThreads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "overlay-node-informer");
            t.setDaemon(true);
            return t;
        });
        this.factory = new SharedInformerFactory(client, informerThreads, false);
        // resync 0: every change comes from the watch; a relist after a broken watch is diffed by the informer
        this.informer = factory.sharedIndexInformerFor(new NodeListerWatcher(client), V1Node.class, 0L,
                (type, failure) -> {
                    if (!closed) {
                        log.warn("node list/watch failed, will retry: {}", failure.toString());
                    }
                });
        informer.addEventHandler(new Handler());
    }

    @Override
    public NetworkConfig networkConfig() {
        return config;
    }

    /** Starts the node informer once and waits (bounded) for its first list; retried by the daemon when slow. */
    private void ensureSynced() {
        synchronized (this) {
            if (!started) {
                started = true;
                factory.startAllRegisteredInformers();
            }
        }
        long deadline = System.nanoTime() + SYNC_WAIT.toNanos();
        while (!informer.hasSynced()) {
            if (closed || System.nanoTime() > deadline) {
                throw new LeaseException("the node list from the API server " + client.getBasePath()
                        + " has not arrived within " + SYNC_WAIT.toSeconds() + " s");
            }
            sleep(100);
        }
    }

    private V1Node awaitOwnNode(Duration wait) {
        ensureSynced();
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            V1Node node = informer.getIndexer().getByKey(settings.nodeName());
            if (node != null) {
                return node;
            }
            if (!waitingForNodeSaid) {
                // Said once: a kubelet registers its Node a little after start, but a wrong NODE_NAME never does.
                log.warn("node {} is not in the API server (yet); waiting for it to register (is NODE_NAME right?)",
                        settings.nodeName());
                waitingForNodeSaid = true;
            }
            if (closed || System.nanoTime() > deadline) {
                return null;
            }
            sleep(20);
        }
    }

    @Override
    public StoredNodeState storedState() {
        V1Node node = awaitOwnNode(settings.nodeWait());
        if (node == null) {
            return StoredNodeState.NONE;
        }
        Map<String, String> a = annotations(node);
        return new StoredNodeState(blankToNull(a.get(names.nodePublicIp())), blankToNull(a.get(names.nodePublicIpv6())),
                vtepMac(a.get(names.backendData())), vtepMac(a.get(names.backendV6Data())));
    }

    /** The MAC in {@code {"VNI":1,"VtepMAC":"..."}}, or null; parsed as JSON rather than by flannel's string split. */
    private static String vtepMac(String backendData) {
        if (backendData == null || backendData.isBlank()) {
            return null;
        }
        try {
            JsonElement e = JsonParser.parseString(backendData);
            if (e.isJsonObject() && e.getAsJsonObject().has("VtepMAC")) {
                String mac = e.getAsJsonObject().get("VtepMAC").getAsString();
                return MAC.matcher(mac).matches() ? mac.toLowerCase(java.util.Locale.ROOT) : null;
            }
        } catch (RuntimeException ignored) {
            // not JSON or not a string: no MAC to reuse
        }
        return null;
    }

    @Override
    public Lease acquire(LeaseAttrs attrs, LeaseSubnets previous) {
        V1Node node = awaitOwnNode(settings.nodeWait());
        if (node == null) {
            throw new LeaseException("node " + settings.nodeName() + " does not exist in the API server (yet); "
                    + "is NODE_NAME right?");
        }
        LeaseSubnets subnets = ownSubnets(node);
        Map<String, String> current = annotations(node);
        Map<String, String> desired = new LinkedHashMap<>();
        desired.put(names.backendType(), attrs.backendType());
        String publishedIp = null;
        if (config.enableIPv4()) {
            String overwrite = blankToNull(current.get(names.publicIpOverwrite()));
            publishedIp = overwrite != null ? overwrite : attrs.publicIpString();
            if (!"vxlan".equals(attrs.backendType()) || !"null".equals(attrs.backendDataJson())) {
                desired.put(names.backendData(), attrs.backendDataJson());
            }
            desired.put(names.publicIp(), publishedIp);
        }
        String publishedIpv6 = null;
        if (config.enableIPv6()) {
            String overwrite = blankToNull(current.get(names.publicIpv6Overwrite()));
            publishedIpv6 = overwrite != null ? overwrite : String.valueOf(attrs.publicIpv6());
            desired.put(names.backendV6Data(), attrs.backendV6DataJson());
            desired.put(names.publicIpv6(), publishedIpv6);
        }
        desired.put(names.subnetKubeManaged(), "true");
        try {
            // an operator's overwrite annotation must be an address before it is copied to public-ip
            if (publishedIp != null) {
                parse4(publishedIp, names.publicIpOverwrite());
            }
            if (publishedIpv6 != null) {
                parse6(publishedIpv6, names.publicIpv6Overwrite());
            }
        } catch (IllegalArgumentException e) {
            throw new ConfigException("node " + settings.nodeName() + ": " + e.getMessage());
        }
        Map<String, String> changes = new LinkedHashMap<>();
        desired.forEach((k, v) -> {
            if (!v.equals(current.get(k))) {
                changes.put(k, v);
            }
        });
        if (!changes.isEmpty()) {
            JsonObject annotations = new JsonObject();
            changes.forEach(annotations::addProperty);
            JsonObject metadata = new JsonObject();
            metadata.add("annotations", annotations);
            JsonObject patch = new JsonObject();
            patch.add("metadata", metadata);
            patchStatus(patch.toString(), "annotate node " + settings.nodeName());
            log.info("published the lease of node {} as its annotations {}", settings.nodeName(), changes.keySet());
        }
        LeaseAttrs published;
        try {
            published = new LeaseAttrs(publishedIp == null ? 0 : parse4(publishedIp, names.publicIpOverwrite()),
                    publishedIpv6 == null ? null : parse6(publishedIpv6, names.publicIpv6Overwrite()),
                    attrs.backendType(), attrs.backendDataJson(), attrs.backendV6DataJson());
        } catch (IllegalArgumentException e) {
            throw new ConfigException("node " + settings.nodeName() + ": " + e.getMessage());
        }
        return new Lease(subnets, published, 0, Instant.MAX);
    }

    /** This node's pod CIDRs as the families of the config want them; each must lie in the configured network. */
    private LeaseSubnets ownSubnets(V1Node node) {
        List<String> cidrs = podCidrs(node);
        String name = settings.nodeName();
        if (cidrs.isEmpty()) {
            throw new LeaseException("node " + name + " has no pod CIDR yet (spec.podCIDR); the controller manager "
                    + "assigns one with --allocate-node-cidrs");
        }
        if (cidrs.size() > 2) {
            throw new LeaseException("node " + name + ": spec.podCIDRs " + cidrs + " should be one IPv4 and/or one IPv6 CIDR");
        }
        Ip4Net four = null;
        Ip6Net six = null;
        for (String c : cidrs) {
            try {
                if (Ip6Address.looksLikeIpv6(c)) {
                    six = Ip6Net.parse(c);
                } else {
                    four = Ip4Net.parse(c);
                }
            } catch (IllegalArgumentException e) {
                throw new LeaseException("node " + name + ": spec.podCIDRs " + c + ": " + e.getMessage());
            }
        }
        if (config.enableIPv4()) {
            if (four == null) {
                throw new LeaseException("node " + name + " has no IPv4 pod CIDR in spec.podCIDRs " + cidrs);
            }
            if (!config.network().contains(four)) {
                throw new ConfigException("node " + name + ": pod CIDR " + four + " is not inside the net-conf Network "
                        + config.network());
            }
        }
        if (config.enableIPv6()) {
            if (six == null) {
                throw new LeaseException("node " + name + " has no IPv6 pod CIDR in spec.podCIDRs " + cidrs);
            }
            if (!config.ipv6Network().contains(six)) {
                throw new ConfigException("node " + name + ": pod CIDR " + six + " is not inside the net-conf "
                        + "IPv6Network " + config.ipv6Network());
            }
        }
        return new LeaseSubnets(config.enableIPv4() ? four : null, config.enableIPv6() ? six : null);
    }

    private static List<String> podCidrs(V1Node node) {
        if (node.getSpec() == null) {
            return List.of();
        }
        List<String> cidrs = node.getSpec().getPodCIDRs();
        if (cidrs != null && !cidrs.isEmpty()) {
            return cidrs;
        }
        String one = node.getSpec().getPodCIDR();
        return one == null || one.isBlank() ? List.of() : List.of(one);
    }

    /** Kube leases do not expire. */
    @Override
    public Lease renew(Lease lease) {
        return lease;
    }

    @Override
    public void leaseInUse(Lease lease) {
        if (!settings.setNodeNetworkUnavailable()) {
            return;
        }
        String now = DateTimeFormatter.ISO_INSTANT.format(Instant.now().truncatedTo(ChronoUnit.SECONDS));
        JsonObject condition = new JsonObject();
        condition.addProperty("type", "NetworkUnavailable");
        condition.addProperty("status", "False");
        condition.addProperty("reason", "FlannelIsUp");
        condition.addProperty("message", "Flannel is running on this node");
        condition.addProperty("lastTransitionTime", now);
        condition.addProperty("lastHeartbeatTime", now);
        com.google.gson.JsonArray conditions = new com.google.gson.JsonArray();
        conditions.add(condition);
        JsonObject status = new JsonObject();
        status.add("conditions", conditions);
        JsonObject patch = new JsonObject();
        patch.add("status", status);
        try {
            patchStatus(patch.toString(), "set NetworkUnavailable=False on node " + settings.nodeName());
        } catch (LeaseException e) {
            log.warn("{}", e.getMessage()); // flannel logs this too and carries on: routes work regardless
        }
    }

    /** A strategic merge patch of {@code nodes/<name>/status}, as flannel sends both of its patches. */
    private void patchStatus(String json, String what) {
        CoreV1Api api = new CoreV1Api(client);
        try {
            Call generated = api.patchNodeStatus(settings.nodeName(), new V1Patch(json)).buildCall(null);
            // the generated call labels the body with the first patch type it knows (JSON patch); OkHttp sends the
            // body's media type, so the body itself must say which patch this is
            Request request = generated.request().newBuilder()
                    .patch(RequestBody.create(json.getBytes(StandardCharsets.UTF_8),
                            MediaType.get(V1Patch.PATCH_FORMAT_STRATEGIC_MERGE_PATCH)))
                    .build();
            try (Response response = client.getHttpClient().newCall(request).execute()) {
                if (!response.isSuccessful()) {
                    String body = response.body() == null ? "" : response.body().string();
                    throw new LeaseException(what + " failed: HTTP " + response.code() + ": "
                            + (body.length() > 300 ? body.substring(0, 300) + "..." : body));
                }
            }
        } catch (ApiException | IOException e) {
            throw new LeaseException(what + " failed (API server " + client.getBasePath() + "): " + e.getMessage(), e);
        }
    }

    @Override
    public AutoCloseable watch(LeaseListener newListener) {
        ensureSynced();
        synchronized (this) {
            listener = newListener;
            newListener.reset(new ArrayList<>(leases.values()));
        }
        return () -> {
            synchronized (KubeSubnetManager.this) {
                if (listener == newListener) {
                    listener = null;
                }
            }
        };
    }

    /** The lease a Node stands for, or null when it is not a (usable) peer. Never throws. */
    private Lease toLease(V1Node node) {
        Map<String, String> a = annotations(node);
        if (!"true".equals(a.get(names.subnetKubeManaged()))) {
            return null;
        }
        String name = node.getMetadata().getName();
        try {
            String type = a.get(names.backendType());
            if (type == null || type.isBlank()) {
                throw new IllegalArgumentException(names.backendType() + " is missing");
            }
            List<String> cidrs = podCidrs(node);
            Ip4Net four = null;
            Ip6Net six = null;
            for (String c : cidrs) {
                if (Ip6Address.looksLikeIpv6(c)) {
                    six = six == null ? Ip6Net.parse(c) : six;
                } else {
                    four = four == null ? Ip4Net.parse(c) : four;
                }
            }
            int publicIp = 0;
            String data = null;
            if (config.enableIPv4()) {
                if (four == null) {
                    throw new IllegalArgumentException("spec.podCIDRs has no IPv4 CIDR");
                }
                publicIp = parse4(a.get(names.publicIp()), names.publicIp());
                data = a.get(names.backendData());
            }
            Ip6Address publicIpv6 = null;
            String data6 = null;
            if (config.enableIPv6()) {
                if (six == null) {
                    throw new IllegalArgumentException("spec.podCIDRs has no IPv6 CIDR");
                }
                publicIpv6 = parse6(a.get(names.publicIpv6()), names.publicIpv6());
                data6 = a.get(names.backendV6Data());
            }
            LeaseAttrs attrs = new LeaseAttrs(publicIp, publicIpv6, type, data, data6);
            return new Lease(new LeaseSubnets(config.enableIPv4() ? four : null, config.enableIPv6() ? six : null),
                    attrs, 0, Instant.MAX);
        } catch (RuntimeException e) {
            log.warn("ignoring node {} as a peer: {}", name, e.getMessage());
            return null;
        }
    }

    private final class Handler implements ResourceEventHandler<V1Node> {
        @Override
        public void onAdd(V1Node node) {
            update(node.getMetadata().getName(), toLease(node));
        }

        @Override
        public void onUpdate(V1Node oldNode, V1Node newNode) {
            update(newNode.getMetadata().getName(), toLease(newNode));
        }

        @Override
        public void onDelete(V1Node node, boolean finalStateUnknown) {
            update(node.getMetadata().getName(), null);
        }
    }

    /** Records what Node {@code name} stands for now and tells the listener the difference. */
    private synchronized void update(String name, Lease now) {
        Lease before = now == null ? leases.remove(name) : leases.put(name, now);
        if (Objects.equals(before, now)) {
            return;
        }
        List<LeaseEvent> events = new ArrayList<>(2);
        if (before != null && (now == null || !before.subnets().equals(now.subnets()))) {
            events.add(new LeaseEvent(LeaseEvent.Type.REMOVED, before));
        }
        if (now != null) {
            events.add(new LeaseEvent(LeaseEvent.Type.ADDED, now));
        }
        if (listener != null && !events.isEmpty()) {
            try {
                listener.changed(events);
            } catch (RuntimeException e) {
                // a listener bug must not stop the informer; the next resync of the backend repairs what it can
                log.error("lease listener failed on node {}", name, e);
            }
        }
    }

    private static Map<String, String> annotations(V1Node node) {
        Map<String, String> a = node.getMetadata() == null ? null : node.getMetadata().getAnnotations();
        return a == null ? Map.of() : a;
    }

    private static int parse4(String text, String field) {
        try {
            return Ip4Net.parseAddress(text == null ? "" : text.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("annotation " + field + ": " + e.getMessage());
        }
    }

    private static Ip6Address parse6(String text, String field) {
        try {
            return Ip6Address.parse(text == null ? "" : text.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("annotation " + field + ": " + e.getMessage());
        }
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LeaseException("interrupted");
        }
    }

    @Override
    public void close() {
        closed = true;
        synchronized (this) {
            listener = null;
            if (started) {
                factory.stopAllRegisteredInformers();
            }
        }
        informerThreads.shutdownNow();
    }
}
