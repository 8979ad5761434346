package dev.railyard.proxy.sync;

import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePortName;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What one {@link IptablesSyncer} pass did, with what kube-proxy's sync metrics need. Immutable.
 *
 * @param kind                 skipped (sources not synced yet), full or partial
 * @param error                why iptables-restore (or the jump rules) failed; null on success
 * @param renderTime           building the restore input
 * @param restoreTime          iptables-restore (and on full syncs ensuring the jump rules)
 * @param bytesWritten         size of the restore input (nftables mode: the netlink batches, or nft's script)
 * @param filterRules          filter rules written (a partial sync leaves the filter table alone when none of its
 *                             rules would change)
 * @param natRulesWritten      nat rules written, including the {@code -X} lines of deleted chains
 * @param natRulesSkipped      nat rules a partial sync left as they are in the kernel: those of unchanged services,
 *                             and the top-level ones when no changed service's lines in them differ
 * @param natChainsWritten     nat chain lines written
 * @param natChainsSkipped     nat chains a partial sync did not declare (left as they are in the kernel)
 * @param deletedChains        stale per-service chains deleted
 * @param services             service ports programmed
 * @param endpoints            endpoints known
 * @param changedServices      services whose chains were rewritten in a partial sync ("namespace/name")
 * @param goneUdpEndpoints     UDP endpoints to clear from conntrack, since the last successful sync
 * @param newlyActiveUdpPorts  UDP ports that got their first serving endpoint, since the last successful sync
 * @param firstChangeTimes     per service programmed by this sync, its earliest pending change; empty on failure
 * @param state                the whole state this sync rendered (programmed if it succeeded); empty when skipped
 * @param cleanupFailed        nftables mode: the deletion of stale chains before the sync was refused
 *                             (kubeproxy_sync_proxy_rules_nftables_cleanup_failures_total)
 * @param filterRulesSkipped   filter rules a partial sync left as they are in the kernel
 */
public record SyncResult(IpFamily family, Kind kind, Instant startedAt, String error, Duration renderTime,
                         Duration restoreTime, int bytesWritten, int filterRules, int natRulesWritten,
                         int natRulesSkipped, int natChainsWritten, int natChainsSkipped, int deletedChains,
                         int services, int endpoints, Set<String> changedServices,
                         List<StaleUdpEndpoint> goneUdpEndpoints, Set<ServicePortName> newlyActiveUdpPorts,
                         Map<String, Instant> firstChangeTimes, ProxyState state, boolean cleanupFailed,
                         int filterRulesSkipped) {

    public enum Kind {
        /** Not both kinds of source have synced: nothing was drained or written. */
        SKIPPED,
        FULL,
        PARTIAL
    }

    public SyncResult {
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(startedAt, "startedAt");
        Objects.requireNonNull(renderTime, "renderTime");
        Objects.requireNonNull(restoreTime, "restoreTime");
        changedServices = Set.copyOf(changedServices);
        goneUdpEndpoints = List.copyOf(goneUdpEndpoints);
        newlyActiveUdpPorts = Set.copyOf(newlyActiveUdpPorts);
        firstChangeTimes = Map.copyOf(firstChangeTimes);
        state = state == null ? ProxyState.empty(family) : state;
    }

    public SyncResult(IpFamily family, Kind kind, Instant startedAt, String error, Duration renderTime,
                      Duration restoreTime, int bytesWritten, int filterRules, int natRulesWritten,
                      int natRulesSkipped, int natChainsWritten, int natChainsSkipped, int deletedChains,
                      int services, int endpoints, Set<String> changedServices,
                      List<StaleUdpEndpoint> goneUdpEndpoints, Set<ServicePortName> newlyActiveUdpPorts,
                      Map<String, Instant> firstChangeTimes, ProxyState state, boolean cleanupFailed) {
        this(family, kind, startedAt, error, renderTime, restoreTime, bytesWritten, filterRules, natRulesWritten,
                natRulesSkipped, natChainsWritten, natChainsSkipped, deletedChains, services, endpoints,
                changedServices, goneUdpEndpoints, newlyActiveUdpPorts, firstChangeTimes, state, cleanupFailed, 0);
    }

    public SyncResult(IpFamily family, Kind kind, Instant startedAt, String error, Duration renderTime,
                      Duration restoreTime, int bytesWritten, int filterRules, int natRulesWritten,
                      int natRulesSkipped, int natChainsWritten, int natChainsSkipped, int deletedChains,
                      int services, int endpoints, Set<String> changedServices,
                      List<StaleUdpEndpoint> goneUdpEndpoints, Set<ServicePortName> newlyActiveUdpPorts,
                      Map<String, Instant> firstChangeTimes, ProxyState state) {
        this(family, kind, startedAt, error, renderTime, restoreTime, bytesWritten, filterRules, natRulesWritten,
                natRulesSkipped, natChainsWritten, natChainsSkipped, deletedChains, services, endpoints,
                changedServices, goneUdpEndpoints, newlyActiveUdpPorts, firstChangeTimes, state, false);
    }

    static SyncResult skipped(IpFamily family, Instant now) {
        return new SyncResult(family, Kind.SKIPPED, now, null, Duration.ZERO, Duration.ZERO, 0, 0, 0, 0, 0, 0, 0,
                0, 0, Set.of(), List.of(), Set.of(), Map.of(), null);
    }

    public boolean succeeded() {
        return error == null && kind != Kind.SKIPPED;
    }

    public boolean failed() {
        return error != null;
    }

    /** filter rules in the kernel after a successful sync (sync_proxy_rules_iptables_total{table="filter"}). */
    public int filterRulesTotal() {
        return filterRules + filterRulesSkipped;
    }

    /** nat rules in the kernel after a successful sync, as kube-proxy's sync_proxy_rules_iptables_total counts. */
    public int natRulesTotal() {
        return natRulesWritten + natRulesSkipped - deletedChains;
    }
}
