package dev.railyard.proxy.render;

import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.ServicePort;

import java.util.Arrays;
import java.util.List;

/**
 * What a tracking render wrote for one service port: its lines in the top-level chains (KUBE-SERVICES,
 * KUBE-NODEPORTS, the filter chains), the per-service chains it uses, and how many lines those chains have. A
 * partial render copies this for a service that did not change instead of rendering it again, and compares it
 * with a changed service's new lines to tell whether the top-level chains changed at all.
 */
final class RenderedService {
    final ServicePort service;
    final List<Endpoint> endpoints;
    final boolean largeClusterMode;
    final byte[] natTop;
    final int natTopLines;
    final byte[] filterTop;
    final int filterTopLines;
    /** Per-service chains (SVC, SVL, EXT, FW, SEP) in declaration order. */
    final String[] chains;
    final int chainRuleLines;

    RenderedService(ServicePort service, List<Endpoint> endpoints, boolean largeClusterMode, byte[] natTop,
                    int natTopLines, byte[] filterTop, int filterTopLines, String[] chains, int chainRuleLines) {
        this.service = service;
        this.endpoints = endpoints;
        this.largeClusterMode = largeClusterMode;
        this.natTop = natTop;
        this.natTopLines = natTopLines;
        this.filterTop = filterTop;
        this.filterTopLines = filterTopLines;
        this.chains = chains;
        this.chainRuleLines = chainRuleLines;
    }

    /**
     * Whether rendering {@code service} with {@code endpoints} would give these lines again. The change tracker
     * hands unchanged services over as the same objects, so this is an identity check in practice; equality
     * keeps it right for callers that build new but equal objects.
     */
    boolean renders(ServicePort service, List<Endpoint> endpoints, boolean largeClusterMode) {
        return this.largeClusterMode == largeClusterMode
                && (this.service == service || this.service.equals(service))
                && (this.endpoints == endpoints || this.endpoints.equals(endpoints));
    }

    /** Whether the two wrote the same top-level lines. */
    boolean sameTopLevelLines(RenderedService other) {
        return Arrays.equals(natTop, other.natTop) && Arrays.equals(filterTop, other.filterTop);
    }
}
