package dev.railyard.proxy.render;

import dev.railyard.proxy.model.Cidr;
import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import static dev.railyard.proxy.render.Chains.EXTERNAL_PREFIX;
import static dev.railyard.proxy.render.Chains.EXTERNAL_SERVICES;
import static dev.railyard.proxy.render.Chains.FIREWALL_PREFIX;
import static dev.railyard.proxy.render.Chains.FORWARD;
import static dev.railyard.proxy.render.Chains.KUBELET_FIREWALL;
import static dev.railyard.proxy.render.Chains.MARK_MASQ;
import static dev.railyard.proxy.render.Chains.NODE_PORTS;
import static dev.railyard.proxy.render.Chains.POSTROUTING;
import static dev.railyard.proxy.render.Chains.PROXY_FIREWALL;
import static dev.railyard.proxy.render.Chains.SERVICES;
import static dev.railyard.proxy.render.Chains.SERVICE_LOCAL_PREFIX;
import static dev.railyard.proxy.render.Chains.SERVICE_PREFIX;

/**
 * Renders the whole desired state of one IP family as iptables-restore input for the filter and nat tables,
 * with the chains, rules and order of kube-proxy's iptables mode, so the result can be diffed against it.
 *
 * <p>One instance per IP family, used by one thread: its buffers are reused by every render, which is what
 * keeps a render of a large cluster free of allocation. The returned buffer is valid until the next render.
 *
 * <p>A partial render ({@link #renderPartial}) is kube-proxy's MinimizeIPTablesRestore: the top-level chains
 * (KUBE-SERVICES, KUBE-NODEPORTS, KUBE-EXTERNAL-SERVICES, the filter chains...) are always written whole, since
 * every service has rules in them, but the per-service nat chains (SVC, SVL, EXT, FW, SEP) of services that did
 * not change are rendered into discarding buffers: counted, not written, and so left as they are in the kernel
 * by {@code iptables-restore --noflush}.
 *
 * <p>A tracking render remembers what it wrote for each service port ({@link RenderedService}). When a partial
 * render follows an applied one (the caller passes back {@link #activeNatChains()}), unchanged services are not
 * rendered again but copied from that memory, the set of chains in use is updated rather than rebuilt, and when
 * the changed services' lines in the top-level chains are the same as before (an endpoint replaced, the common
 * case) the top-level chains are left out of the output altogether: the kernel already has them. Both keep a
 * partial sync of a 10,000-service cluster to a few milliseconds and a few kilobytes.
 */
public final class IptablesRenderer {
    /** Above this many endpoints kube-proxy drops per-endpoint comments to keep the ruleset small. */
    public static final int LARGE_CLUSTER_ENDPOINTS_THRESHOLD = 1000;

    /** nfacct counter names, which kube-proxy's metrics read. */
    public static final String INVALID_DROPPED_COUNTER = "ct_state_invalid_dropped_pkts";
    public static final String LOCALHOST_NODEPORT_COUNTER = "localhost_nps_accepted_pkts";

    private static final String HAS_NO_ENDPOINTS = " has no endpoints";
    private static final String HAS_NO_LOCAL_ENDPOINTS = " has no local endpoints";

    private final RenderConfig config;
    private final boolean ipv6;
    private final String maskedMark;
    private final List<String> nodePortIps;
    private final Probabilities probabilities = new Probabilities();
    private final EndpointSelection selection = new EndpointSelection();
    /** The zone of the state being rendered, for topology hints. */
    private String zone = "";

    private final LineBuffer filterChains = new LineBuffer(1 << 10);
    private final LineBuffer filterRules = new LineBuffer(1 << 16);
    private final LineBuffer natChains = new LineBuffer(1 << 16);
    private final LineBuffer natRules = new LineBuffer(1 << 16);
    private final LineBuffer output = new LineBuffer(1 << 16);
    /** Where the per-service chains of unchanged services go in a partial render. */
    private final LineBuffer skippedNatChains = LineBuffer.discarding();
    private final LineBuffer skippedNatRules = LineBuffer.discarding();
    /** The current service's chain declarations and rules: the nat buffers, or the skipped ones. */
    private LineBuffer serviceChains = natChains;
    private LineBuffer serviceRules = natRules;

    /** Per-service chains the last tracking render declared or skipped; a new set per render, never mutated after. */
    private Set<String> activeNatChains = Set.of();
    /**
     * What the last tracking render wrote per service port, in the state's order (sorted by name), so that the
     * next render finds each service's previous rendering by walking both in step rather than by a hash lookup
     * per service, which was most of a partial render's time at 10,000 services. Empty after a plain render.
     */
    private RenderedService[] rendered = new RenderedService[0];
    /** The array before last, emptied, for the next render to fill when the service count stays the same. */
    private RenderedService[] spareRendered = new RenderedService[0];
    /** Chains declared by the service being rendered (tracking renders only). */
    private final List<String> serviceChainNames = new ArrayList<>();
    /** Where the current service's top-level nat rules end and its per-service chain rules begin. */
    private int natTopEnd;
    private int natTopEndLines;
    /** Partial renders: the per-service chain rules of rewritten services in natRules, as (from, to, lines). */
    private int[] rewrittenRanges = new int[48];
    private int rewrittenRangeCount;
    /** Line counts of what the last render wrote, and of what it computed but left out. */
    private int writtenFilterRules;
    private int writtenNatRules;
    private int writtenNatChains;
    private int copiedNatRules;
    private int copiedNatChains;
    private int omittedNatRules;
    private int omittedNatChains;
    /** The primary node IP's bits, for source ranges that hold it; null without a node IP of this family. */
    private final byte[] nodeIp;
    private boolean trackActiveChains;
    private boolean largeClusterMode;
    private int deletedChains;

    public IptablesRenderer(RenderConfig config) {
        this.config = config;
        this.ipv6 = config.family() == IpFamily.V6;
        this.maskedMark = config.masqueradeMark() + "/" + config.masqueradeMark();
        this.nodePortIps = config.nodePortsOnAllAddresses() ? List.of() : config.nodePortIps();
        this.nodeIp = config.nodeIps().isEmpty() ? null : IpAddresses.parse(config.nodeIps().get(0)).getBytes();
    }

    public RenderConfig config() {
        return config;
    }

    /** Renders every chain and rule for {@code state}; the result is valid until the next call. */
    public LineBuffer render(ProxyState state) {
        return render(state, null, List.of(), false);
    }

    /**
     * Renders every chain and rule for {@code state}, and deletes those of {@code existingNatChains} that are
     * per-service chains no longer in use (the caller lists the nat table's chains, e.g. from iptables-save, or
     * remembers {@link #activeNatChains()} of the last render it applied).
     */
    public LineBuffer render(ProxyState state, Collection<String> existingNatChains) {
        return render(state, null, existingNatChains, true);
    }

    /**
     * Renders the top-level chains whole but the per-service nat chains only of the services in
     * {@code changedServiceKeys} ("namespace/name"); to be restored with {@code --noflush} on top of the ruleset
     * of the last successful render, which must have used the same large-cluster mode
     * ({@link #isLargeCluster}), since that mode changes the rules of every service. Per-service chains in
     * {@code existingNatChains} that no service uses any more are deleted, as in a full render. With every
     * service marked changed the output is that of {@link #render(ProxyState, Collection)}.
     *
     * <p>When {@code existingNatChains} is the very set {@link #activeNatChains()} returned after this renderer's
     * previous tracking render, that render is taken to be what the kernel holds (a caller passes it back only
     * after applying it): unchanged services are then copied from it, and when no service's lines in the
     * top-level chains differ from it, the top-level chains and the filter table are left out of the output.
     */
    public LineBuffer renderPartial(ProxyState state, Set<String> changedServiceKeys,
                                    Collection<String> existingNatChains) {
        return render(state, Objects.requireNonNull(changedServiceKeys, "changedServiceKeys"), existingNatChains,
                true);
    }

    /** Whether kube-proxy's large-cluster mode (no per-endpoint comments) applies to {@code state}. */
    public static boolean isLargeCluster(ProxyState state) {
        return state.endpointCount() > LARGE_CLUSTER_ENDPOINTS_THRESHOLD;
    }

    /** @param changedServiceKeys null for a full render */
    private LineBuffer render(ProxyState state, Set<String> changedServiceKeys, Collection<String> existingNatChains,
                              boolean trackChains) {
        if (state.family() != config.family()) {
            throw new IllegalArgumentException("state is " + state.family() + " but renderer is " + config.family());
        }
        zone = state.zone();
        filterChains.reset();
        filterRules.reset();
        natChains.reset();
        natRules.reset();
        skippedNatChains.reset();
        skippedNatRules.reset();
        rewrittenRangeCount = 0;
        copiedNatRules = 0;
        copiedNatChains = 0;
        deletedChains = 0;
        trackActiveChains = trackChains;
        Set<String> previousActive = activeNatChains;
        // The previous render was applied and nothing else changed the chains: it can stand in for the kernel.
        boolean incremental = changedServiceKeys != null && previousActive instanceof ChainSet
                && existingNatChains == previousActive;
        RenderedService[] before = rendered;
        int beforeCount = trackChains ? before.length : 0;
        int beforeNext = 0;
        int count = trackChains ? state.entries().size() : 0;
        RenderedService[] after = spareRendered.length == count ? spareRendered : new RenderedService[count];
        writeTopLevelChains();
        int natTopChainsEnd = natChains.length();
        int natTopChainLines = natChains.lines();
        largeClusterMode = isLargeCluster(state);

        List<String> come = new ArrayList<>();
        List<String> gone = new ArrayList<>();
        Set<String> all = trackChains && !incremental ? new HashSet<>() : null;
        boolean topLevelChanged = !incremental;
        boolean anyGone = false;
        List<ProxyState.Entry> entries = state.entries();
        for (int i = 0, n = entries.size(); i < n; i++) {
            ProxyState.Entry entry = entries.get(i);
            ServicePort svc = entry.service();
            if (!trackChains) {
                serviceChains = natChains;
                serviceRules = natRules;
                writeService(svc, entry.endpoints());
                continue;
            }
            boolean rewrite = changedServiceKeys == null || changedServiceKeys.contains(svc.name().serviceKey());
            RenderedService previous = null;
            // Both lists are sorted by name: what comes before this service in the previous one is gone.
            while (beforeNext < beforeCount) {
                RenderedService candidate = before[beforeNext];
                int order = candidate.service.name().compareTo(svc.name());
                if (order > 0) {
                    break;
                }
                beforeNext++;
                if (order == 0) {
                    previous = candidate;
                    break;
                }
                Collections.addAll(gone, candidate.chains);
                anyGone = true;
            }
            if (incremental && !rewrite) {
                if (previous != null && previous.renders(svc, entry.endpoints(), largeClusterMode)) {
                    copy(previous);
                    after[i] = previous;
                    continue;
                }
                // Not announced as changed, yet not what the kernel has: write it rather than trust the caller.
                rewrite = true;
            }
            RenderedService current = renderTracked(svc, entry.endpoints(), rewrite, incremental);
            after[i] = current;
            if (incremental) {
                topLevelChanged |= previous == null || !previous.sameTopLevelLines(current);
                diffChains(previous, current, come, gone);
            } else {
                Collections.addAll(all, current.chains);
            }
        }
        serviceChains = natChains;
        serviceRules = natRules;
        selection.clear();
        for (; beforeNext < beforeCount; beforeNext++) {
            Collections.addAll(gone, before[beforeNext].chains);
            anyGone = true;
        }
        topLevelChanged |= anyGone;
        Arrays.fill(before, null);
        spareRendered = before;
        rendered = after;
        int staleFrom = natRules.length();
        int staleFromLines = natRules.lines();
        if (trackChains) {
            ChainSet active = incremental ? ((ChainSet) previousActive).with(come, gone) : ChainSet.wrap(all);
            // Incrementally, the chains in use before are the existing ones, so only those that went can be stale.
            deleteStaleChains(incremental ? gone : existingNatChains, active);
            activeNatChains = active;
        } else {
            activeNatChains = Set.of();
        }
        int staleTo = natRules.length();
        int staleLines = natRules.lines() - staleFromLines;
        writeNodePortsJump();
        writeForwardRules();

        output.reset();
        if (incremental && !topLevelChanged) {
            writeWithoutTopLevel(natTopChainsEnd, natTopChainLines, staleFrom, staleTo, staleLines);
            return output;
        }
        return writeWhole();
    }

    /** Renders one service and remembers what it wrote; its chains go to the output only if {@code rewrite}. */
    private RenderedService renderTracked(ServicePort svc, List<Endpoint> endpoints, boolean rewrite,
                                          boolean recordRange) {
        serviceChains = rewrite ? natChains : skippedNatChains;
        serviceRules = rewrite ? natRules : skippedNatRules;
        int natFrom = natRules.length();
        int natFromLines = natRules.lines();
        int filterFrom = filterRules.length();
        int filterFromLines = filterRules.lines();
        int serviceRulesFromLines = serviceRules.lines();
        serviceChainNames.clear();
        writeService(svc, endpoints);
        int topLines = natTopEndLines - natFromLines;
        int chainRuleLines = serviceRules.lines() - serviceRulesFromLines - (rewrite ? topLines : 0);
        if (rewrite && recordRange) {
            recordRewrittenRange(natTopEnd, natRules.length(), natRules.lines() - natTopEndLines);
        }
        return new RenderedService(svc, endpoints, largeClusterMode,
                natRules.copyOfRange(natFrom, natTopEnd), topLines,
                filterRules.copyOfRange(filterFrom, filterRules.length()),
                filterRules.lines() - filterFromLines, serviceChainNames.toArray(new String[0]), chainRuleLines);
    }

    /** An unchanged service: its top-level lines as last time, its chains left as they are in the kernel. */
    private void copy(RenderedService previous) {
        natRules.append(previous.natTop, 0, previous.natTop.length, previous.natTopLines);
        filterRules.append(previous.filterTop, 0, previous.filterTop.length, previous.filterTopLines);
        copiedNatRules += previous.chainRuleLines;
        copiedNatChains += previous.chains.length;
    }

    private static void diffChains(RenderedService previous, RenderedService current, List<String> come,
                                   List<String> gone) {
        List<String> before = previous == null ? List.of() : Arrays.asList(previous.chains);
        List<String> after = Arrays.asList(current.chains);
        for (String chain : after) {
            if (!before.contains(chain)) {
                come.add(chain);
            }
        }
        for (String chain : before) {
            if (!after.contains(chain)) {
                gone.add(chain);
            }
        }
    }

    private void recordRewrittenRange(int from, int to, int lines) {
        if (rewrittenRangeCount * 3 + 3 > rewrittenRanges.length) {
            rewrittenRanges = Arrays.copyOf(rewrittenRanges, rewrittenRanges.length * 2);
        }
        rewrittenRanges[rewrittenRangeCount * 3] = from;
        rewrittenRanges[rewrittenRangeCount * 3 + 1] = to;
        rewrittenRanges[rewrittenRangeCount * 3 + 2] = lines;
        rewrittenRangeCount++;
    }

    /**
     * Everything, joined in natRules' own segments: the nat rules are nearly all of a large ruleset (39 of 41 MB
     * at 10,000 services), and copying them into a separate output buffer kept a second copy on the heap.
     */
    private LineBuffer writeWhole() {
        writtenFilterRules = filterRules.lines();
        writtenNatRules = natRules.lines();
        writtenNatChains = natChains.lines();
        omittedNatRules = 0;
        omittedNatChains = 0;
        output.raw("*filter");
        output.end();
        output.append(filterChains);
        output.append(filterRules);
        output.raw("COMMIT");
        output.end();
        output.raw("*nat");
        output.end();
        output.append(natChains);
        natRules.prepend(output);
        natRules.raw("COMMIT");
        natRules.end();
        return natRules;
    }

    /**
     * Only the rewritten services' chains and the deletions: every top-level chain would be written exactly as the
     * kernel has it, and with --noflush a chain the input does not declare is left alone.
     */
    private void writeWithoutTopLevel(int natTopChainsEnd, int natTopChainLines, int staleFrom, int staleTo,
                                      int staleLines) {
        output.raw("*nat");
        output.end();
        output.append(natChains, natTopChainsEnd, natChains.length(), natChains.lines() - natTopChainLines);
        int rules = 0;
        for (int r = 0; r < rewrittenRangeCount; r++) {
            int lines = rewrittenRanges[r * 3 + 2];
            output.append(natRules, rewrittenRanges[r * 3], rewrittenRanges[r * 3 + 1], lines);
            rules += lines;
        }
        output.append(natRules, staleFrom, staleTo, staleLines);
        rules += staleLines;
        output.raw("COMMIT");
        output.end();
        writtenFilterRules = 0;
        writtenNatRules = rules;
        writtenNatChains = natChains.lines() - natTopChainLines;
        omittedNatRules = natRules.lines() - rules;
        omittedNatChains = natTopChainLines;
    }

    /**
     * Lets go of the output buffers' memory once the last render's output has been applied. A daemon calls it
     * after each full sync: a full render of a large cluster is tens of megabytes that would otherwise stay on the
     * heap until the next full sync, while the partial renders in between need a few megabytes (the top-level lines
     * they copy), which are better kept than allocated again each time. Its remembered per-service lines and chain
     * names stay.
     */
    public void releaseBuffers() {
        filterRules.release();
        natChains.release();
        natRules.release();
        output.release();
    }

    /**
     * The per-service nat chains the last {@link #render(ProxyState, Collection)} or {@link #renderPartial} uses,
     * whether written or skipped: what a later render is to be told exists. Immutable; empty after
     * {@link #render(ProxyState)}, which does not track them.
     */
    public Set<String> activeNatChains() {
        return activeNatChains;
    }

    /**
     * nat rules the last (partial) render left out: those of unchanged services, and the top-level ones when the
     * kernel already had them. Written plus skipped is what a full render writes.
     */
    public int skippedNatRuleCount() {
        return skippedNatRules.lines() + copiedNatRules + omittedNatRules;
    }

    /** nat chains the last (partial) render did not declare; written plus skipped is what a full render declares. */
    public int skippedNatChainCount() {
        return skippedNatChains.lines() + copiedNatChains + omittedNatChains;
    }

    /** Rules (not chain declarations) in the filter table written by the last render. */
    public int filterRuleCount() {
        return writtenFilterRules;
    }

    /** filter rules the last (partial) render left out, as the kernel already has them. */
    public int skippedFilterRuleCount() {
        return filterRules.lines() - writtenFilterRules;
    }

    /** Rules (not chain declarations) in the nat table written by the last render. */
    public int natRuleCount() {
        return writtenNatRules;
    }

    /** Stale per-service chains the last render deleted. */
    public int deletedChainCount() {
        return deletedChains;
    }

    /** Chains declared in the nat table by the last render. */
    public int natChainCount() {
        return writtenNatChains;
    }

    private void writeTopLevelChains() {
        filterChains.chainLine(SERVICES);
        filterChains.chainLine(EXTERNAL_SERVICES);
        filterChains.chainLine(FORWARD);
        filterChains.chainLine(NODE_PORTS);
        filterChains.chainLine(PROXY_FIREWALL);
        natChains.chainLine(SERVICES);
        natChains.chainLine(NODE_PORTS);
        natChains.chainLine(POSTROUTING);
        natChains.chainLine(MARK_MASQ);

        // A whole chain for masquerading makes it easy to flush and change, e.g. if the mark changes.
        natRules.word("-A").word(POSTROUTING).word("-m").word("mark").word("!").word("--mark").word(maskedMark)
                .word("-j").word("RETURN").end();
        // Clear the mark so a packet that re-traverses the stack is not masqueraded twice.
        natRules.word("-A").word(POSTROUTING).word("-j").word("MARK").word("--xor-mark")
                .word(config.masqueradeMark()).end();
        natRules.word("-A").word(POSTROUTING).word("-m").word("comment").word("--comment")
                .word("\"kubernetes service traffic requiring SNAT\"").word("-j").word("MASQUERADE");
        if (config.randomFully()) {
            natRules.word("--random-fully");
        }
        natRules.end();
        natRules.word("-A").word(MARK_MASQ).word("-j").word("MARK").word("--or-mark").word(config.masqueradeMark())
                .end();

        if (config.localhostNodePorts()) {
            // route_localnet, which localhost NodePorts need, lets martian packets to 127/8 in; this closes that
            // hole the same way kubelet does (https://issue.k8s.io/90259).
            filterChains.chainLine(KUBELET_FIREWALL);
            filterRules.word("-A").word(KUBELET_FIREWALL).word("-m").word("comment").word("--comment")
                    .word("\"block incoming localnet connections\"").word("-d").word("127.0.0.0/8")
                    .word("!").word("-s").word("127.0.0.0/8").word("-m").word("conntrack")
                    .word("!").word("--ctstate").word("RELATED,ESTABLISHED,DNAT").word("-j").word("DROP").end();
        }
    }

    private void writeService(ServicePort svc, List<Endpoint> endpoints) {
        String protocol = svc.protocol().lowerCase();
        String name = svc.name().toString();
        String hash = svc.name().hash();

        selection.select(svc, endpoints, config.nodeName(), zone, config.preferSameTrafficDistribution());
        boolean hasEndpoints = selection.hasAnyEndpoints();
        boolean usesClusterPolicyChain = selection.clusterCount() > 0 && svc.usesClusterEndpoints();
        boolean usesLocalPolicyChain = selection.localCount() > 0 && svc.usesLocalEndpoints();

        String internalPolicyPrefix = SERVICE_PREFIX;
        boolean hasInternalEndpoints = hasEndpoints;
        if (svc.internalPolicyLocal()) {
            internalPolicyPrefix = SERVICE_LOCAL_PREFIX;
            hasInternalEndpoints = selection.localCount() > 0;
        }
        String externalPolicyPrefix = SERVICE_PREFIX;
        boolean hasExternalEndpoints = hasEndpoints;
        if (svc.externalPolicyLocal()) {
            externalPolicyPrefix = SERVICE_LOCAL_PREFIX;
            hasExternalEndpoints = selection.localCount() > 0;
        }
        // The EXT chain is needed even without externally usable endpoints, for the short-circuit rules that
        // let local traffic reach the service.
        boolean usesExternalTrafficChain = hasEndpoints && svc.externallyAccessible();
        boolean usesFirewallChain = hasEndpoints && svc.restrictsLoadBalancerSources();
        String loadBalancerTrafficPrefix = usesFirewallChain ? FIREWALL_PREFIX : EXTERNAL_PREFIX;

        // Where the filter table must turn traffic away, and what it says about it.
        String internalFilterTarget = null;
        String internalFilterReason = null;
        String externalFilterTarget = null;
        String externalFilterReason = null;
        if (!hasEndpoints) {
            internalFilterTarget = "REJECT";
            internalFilterReason = HAS_NO_ENDPOINTS;
            externalFilterTarget = "REJECT";
            externalFilterReason = HAS_NO_ENDPOINTS;
        } else {
            if (!hasInternalEndpoints) {
                internalFilterTarget = "DROP";
                internalFilterReason = HAS_NO_LOCAL_ENDPOINTS;
            }
            if (!hasExternalEndpoints) {
                externalFilterTarget = "DROP";
                externalFilterReason = HAS_NO_LOCAL_ENDPOINTS;
            }
        }

        // Capture the cluster IP.
        if (hasInternalEndpoints) {
            natRules.word("-A").word(SERVICES);
            comment(natRules, name, " cluster IP");
            match(natRules, protocol, svc.clusterIp(), svc.port());
            natRules.word("-j").word(internalPolicyPrefix, hash).end();
        } else {
            filterRules.word("-A").word(SERVICES);
            comment(filterRules, name, internalFilterReason);
            match(filterRules, protocol, svc.clusterIp(), svc.port());
            filterRules.word("-j").word(internalFilterTarget).end();
        }

        // Capture external IPs.
        List<String> externalIps = svc.externalIps();
        for (int i = 0, n = externalIps.size(); i < n; i++) {
            String externalIp = externalIps.get(i);
            if (hasEndpoints) {
                natRules.word("-A").word(SERVICES);
                comment(natRules, name, " external IP");
                match(natRules, protocol, externalIp, svc.port());
                natRules.word("-j").word(EXTERNAL_PREFIX, hash).end();
            }
            if (!hasExternalEndpoints) {
                // No endpoints at all (REJECT), or none for external traffic (DROP what the EXT chain did not
                // short-circuit).
                filterRules.word("-A").word(EXTERNAL_SERVICES);
                comment(filterRules, name, externalFilterReason);
                match(filterRules, protocol, externalIp, svc.port());
                filterRules.word("-j").word(externalFilterTarget).end();
            }
        }

        // Capture load-balancer ingress.
        List<String> loadBalancerIps = svc.loadBalancerIps();
        for (int i = 0, n = loadBalancerIps.size(); i < n; i++) {
            String lbIp = loadBalancerIps.get(i);
            if (hasEndpoints) {
                natRules.word("-A").word(SERVICES);
                comment(natRules, name, " loadbalancer IP");
                match(natRules, protocol, lbIp, svc.port());
                natRules.word("-j").word(loadBalancerTrafficPrefix, hash).end();
            }
            if (usesFirewallChain) {
                filterRules.word("-A").word(PROXY_FIREWALL).word("-m").word("comment").word("--comment")
                        .word("\"").raw(name).raw(" traffic not accepted by ").raw(FIREWALL_PREFIX).raw(hash).raw("\"");
                match(filterRules, protocol, lbIp, svc.port());
                filterRules.word("-j").word("DROP").end();
            }
        }
        if (!hasExternalEndpoints) {
            for (int i = 0, n = loadBalancerIps.size(); i < n; i++) {
                filterRules.word("-A").word(EXTERNAL_SERVICES);
                comment(filterRules, name, externalFilterReason);
                match(filterRules, protocol, loadBalancerIps.get(i), svc.port());
                filterRules.word("-j").word(externalFilterTarget).end();
            }
        }

        // Capture node ports. They are not subject to loadBalancerSourceRanges, for better or worse.
        if (svc.nodePort() != 0) {
            if (hasEndpoints) {
                if (config.localhostNodePorts() && config.nfacctCounters()) {
                    natRules.word("-A").word(NODE_PORTS).word("-m").word("comment").word("--comment").word(name)
                            .word("-m").word(protocol).word("-p").word(protocol).word("-d").word("127.0.0.0/8")
                            .word("--dport").word(svc.nodePort()).word("-m").word("nfacct").word("--nfacct-name")
                            .word(LOCALHOST_NODEPORT_COUNTER).word("-j").word(EXTERNAL_PREFIX, hash).end();
                }
                natRules.word("-A").word(NODE_PORTS).word("-m").word("comment").word("--comment").word(name)
                        .word("-m").word(protocol).word("-p").word(protocol).word("--dport").word(svc.nodePort())
                        .word("-j").word(EXTERNAL_PREFIX, hash).end();
            }
            if (!hasExternalEndpoints) {
                filterRules.word("-A").word(EXTERNAL_SERVICES);
                comment(filterRules, name, externalFilterReason);
                filterRules.word("-m").word("addrtype").word("--dst-type").word("LOCAL")
                        .word("-m").word(protocol).word("-p").word(protocol).word("--dport").word(svc.nodePort())
                        .word("-j").word(externalFilterTarget).end();
            }
        }

        // The health check node port must accept connections whether or not there are local endpoints.
        if (svc.healthCheckNodePort() != 0) {
            filterRules.word("-A").word(NODE_PORTS);
            comment(filterRules, name, " health check node port");
            filterRules.word("-m").word("tcp").word("-p").word("tcp").word("--dport").word(svc.healthCheckNodePort())
                    .word("-j").word("ACCEPT").end();
        }

        // The service's top-level lines end here; what follows goes to its own chains.
        natTopEnd = natRules.length();
        natTopEndLines = natRules.lines();

        // Internal traffic from outside the pod network (or all of it, with --masquerade-all) is masqueraded:
        // a static route for the service range to any node then works, though the node may bounce it off-node.
        if (hasInternalEndpoints) {
            if (config.masqueradeAll()) {
                serviceRules.word("-A").word(internalPolicyPrefix, hash);
                comment(serviceRules, name, " cluster IP");
                match(serviceRules, protocol, svc.clusterIp(), svc.port());
                serviceRules.word("-j").word(MARK_MASQ).end();
            } else if (config.localDetector().implemented()) {
                serviceRules.word("-A").word(internalPolicyPrefix, hash);
                comment(serviceRules, name, " cluster IP");
                match(serviceRules, protocol, svc.clusterIp(), svc.port());
                words(serviceRules, config.localDetector().ifNotLocal()).word("-j").word(MARK_MASQ).end();
            }
        }

        if (usesExternalTrafficChain) {
            writeExternalChain(svc, name, hash, externalPolicyPrefix, hasExternalEndpoints);
        }
        if (usesFirewallChain) {
            writeFirewallChain(svc, name, hash);
        }
        if (usesClusterPolicyChain) {
            declareNatChain(SERVICE_PREFIX, hash);
            writeServiceToEndpointRules(svc, name, SERVICE_PREFIX, hash, true);
        }
        if (usesLocalPolicyChain) {
            declareNatChain(SERVICE_LOCAL_PREFIX, hash);
            writeServiceToEndpointRules(svc, name, SERVICE_LOCAL_PREFIX, hash, false);
        }
        for (int i = 0, n = selection.reachableCount(); i < n; i++) {
            writeEndpointChain(svc, name, protocol, selection.reachable(i));
        }
    }

    private void declareNatChain(String prefix, String hash) {
        serviceChains.chainLine(prefix, hash);
        if (trackActiveChains) {
            serviceChainNames.add(prefix + hash);
        }
    }

    /** An endpoint's chain; the set of chains in use shares the endpoint's name string instead of a copy. */
    private void declareNatChain(String chain) {
        serviceChains.chainLine(chain);
        if (trackActiveChains) {
            serviceChainNames.add(chain);
        }
    }

    /** A chain line flushes the chain, after which -X can delete it. */
    private void deleteStaleChains(Collection<String> existingNatChains, Set<String> active) {
        List<String> stale = new ArrayList<>();
        for (String chain : existingNatChains) {
            if (Chains.isServiceChain(chain) && !active.contains(chain)) {
                stale.add(chain);
            }
        }
        Collections.sort(stale);
        for (String chain : stale) {
            natChains.chainLine(chain);
            natRules.word("-X").word(chain).end();
        }
        deletedChains = stale.size();
    }

    private void writeExternalChain(ServicePort svc, String name, String hash, String externalPolicyPrefix,
                                    boolean hasExternalEndpoints) {
        declareNatChain(EXTERNAL_PREFIX, hash);
        if (!svc.externalPolicyLocal()) {
            // Endpoints may be on other nodes, so the reply must come back through this one.
            serviceRules.word("-A").word(EXTERNAL_PREFIX, hash);
            comment(serviceRules, "masquerade traffic for ", name, " external destinations");
            serviceRules.word("-j").word(MARK_MASQ).end();
        } else {
            if (config.localDetector().implemented()) {
                // Pod traffic to an external address is subject to neither policy, as if it had gone out to
                // the load balancer and come back.
                serviceRules.word("-A").word(EXTERNAL_PREFIX, hash);
                comment(serviceRules, "pod traffic for ", name, " external destinations");
                words(serviceRules, config.localDetector().ifLocal()).word("-j").word(SERVICE_PREFIX, hash).end();
            }
            // Traffic from the node itself has a local source address, which must be masqueraded, and may go
            // to any endpoint.
            serviceRules.word("-A").word(EXTERNAL_PREFIX, hash);
            comment(serviceRules, "masquerade LOCAL traffic for ", name, " external destinations");
            serviceRules.word("-m").word("addrtype").word("--src-type").word("LOCAL").word("-j").word(MARK_MASQ).end();
            serviceRules.word("-A").word(EXTERNAL_PREFIX, hash);
            comment(serviceRules, "route LOCAL traffic for ", name, " external destinations");
            serviceRules.word("-m").word("addrtype").word("--src-type").word("LOCAL")
                    .word("-j").word(SERVICE_PREFIX, hash).end();
        }
        if (hasExternalEndpoints) {
            serviceRules.word("-A").word(EXTERNAL_PREFIX, hash).word("-j").word(externalPolicyPrefix, hash).end();
        }
    }

    private void writeFirewallChain(ServicePort svc, String name, String hash) {
        declareNatChain(FIREWALL_PREFIX, hash);
        // Source ranges only work for VIP-like load balancers that preserve the client address.
        boolean allowFromNode = false;
        List<Cidr> ranges = svc.loadBalancerSourceRanges();
        for (int i = 0, n = ranges.size(); i < n; i++) {
            Cidr range = ranges.get(i);
            serviceRules.word("-A").word(FIREWALL_PREFIX, hash);
            comment(serviceRules, name, " loadbalancer IP");
            serviceRules.word("-s").word(range.toString()).word("-j").word(EXTERNAL_PREFIX, hash).end();
            if (nodeIp != null && range.contains(nodeIp)) {
                allowFromNode = true;
            }
        }
        // A VIP is often a local address of the node, so the node's own requests arrive from the VIP.
        if (allowFromNode) {
            List<String> lbIps = svc.loadBalancerIps();
            for (int i = 0, n = lbIps.size(); i < n; i++) {
                serviceRules.word("-A").word(FIREWALL_PREFIX, hash);
                comment(serviceRules, name, " loadbalancer IP");
                serviceRules.word("-s").word(lbIps.get(i)).word("-j").word(EXTERNAL_PREFIX, hash).end();
            }
        }
        // Whatever falls through was not DNATed, so KUBE-PROXY-FIREWALL drops it in the filter table.
        serviceRules.word("-A").word(FIREWALL_PREFIX, hash);
        comment(serviceRules, "other traffic to ", name, " will be dropped by KUBE-PROXY-FIREWALL");
        serviceRules.end();
    }

    private void writeServiceToEndpointRules(ServicePort svc, String name, String chainPrefix, String hash,
                                             boolean clusterPolicy) {
        int count = clusterPolicy ? selection.clusterCount() : selection.localCount();
        if (svc.clientIpAffinity()) {
            for (int i = 0; i < count; i++) {
                Endpoint ep = clusterPolicy ? selection.cluster(i) : selection.local(i);
                serviceRules.word("-A").word(chainPrefix, hash);
                endpointComment(name, ep);
                serviceRules.word("-m").word("recent").word("--name").word(ep.chainName())
                        .word("--rcheck").word("--seconds").word(svc.affinityTimeoutSeconds()).word("--reap")
                        .word("-j").word(ep.chainName()).end();
            }
        }
        for (int i = 0; i < count; i++) {
            Endpoint ep = clusterPolicy ? selection.cluster(i) : selection.local(i);
            serviceRules.word("-A").word(chainPrefix, hash);
            endpointComment(name, ep);
            if (i < count - 1) {
                // Each rule but the last is a random match with the probability that spreads load evenly.
                serviceRules.word("-m").word("statistic").word("--mode").word("random")
                        .word("--probability").word(probabilities.of(count - i));
            }
            serviceRules.word("-j").word(ep.chainName()).end();
        }
    }

    private void writeEndpointChain(ServicePort svc, String name, String protocol, Endpoint ep) {
        declareNatChain(ep.chainName());
        // Traffic that loops back to its own origin must be masqueraded or the reply would bypass the DNAT.
        serviceRules.word("-A").word(ep.chainName());
        serviceComment(name);
        serviceRules.word("-s").word(ep.ip()).word("-j").word(MARK_MASQ).end();
        serviceRules.word("-A").word(ep.chainName());
        serviceComment(name);
        if (svc.clientIpAffinity()) {
            serviceRules.word("-m").word("recent").word("--name").word(ep.chainName()).word("--set");
        }
        serviceRules.word("-m").word(protocol).word("-p").word(protocol).word("-j").word("DNAT")
                .word("--to-destination");
        hostPort(serviceRules.word(""), ep).end();
    }

    /** The jump to KUBE-NODEPORTS, which must be the last rule of KUBE-SERVICES. */
    private void writeNodePortsJump() {
        if (config.nodePortsOnAllAddresses()) {
            natRules.word("-A").word(SERVICES).word("-m").word("comment").word("--comment")
                    .word("\"kubernetes service nodeports; NOTE: this must be the last rule in this chain\"")
                    .word("-m").word("addrtype").word("--dst-type").word("LOCAL");
            // Localhost NodePorts never work in IPv6, and in IPv4 only with route_localnet.
            if (ipv6) {
                natRules.word("!").word("-d").word("::1/128");
            } else if (!config.localhostNodePorts()) {
                natRules.word("!").word("-d").word("127.0.0.0/8");
            }
            natRules.word("-j").word(NODE_PORTS).end();
            return;
        }
        for (int i = 0, n = nodePortIps.size(); i < n; i++) {
            String ip = nodePortIps.get(i);
            boolean loopback = ip.equals("::1") || ip.startsWith("127.");
            if (loopback && (ipv6 || !config.localhostNodePorts())) {
                continue;
            }
            natRules.word("-A").word(SERVICES).word("-m").word("comment").word("--comment")
                    .word("\"kubernetes service nodeports; NOTE: this must be the last rule in this chain\"")
                    .word("-d").word(ip).word("-j").word(NODE_PORTS).end();
        }
    }

    private void writeForwardRules() {
        if (!config.conntrackTcpBeLiberal()) {
            // INVALID packets would otherwise reach pods un-NATed and provoke resets
            // (kubernetes issues 74839 and 117924).
            filterRules.word("-A").word(FORWARD).word("-m").word("conntrack").word("--ctstate").word("INVALID");
            if (config.nfacctCounters()) {
                filterRules.word("-m").word("nfacct").word("--nfacct-name").word(INVALID_DROPPED_COUNTER);
            }
            filterRules.word("-j").word("DROP").end();
        }
        // Forward what was marked for masquerading even when FORWARD's policy is not ACCEPT, and its replies.
        filterRules.word("-A").word(FORWARD).word("-m").word("comment").word("--comment")
                .word("\"kubernetes forwarding rules\"").word("-m").word("mark").word("--mark").word(maskedMark)
                .word("-j").word("ACCEPT").end();
        filterRules.word("-A").word(FORWARD).word("-m").word("comment").word("--comment")
                .word("\"kubernetes forwarding conntrack rule\"").word("-m").word("conntrack").word("--ctstate")
                .word("RELATED,ESTABLISHED").word("-j").word("ACCEPT").end();
    }

    private static LineBuffer words(LineBuffer rules, List<String> words) {
        for (int i = 0, n = words.size(); i < n; i++) {
            rules.word(words.get(i));
        }
        return rules;
    }

    private static void match(LineBuffer rules, String protocol, String destination, int port) {
        rules.word("-m").word(protocol).word("-p").word(protocol).word("-d").word(destination)
                .word("--dport").word(port);
    }

    /** -m comment --comment "NAME SUFFIX". */
    private static void comment(LineBuffer rules, String name, String suffix) {
        rules.word("-m").word("comment").word("--comment").word("\"").raw(name).raw(suffix).raw("\"");
    }

    /** -m comment --comment "PREFIX NAME SUFFIX". */
    private static void comment(LineBuffer rules, String prefix, String name, String suffix) {
        rules.word("-m").word("comment").word("--comment").word("\"").raw(prefix).raw(name).raw(suffix).raw("\"");
    }

    /** Per-endpoint comments are dropped in large clusters, where they can be 40% of the ruleset. */
    private void serviceComment(String name) {
        if (!largeClusterMode) {
            serviceRules.word("-m").word("comment").word("--comment").word(name);
        }
    }

    private void endpointComment(String name, Endpoint ep) {
        if (!largeClusterMode) {
            hostPort(serviceRules.word("-m").word("comment").word("--comment").word("\"").raw(name).raw(" -> "), ep)
                    .raw("\"");
        }
    }

    /** Appends the endpoint's "ip:port" ("[ip]:port" for IPv6) to the current word, as kube-proxy writes it. */
    private static LineBuffer hostPort(LineBuffer rules, Endpoint ep) {
        return rules.raw(ep.bracketed() ? "[" : "").raw(ep.ip()).raw(ep.bracketed() ? "]:" : ":").number(ep.port());
    }
}
