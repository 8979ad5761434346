package dev.railyard.proxy.daemon;

import static dev.railyard.proxy.daemon.ApiObjects.service;
import static dev.railyard.proxy.daemon.ApiObjects.slice;

import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.VethLink;
import dev.railyard.testkit.kubernetes.TestApiServer;

/**
 * The cluster the daemon end-to-end tests program: node {@value #NODE} with a web pod and a client pod, each in its
 * own network namespace on a veth pair whose node end is the pod's default gateway, and services web and db (or
 * web on both families, as a manifest).
 *
 * <pre>
 *   client 10.244.2.2/24 ─── 10.244.2.1 ┐ node "node-a" (ip_forward=1)
 *   web    10.244.1.2/24 ─── 10.244.1.1 ┘
 * </pre>
 */
final class EndToEndCluster {
    static final String NODE = "node-a";
    static final String WEB_IP = "10.96.0.10";
    static final String DB_IP = "10.96.0.11";
    static final String WEB_POD = "10.244.1.2";
    static final String CLIENT_POD = "10.244.2.2";

    /** Service web with both families (10.244.1.5 and fd00:244::5 on port 8080), as a manifest. */
    static final String DUAL_STACK_WEB_MANIFEST = """
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec:
              type: ClusterIP
              clusterIP: 10.96.0.10
              clusterIPs: [10.96.0.10, "fd00:96::10"]
              ipFamilies: [IPv4, IPv6]
              ports: [{protocol: TCP, port: 80}]
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: web-v4, labels: {kubernetes.io/service-name: web}}
            addressType: IPv4
            ports: [{protocol: TCP, port: 8080}]
            endpoints: [{addresses: [10.244.1.5], conditions: {ready: true}}]
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: web-v6, labels: {kubernetes.io/service-name: web}}
            addressType: IPv6
            ports: [{protocol: TCP, port: 8080}]
            endpoints: [{addresses: ["fd00:244::5"], conditions: {ready: true}}]
            """;

    private EndToEndCluster() {
    }

    /** Links the web and client pods' namespaces to the node's, the node end of each link their default gateway. */
    static void link(NetworkNamespace node, NetworkNamespace web, NetworkNamespace client) {
        node.sysctl("net.ipv4.ip_forward", "1");
        node.sysctl("net.ipv4.conf.all.send_redirects", "0");
        VethLink toWeb = VethLink.between(node, web).names("veth-web", "eth0")
                .ipv4("10.244.1.1/24", WEB_POD + "/24").create();
        VethLink toClient = VethLink.between(node, client).names("veth-client", "eth0")
                .ipv4("10.244.2.1/24", CLIENT_POD + "/24").create();
        toWeb.b().addRoute("default", "10.244.1.1");
        toClient.b().addRoute("default", "10.244.2.1");
    }

    /** Services web (endpoint the web pod, port 8080) and db (endpoint 10.244.1.7, port 5432), both on this node. */
    static void createWebAndDb(TestApiServer apiServer) {
        apiServer.create(service("web", WEB_IP, 80));
        apiServer.create(slice("web-1", "web", NODE, 8080, WEB_POD));
        apiServer.create(service("db", DB_IP, 5432));
        apiServer.create(slice("db-1", "db", NODE, 5432, "10.244.1.7"));
    }
}
