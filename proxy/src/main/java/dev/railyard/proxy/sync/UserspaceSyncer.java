package dev.railyard.proxy.sync;

import dev.railyard.proxy.apply.IptablesException;
import dev.railyard.proxy.apply.IptablesRestore;
import dev.railyard.proxy.apply.JumpRules;
import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;
import dev.railyard.proxy.render.CaptureRulesRenderer;
import dev.railyard.proxy.render.CaptureTarget;
import dev.railyard.proxy.render.LineBuffer;
import dev.railyard.proxy.userspace.Listener;
import dev.railyard.proxy.userspace.TrafficKind;
import dev.railyard.proxy.userspace.UserspaceProxier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The userspace proxier of one IP family: drains the {@link ChangeTracker} and hands the state to the shared
 * {@link UserspaceProxier}, which opens and closes listeners and swaps endpoint lists. With {@link Capture},
 * it then rewrites the capture rules that send the family's service traffic to those listeners (kube-proxy's old
 * userspace mode); without, the listeners sit on the service addresses themselves and iptables is not used.
 *
 * <p>Syncs follow the same rules as {@link IptablesSyncer}: nothing before both kinds have synced, coalesced by a
 * {@link BoundedFrequencyRunner}, a periodic full sync that also re-ensures the jump rules, and a retry after a
 * failed restore. The result's render time is the listeners' reconciliation; its restore time and bytes are
 * the capture rules'.
 */
public final class UserspaceSyncer extends ScheduledSyncer {
    private static final Logger LOG = LoggerFactory.getLogger(UserspaceSyncer.class);

    /** Where the capture rules go: the family's renderer, restore and jump rules. */
    public record Capture(CaptureRulesRenderer renderer, IptablesRestore restore, JumpRules jumpRules) {
        public Capture {
            Objects.requireNonNull(renderer, "renderer");
            Objects.requireNonNull(restore, "restore");
            Objects.requireNonNull(jumpRules, "jumpRules");
        }
    }

    private final UserspaceProxier proxier;
    private final Capture capture;

    /** @param capture null to listen on the service addresses without any iptables rule */
    public UserspaceSyncer(IpFamily family, ChangeTracker tracker, UserspaceProxier proxier, Capture capture,
                           IptablesSyncer.Settings settings, Clock clock, Consumer<SyncResult> resultListener) {
        super("userspace-sync-", family, tracker, settings, clock, resultListener);
        this.proxier = Objects.requireNonNull(proxier, "proxier");
        this.capture = capture;
    }

    /** Every sync period, as before: the listeners' reconcile and the capture rules are small. */
    @Override
    Duration fullSyncPeriod() {
        return syncPeriod();
    }

    @Override
    SyncResult apply(StateUpdate update, Instant startedAt, boolean full, Map<String, Instant> changeTimes) {
        ProxyState state = update.state();
        long reconcileStart = System.nanoTime();
        String error = null;
        try {
            proxier.sync(state);
        } catch (RuntimeException e) {
            error = "userspace proxier: " + e.getMessage();
        }
        long restoreStart = System.nanoTime();
        LineBuffer rules = null;
        if (capture != null && error == null) {
            rules = capture.renderer().render(captureTargets(proxier.listeners()));
            error = applyRules(capture.jumpRules(), capture.restore(), rules, full);
        }
        long restoreEnd = System.nanoTime();

        boolean succeeded = error == null;
        int bytes = rules == null ? 0 : rules.length();
        int captureRules = rules == null ? 0 : Math.max(0, rules.lines() - 2 - CaptureRulesRenderer.chains().size());
        SyncResult result = new SyncResult(family(), SyncResult.Kind.FULL, startedAt, error,
                Duration.ofNanos(restoreStart - reconcileStart), Duration.ofNanos(restoreEnd - restoreStart), bytes,
                0, captureRules, 0, capture == null ? 0 : CaptureRulesRenderer.chains().size(), 0, 0,
                state.serviceCount(), state.endpointCount(), Set.of(), List.of(), Set.of(),
                succeeded ? changeTimes : Map.of(), state);
        return result;
    }

    /**
     * Empties the capture chains (the jump rules stay, harmless without rules behind them): once the listeners
     * close, a redirect would only reset every connection to a service. Call after {@link #stop}.
     */
    public synchronized void clearCapture() {
        if (capture == null) {
            return;
        }
        LineBuffer empty = capture.renderer().render(List.of());
        try {
            capture.restore().restore(empty::writeTo);
        } catch (IptablesException e) {
            LOG.warn("{} could not empty the userspace capture chains: {}", family().kubernetesName(), e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * This family's listeners as capture targets: cluster-IP traffic to the internal listener, node-port and
     * external-IP traffic to the external one, load-balancer traffic to its own when the service filters it by
     * source and to the external one otherwise.
     */
    private List<CaptureTarget> captureTargets(List<Listener> listeners) {
        Map<ServicePortName, ServicePort> services = new LinkedHashMap<>();
        Map<TrafficKind, Map<ServicePortName, Integer>> ports = new EnumMap<>(TrafficKind.class);
        for (TrafficKind kind : TrafficKind.values()) {
            ports.put(kind, new HashMap<>());
        }
        for (Listener listener : listeners) {
            ServicePort service = listener.service();
            if (IpAddresses.familyOf(IpAddresses.parse(service.clusterIp())) != family()) {
                continue;
            }
            services.put(service.name(), service);
            ports.get(listener.traffic()).put(service.name(), listener.local().getPort());
        }
        List<CaptureTarget> targets = new ArrayList<>(services.size());
        services.forEach((name, service) -> {
            Integer in = ports.get(TrafficKind.INTERNAL).get(name);
            if (in == null) { // without its internal listener (bind failed, logged) nothing is captured
                return;
            }
            int ext = ports.get(TrafficKind.EXTERNAL).getOrDefault(name, in);
            // A filtering listener that failed to bind (logged, retried next sync) must not be stood in for by
            // an unfiltered one: until it is bound its traffic is not captured at all.
            int loadBalancer = service.restrictsLoadBalancerSources()
                    ? ports.get(TrafficKind.LOAD_BALANCER).getOrDefault(name, CaptureTarget.NOT_CAPTURED) : ext;
            targets.add(new CaptureTarget(service, in, ext, loadBalancer));
        });
        return targets;
    }

}
