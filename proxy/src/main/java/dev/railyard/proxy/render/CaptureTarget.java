package dev.railyard.proxy.render;

import dev.railyard.proxy.model.ServicePort;

import java.util.Objects;

/**
 * Where the userspace proxy takes one service port's traffic: the local port for traffic to the cluster IP, and
 * the one for NodePort, externalIP and load-balancer traffic. They differ when the two traffic policies choose
 * different endpoints, since after a redirect the proxy can only tell the two kinds apart by the port they reach.
 */
public record CaptureTarget(ServicePort service, int internalPort, int externalPort) {
    public CaptureTarget {
        Objects.requireNonNull(service, "service");
        checkPort(internalPort, "internalPort");
        checkPort(externalPort, "externalPort");
    }

    /** One proxy port for every kind of traffic. */
    public static CaptureTarget of(ServicePort service, int port) {
        return new CaptureTarget(service, port, port);
    }

    private static void checkPort(int port, String what) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException(what + " " + port + " is out of range 1-65535");
        }
    }
}
