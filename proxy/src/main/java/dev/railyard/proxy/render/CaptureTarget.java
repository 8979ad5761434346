package dev.railyard.proxy.render;

import dev.railyard.proxy.model.ServicePort;

import java.util.Objects;

/**
 * Where the userspace proxy takes one service port's traffic: the local port for traffic to the cluster IP, the
 * one for NodePort and externalIP traffic, and the one for load-balancer traffic. After a redirect the proxy can
 * only tell kinds of traffic apart by the port they reach, so they differ when the kinds are treated differently:
 * internal and external traffic may follow different traffic policies, and load-balancer traffic alone is
 * filtered by spec.loadBalancerSourceRanges.
 *
 * @param loadBalancerPort {@link #NOT_CAPTURED} leaves load-balancer traffic alone: a service that filters it
 *                         must not have it redirected to an unfiltered port while its own listener is missing
 */
public record CaptureTarget(ServicePort service, int internalPort, int externalPort, int loadBalancerPort) {
    /** No listener for this traffic: no rule redirects it. */
    public static final int NOT_CAPTURED = 0;

    public CaptureTarget {
        Objects.requireNonNull(service, "service");
        checkPort(internalPort, "internalPort");
        checkPort(externalPort, "externalPort");
        if (loadBalancerPort != NOT_CAPTURED) {
            checkPort(loadBalancerPort, "loadBalancerPort");
        }
    }

    /** Load-balancer traffic together with NodePort and externalIP traffic. */
    public CaptureTarget(ServicePort service, int internalPort, int externalPort) {
        this(service, internalPort, externalPort, externalPort);
    }

    /** One proxy port for every kind of traffic. */
    public static CaptureTarget of(ServicePort service, int port) {
        return new CaptureTarget(service, port, port, port);
    }

    private static void checkPort(int port, String what) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException(what + " " + port + " is out of range 1-65535");
        }
    }
}
