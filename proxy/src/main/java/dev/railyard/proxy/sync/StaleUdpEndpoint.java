package dev.railyard.proxy.sync;

import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.ServicePortName;

import java.util.Objects;

/**
 * A UDP endpoint that was serving and no longer is (gone, or no longer serving). UDP has no connection to close,
 * so conntrack keeps sending a client's datagrams to it until its entries are deleted.
 */
public record StaleUdpEndpoint(ServicePortName servicePort, Endpoint endpoint) {
    public StaleUdpEndpoint {
        Objects.requireNonNull(servicePort, "servicePort");
        Objects.requireNonNull(endpoint, "endpoint");
    }

    @Override
    public String toString() {
        return servicePort + " -> " + endpoint.hostPort();
    }
}
