package dev.railyard.proxy.userspace;

import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.ServicePort;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The endpoints one service port's traffic may go to from this node, per kind of traffic, resolved to socket
 * addresses once per sync so that a connection only indexes an array. The rules are kube-proxy's (as in its
 * CategorizeEndpoints, which the iptables renderer follows too): ready endpoints, or, when none is ready,
 * those still serving while terminating; a Local policy keeps only this node's endpoints, with the same
 * fallback among them. Immutable.
 */
final class UsableEndpoints {
    static final UsableEndpoints NONE = new UsableEndpoints(new InetSocketAddress[0], new InetSocketAddress[0]);

    private final InetSocketAddress[] internal;
    private final InetSocketAddress[] external;

    private UsableEndpoints(InetSocketAddress[] internal, InetSocketAddress[] external) {
        this.internal = internal;
        this.external = external;
    }

    static UsableEndpoints select(ServicePort service, List<Endpoint> endpoints, String nodeName) {
        InetSocketAddress[] cluster = null;
        InetSocketAddress[] local = null;
        if (!service.internalPolicyLocal() || !service.externalPolicyLocal()) {
            cluster = usable(endpoints, endpoint -> true);
        }
        if (service.internalPolicyLocal() || service.externalPolicyLocal()) {
            local = usable(endpoints, endpoint -> endpoint.isOn(nodeName));
        }
        return new UsableEndpoints(service.internalPolicyLocal() ? local : cluster,
                service.externalPolicyLocal() ? local : cluster);
    }

    /** Ready endpoints among those wanted; only when there is none, the serving-and-terminating ones. */
    private static InetSocketAddress[] usable(List<Endpoint> endpoints, Predicate<Endpoint> wanted) {
        List<InetSocketAddress> ready = new ArrayList<>();
        List<InetSocketAddress> terminating = new ArrayList<>();
        for (Endpoint endpoint : endpoints) {
            if (!wanted.test(endpoint)) {
                continue;
            }
            if (endpoint.ready()) {
                ready.add(socketAddress(endpoint));
            } else if (ready.isEmpty() && endpoint.serving() && endpoint.terminating()) {
                terminating.add(socketAddress(endpoint));
            }
        }
        return (ready.isEmpty() ? terminating : ready).toArray(new InetSocketAddress[0]);
    }

    /** Endpoint addresses are validated IP literals: no name lookup happens here. */
    private static InetSocketAddress socketAddress(Endpoint endpoint) {
        return new InetSocketAddress(IpAddresses.parse(endpoint.ip()).toInetAddress(), endpoint.port());
    }

    /** Shared, never modified: callers only read it. */
    InetSocketAddress[] forTraffic(TrafficKind kind) {
        return kind.usesExternalPolicy() ? external : internal;
    }
}
