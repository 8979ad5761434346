package dev.railyard.proxy.daemon;

import dev.railyard.proxy.apply.IptablesCleanup;
import dev.railyard.proxy.apply.IptablesException;
import dev.railyard.proxy.apply.IptablesRestore;
import dev.railyard.proxy.apply.JumpRules;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.render.CaptureRulesRenderer;
import dev.railyard.proxy.render.IptablesRenderer;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.source.ClusterEventHandler;
import dev.railyard.proxy.source.ClusterSource;
import dev.railyard.proxy.source.ManifestDirectorySource;
import dev.railyard.proxy.source.NodeInfo;
import dev.railyard.proxy.source.Problem;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1ServiceCIDR;
import dev.railyard.proxy.sync.ChangeTracker;
import dev.railyard.nftables.Family;
import dev.railyard.nftables.NftApplier;
import dev.railyard.nftables.NftException;
import dev.railyard.proxy.render.nftables.NftablesLayout;
import dev.railyard.proxy.render.nftables.NftablesRenderer;
import dev.railyard.proxy.sync.IptablesCanary;
import dev.railyard.proxy.sync.IptablesSyncer;
import dev.railyard.proxy.sync.NftablesSyncer;
import dev.railyard.proxy.sync.SyncResult;
import dev.railyard.proxy.sync.Syncer;
import dev.railyard.proxy.sync.UserspaceSyncer;
import dev.railyard.proxy.userspace.ListenMode;
import dev.railyard.proxy.userspace.TrafficStats;
import dev.railyard.proxy.userspace.UserspaceProxier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * {@code railyard proxy}: a source of cluster state feeding a {@link ChangeTracker}, and one {@link Syncer}
 * per IP family the node has, as kube-proxy's ProxyServer wires its config informers to its proxiers (one per
 * family in dual-stack).
 *
 * <p>Every tracker change asks every syncer for a sync; the syncers do nothing until both kinds have synced, so a
 * half-listed cluster is never programmed. {@link #close()} stops the source, then the syncers, and leaves the
 * rules in place: a restarted daemon takes over the same chains (it reads which per-service chains exist at
 * start, so those of services deleted meanwhile are removed by its first sync) and rewrites identical rules.
 *
 * <p>The sync, queued and started hooks, {@link #lastResults()} and {@link #isSynced()} are where metrics and
 * health checks plug in.
 */
public final class ProxyDaemon implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProxyDaemon.class);

    private final ProxyDaemonSettings settings;
    private final ChangeTracker tracker;
    private final List<Syncer> syncers;
    /** Userspace mode's listeners, shared by the families; null in iptables mode. */
    private final UserspaceProxier proxier;
    private final ClusterSource source;
    /** nftables mode's applier, shared by the families; null in other modes. */
    private final NftApplier nftApplier;
    /** iptables mode's canaries, one per family, started with the syncers; empty in other modes. */
    private final List<IptablesCanary> canaries = new ArrayList<>();
    private boolean closed;

    private ProxyDaemon(ProxyDaemonSettings settings, String sourceName,
                        Function<ClusterEventHandler, ClusterSource> sourceFactory, Consumer<SyncResult> syncHook,
                        Consumer<IpFamily> queuedHook, Consumer<NodeInfo> nodeHook)
            throws IptablesException, InterruptedException {
        this.settings = settings;
        // The syncers need the tracker and the tracker's listener needs the syncers: it reads this list, which
        // is filled before the source starts, so no event can find it empty.
        List<Syncer> created = new ArrayList<>();
        this.tracker = new ChangeTracker(settings.nodeName(), sourceName, Clock.systemUTC(),
                () -> {
                    // Queued before the sync is asked for, so that health never sees a sync without its update.
                    for (Syncer syncer : created) {
                        try {
                            queuedHook.accept(syncer.family());
                        } catch (RuntimeException e) {
                            log.error("queued hook failed", e);
                        }
                    }
                    created.forEach(Syncer::requestSync);
                }, this::reportProblem);
        Consumer<SyncResult> listener = new SyncLog().andThen(result -> {
            try {
                syncHook.accept(result);
            } catch (RuntimeException e) {
                log.error("sync hook failed", e);
            }
        });
        this.proxier = settings.userspace() == null ? null : new UserspaceProxier(settings.userspace());
        new ModeLeftovers(settings.mode(), settings.backend(), settings.commandPrefix()).removeOtherModes();
        this.nftApplier = settings.mode() == ProxyMode.NFTABLES
                ? NftablesAppliers.open(settings.nftables().applier(), settings.commandPrefix()) : null;
        for (RenderConfig config : settings.families()) {
            created.add(switch (settings.mode()) {
                case IPTABLES -> iptablesSyncer(config, listener);
                case NFTABLES -> nftablesSyncer(config, listener);
                case USERSPACE -> userspaceSyncer(config, listener);
            });
        }
        this.syncers = List.copyOf(created);
        try {
            this.source = Objects.requireNonNull(sourceFactory.apply(withNodeHook(tracker, settings.nodeName(),
                    nodeHook)), "source");
        } catch (RuntimeException e) {
            if (proxier != null) {
                proxier.close();
            }
            throw e;
        }
    }

    /**
     * The tracker, with this node's Node events also told to {@code nodeHook} (null when it was deleted): health
     * reads its deletion and taints, the command its pod CIDRs.
     */
    private static ClusterEventHandler withNodeHook(ChangeTracker tracker, String nodeName,
                                                    Consumer<NodeInfo> nodeHook) {
        return new ClusterEventHandler() {
            @Override
            public void onServiceChange(V1Service oldService, V1Service service) {
                tracker.onServiceChange(oldService, service);
            }

            @Override
            public void onEndpointSliceChange(V1EndpointSlice oldSlice, V1EndpointSlice slice) {
                tracker.onEndpointSliceChange(oldSlice, slice);
            }

            @Override
            public void onServicesSynced() {
                tracker.onServicesSynced();
            }

            @Override
            public void onEndpointSlicesSynced() {
                tracker.onEndpointSlicesSynced();
            }

            @Override
            public void onNodeChange(V1Node oldNode, V1Node node) {
                tracker.onNodeChange(oldNode, node);
                V1Node object = node != null ? node : oldNode;
                if (object != null && object.getMetadata() != null
                        && nodeName.equals(object.getMetadata().getName())) {
                    try {
                        nodeHook.accept(node == null ? null : NodeInfo.of(node));
                    } catch (RuntimeException e) {
                        log.error("node hook failed", e);
                    }
                }
            }

            @Override
            public void onServiceCidrChange(V1ServiceCIDR oldCidr, V1ServiceCIDR cidr) {
                tracker.onServiceCidrChange(oldCidr, cidr);
            }
        };
    }

    private IptablesSyncer iptablesSyncer(RenderConfig config, Consumer<SyncResult> listener)
            throws IptablesException, InterruptedException {
        IpFamily family = config.family();
        // Per-service chains a previous run left: the first sync deletes those no service needs any more.
        Set<String> existing = IptablesCleanup.of(family, settings.backend())
                .withCommandPrefix(settings.commandPrefix()).existingServiceNatChains();
        return new IptablesSyncer(tracker, new IptablesRenderer(config),
                IptablesRestore.of(family, settings.backend()).withCommandPrefix(settings.commandPrefix()),
                JumpRules.of(family, settings.backend()).withCommandPrefix(settings.commandPrefix()),
                settings.sync(), Clock.systemUTC(), existing, listener);
    }

    private NftablesSyncer nftablesSyncer(RenderConfig config, Consumer<SyncResult> listener)
            throws IptablesException, InterruptedException {
        Family family = config.family() == IpFamily.V6 ? Family.IP6 : Family.IP;
        NftApplier.TableObjects existing;
        try {
            // Per-service chains, sets and maps a previous run left: the first sync removes those no service
            // needs any more, the other layout's included.
            existing = nftApplier.listObjects(family, NftablesLayout.TABLE);
        } catch (NftException e) {
            throw new IptablesException("cannot list table " + family + " " + NftablesLayout.TABLE + ": "
                    + e.getMessage(), List.of("nft"), -1, "", e);
        }
        NftablesRenderer renderer = new NftablesRenderer(config, settings.nftables().layout(), existing)
                .splitFullSyncs(settings.nftables().servicePortsPerTransaction());
        return new NftablesSyncer(tracker, renderer, nftApplier, settings.sync(), Clock.systemUTC(), listener);
    }

    private UserspaceSyncer userspaceSyncer(RenderConfig config, Consumer<SyncResult> listener) {
        return new UserspaceSyncer(config.family(), tracker, proxier, capture(config.family()), settings.sync(),
                Clock.systemUTC(), listener);
    }

    /** The capture rules' writers in capture mode; null when the listeners sit on the service addresses. */
    private UserspaceSyncer.Capture capture(IpFamily family) {
        if (settings.userspace().listenMode() != ListenMode.CAPTURE) {
            return null;
        }
        CaptureRulesRenderer renderer = new CaptureRulesRenderer(family, settings.userspace().captureAddress(family));
        return new UserspaceSyncer.Capture(renderer,
                IptablesRestore.of(family, settings.backend()).withCommandPrefix(settings.commandPrefix()),
                JumpRules.of(family, settings.backend()).withRules(JumpRules.USERSPACE_CAPTURE)
                        .withCommandPrefix(settings.commandPrefix()));
    }

    /**
     * Builds the proxier of each family, starts their sync threads, then the source.
     *
     * @param sourceName    names the source in problem reports ("api-server", the manifests directory)
     * @param sourceFactory builds the source around the handler it must feed
     * @param syncHook      told about every sync of every family (after the log line); must not block
     * @throws IptablesException if the existing chains cannot be listed (no iptables for a family?)
     */
    public static ProxyDaemon start(ProxyDaemonSettings settings, String sourceName,
                                    Function<ClusterEventHandler, ClusterSource> sourceFactory,
                                    Consumer<SyncResult> syncHook) throws IptablesException, InterruptedException {
        return start(settings, sourceName, sourceFactory, syncHook, family -> { }, family -> { });
    }

    /**
     * As {@link #start(ProxyDaemonSettings, String, Function, Consumer)}, also reporting what kube-proxy's
     * proxier health and queue metrics need.
     *
     * @param queuedHook  told, for each family, that a change was queued for it (before its sync is requested);
     *                    called on the source's threads, must not block
     * @param startedHook told about each family whose sync thread has started, before the source starts
     */
    public static ProxyDaemon start(ProxyDaemonSettings settings, String sourceName,
                                    Function<ClusterEventHandler, ClusterSource> sourceFactory,
                                    Consumer<SyncResult> syncHook, Consumer<IpFamily> queuedHook,
                                    Consumer<IpFamily> startedHook) throws IptablesException, InterruptedException {
        return start(settings, sourceName, sourceFactory, syncHook, queuedHook, startedHook, node -> { });
    }

    /**
     * As {@link #start(ProxyDaemonSettings, String, Function, Consumer, Consumer, Consumer)}, also telling
     * {@code nodeHook} about every change of this node's Node object (null when it is deleted); called on the
     * source's thread, must not block.
     */
    public static ProxyDaemon start(ProxyDaemonSettings settings, String sourceName,
                                    Function<ClusterEventHandler, ClusterSource> sourceFactory,
                                    Consumer<SyncResult> syncHook, Consumer<IpFamily> queuedHook,
                                    Consumer<IpFamily> startedHook, Consumer<NodeInfo> nodeHook)
            throws IptablesException, InterruptedException {
        Objects.requireNonNull(queuedHook, "queuedHook");
        Objects.requireNonNull(startedHook, "startedHook");
        Objects.requireNonNull(nodeHook, "nodeHook");
        ProxyDaemon daemon = new ProxyDaemon(settings, sourceName, sourceFactory, syncHook, queuedHook, nodeHook);
        for (Syncer syncer : daemon.syncers) {
            syncer.start();
            startedHook.accept(syncer.family());
        }
        try {
            daemon.startCanaries();
            daemon.source.start();
        } catch (RuntimeException | IptablesException | InterruptedException e) {
            daemon.close();
            throw e;
        }
        log.atInfo().setMessage("proxy started").addKeyValue("mode", settings.mode())
                .addKeyValue("node", settings.nodeName())
                .addKeyValue("families", settings.ipFamilies()).addKeyValue("source", sourceName)
                .addKeyValue("minSyncPeriod", settings.sync().minSyncPeriod())
                .addKeyValue("syncPeriod", settings.sync().syncPeriod())
                .addKeyValue("iptables", settings.backend().flagValue()).log();
        return daemon;
    }

    /** iptables mode: a canary per family, so that a flush of the tables brings a full sync (kube-proxy's monitor). */
    private void startCanaries() throws IptablesException, InterruptedException {
        if (settings.mode() != ProxyMode.IPTABLES) {
            return;
        }
        for (Syncer syncer : syncers) {
            canaries.add(IptablesCanary.start(JumpRules.of(syncer.family(), settings.backend())
                    .withCommandPrefix(settings.commandPrefix()), syncer, settings.sync().syncPeriod()));
        }
    }

    public ProxyDaemonSettings settings() {
        return settings;
    }

    public List<IpFamily> families() {
        return settings.ipFamilies();
    }

    /** Both Services and EndpointSlices have delivered their initial lists (rules may be programmed). */
    public boolean isSynced() {
        return tracker.isSynced();
    }

    /** The last sync result of each family that has synced (or skipped) at least once. */
    public Map<IpFamily, SyncResult> lastResults() {
        Map<IpFamily, SyncResult> results = new EnumMap<>(IpFamily.class);
        for (Syncer syncer : syncers) {
            SyncResult result = syncer.lastResult();
            if (result != null) {
                results.put(syncer.family(), result);
            }
        }
        return Map.copyOf(results);
    }

    /** Objects skipped because they are invalid (their last valid version, if any, stays programmed). */
    public List<Problem> problems() {
        return tracker.problems();
    }

    public ClusterSource source() {
        return source;
    }

    /** Forces a full sync of every family soon, e.g. after something flushed the tables. */
    public void requestFullSync() {
        syncers.forEach(Syncer::requestFullSync);
    }

    /** Userspace mode: per service port traffic counters; empty in iptables mode. */
    public List<TrafficStats> trafficStats() {
        return proxier == null ? List.of() : proxier.trafficStats();
    }

    /**
     * Stops the source, then the syncers; the rules stay in the kernel. In userspace capture mode the capture
     * rules are emptied too: they would send service traffic to ports nobody listens on any more.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        canaries.forEach(IptablesCanary::close);
        source.close();
        for (Syncer syncer : syncers) {
            try {
                if (!syncer.stop(settings.stopTimeout())) {
                    log.warn("{} sync still running after {}", syncer.family().kubernetesName(),
                            settings.stopTimeout());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        if (nftApplier instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception e) {
                log.warn("closing the nftables applier: {}", e.getMessage());
            }
        }
        if (proxier == null) {
            log.info("proxy stopped; rules left in place");
            return;
        }
        for (Syncer syncer : syncers) {
            ((UserspaceSyncer) syncer).clearCapture();
        }
        proxier.close();
        log.info("userspace proxy stopped; listeners closed");
    }

    private void reportProblem(Problem found) {
        // The tracker knows only the source; a manifests directory can tell the file and line.
        Problem problem = source instanceof ManifestDirectorySource manifests ? manifests.located(found) : found;
        // The object's name and the reason come from the cluster: as fields they are quoted or escaped whole.
        log.atWarn().setMessage("skipped invalid object").addKeyValue("object", problem.object())
                .addKeyValue("field", problem.field()).addKeyValue("reason", problem.message())
                .addKeyValue("location", problem.location()).log();
    }
}
