package dev.railyard.proxy.inspect;

import dev.railyard.proxy.model.Protocol;

import java.util.Comparator;
import java.util.Objects;

/**
 * Where a service receives traffic on a node: a service address (cluster IP, external IP, load-balancer IP) and
 * port, or a node port on the node's own addresses. Two rulesets are compared frontend by frontend; the name and
 * kind, read from rule comments when present, only label it.
 *
 * @param address  the service address, or null for a node port (every local address)
 * @param port     the port
 * @param protocol TCP, UDP or SCTP
 * @param kind     what kind of frontend the rules say it is
 * @param name     the service port ("namespace/name:port") from the rules' comments, or null
 */
public record Frontend(String address, int port, Protocol protocol, Kind kind, String name) {

    public enum Kind {
        CLUSTER_IP("cluster IP"),
        EXTERNAL_IP("external IP"),
        LOAD_BALANCER_IP("load-balancer IP"),
        NODE_PORT("node port"),
        HEALTH_CHECK_NODE_PORT("health-check node port"),
        /** A service address the rules do not label. */
        SERVICE_IP("service IP");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** Frontends in the order a report lists them: by name (unnamed last), then address, port, protocol. */
    public static final Comparator<Frontend> ORDER = Comparator
            .comparing((Frontend f) -> f.name == null ? "\uffff" : f.name)
            .thenComparing(f -> f.address == null ? "" : f.address)
            .thenComparingInt(Frontend::port)
            .thenComparing(Frontend::protocol);

    public Frontend {
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(kind, "kind");
    }

    public boolean isNodePort() {
        return address == null;
    }

    /** What identifies the frontend across rulesets: address (or "node port"), port and protocol. */
    public String key() {
        return (address == null ? "*" : address) + "|" + port + "|" + protocol;
    }

    /** "10.96.0.10:80/tcp" or "node port 30080/tcp". */
    public String describe() {
        return (address == null ? "node port " + port : Packet.hostPort(address, port)) + "/" + protocol.lowerCase();
    }
}
