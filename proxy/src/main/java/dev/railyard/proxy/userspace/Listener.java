package dev.railyard.proxy.userspace;

import dev.railyard.proxy.model.ServicePort;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * One socket the proxier listens on for a service port. {@code local} is the address actually bound (with the
 * kernel's port in {@link ListenMode#CAPTURE} mode), which is what capture rules redirect to; {@code traffic}
 * says which of the service's traffic belongs there. In capture mode cluster-IP traffic goes to the
 * {@link TrafficKind#INTERNAL} listener; node-port and external-IP traffic to the {@link TrafficKind#EXTERNAL}
 * one; load-balancer traffic to the {@link TrafficKind#LOAD_BALANCER} one when the service restricts its
 * sources ({@link dev.railyard.proxy.model.ServicePort#restrictsLoadBalancerSources()}), which admits only those,
 * and to the external one otherwise.
 */
public record Listener(ServicePort service, InetSocketAddress local, TrafficKind traffic) {
    public Listener {
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(local, "local");
        Objects.requireNonNull(traffic, "traffic");
    }
}
