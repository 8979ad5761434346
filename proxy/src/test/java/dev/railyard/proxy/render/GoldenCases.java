package dev.railyard.proxy.render;

import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.source.ClusterSnapshot;
import dev.railyard.proxy.source.ManifestLoader;

import java.util.List;
import java.util.function.UnaryOperator;

/**
 * One small cluster per feature of the renderer, with the whole ruleset it must produce. Shared by the golden
 * test (exact text) and the kernel test (iptables-restore accepts every one of them).
 */
final class GoldenCases {
    static final String NODE = "node-a";
    static final String NODE_IP = "192.168.10.11";
    static final String NODE_IP6 = "fd00:10::11";
    static final String POD_CIDR = "10.244.0.0/16";
    static final String POD_CIDR6 = "fd00:244::/48";

    private GoldenCases() {
    }

    static final class Case {
        final String name;
        final IpFamily family;
        final UnaryOperator<RenderConfig.Builder> settings;
        final String manifests;
        final String expected;

        Case(String name, IpFamily family, UnaryOperator<RenderConfig.Builder> settings, String manifests,
             String expected) {
            this.name = name;
            this.family = family;
            this.settings = settings;
            this.manifests = manifests;
            this.expected = expected;
        }

        RenderConfig config() {
            return settings.apply(RenderConfig.builder(family)
                    .nodeName(NODE)
                    .nodeIps(List.of(NODE_IP, NODE_IP6))
                    .clusterCidrs(List.of(POD_CIDR, POD_CIDR6))).build();
        }

        String render() throws Exception {
            ClusterSnapshot snapshot = ManifestLoader.parse(name + ".yaml", manifests);
            if (!snapshot.problems().isEmpty()) {
                throw new AssertionError(snapshot.problems().toString());
            }
            return new IptablesRenderer(config()).render(snapshot.state(family, NODE)).toString();
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static List<Case> all() {
        return List.of(
                clusterIp(), noEndpoints(), nodePortEverywhere(), nodePortOnSelectedAddresses(), externalIps(),
                loadBalancerSourceRanges(), clientIpAffinity(), externalPolicyLocal(),
                externalPolicyLocalWithoutLocalEndpoints(), internalPolicyLocal(), bothPoliciesLocal(), terminatingFallback(),
                masqueradeAll(), udpAndSctp(), dualStackIpv6());
    }

    private static UnaryOperator<RenderConfig.Builder> defaults() {
        return b -> b;
    }

    private static String slice(String service, String addressType, String endpoints, String ports) {
        return "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: " + service
                + "-" + addressType.toLowerCase(java.util.Locale.ROOT) + "\n  namespace: ns\n  labels:\n"
                + "    kubernetes.io/service-name: " + service + "\naddressType: " + addressType + "\nendpoints:\n"
                + endpoints + "ports:\n" + ports;
    }

    static Case clusterIp() {
        return new Case("cluster-ip", IpFamily.V4, defaults(), """
                apiVersion: v1
                kind: Service
                metadata: {name: web, namespace: ns}
                spec:
                  clusterIP: 10.96.0.20
                  ports: [{name: http, port: 80, protocol: TCP}]
                """ + slice("web", "IPv4", """
                - addresses: [10.244.1.10]
                  nodeName: node-a
                - addresses: [10.244.2.10]
                  nodeName: node-b
                """, "- {name: http, port: 8080, protocol: TCP}\n"), EXPECTED_CLUSTER_IP);
    }

    static Case noEndpoints() {
        return new Case("no-endpoints", IpFamily.V4, defaults(), """
                apiVersion: v1
                kind: Service
                metadata: {name: db, namespace: ns}
                spec:
                  type: LoadBalancer
                  clusterIP: 10.96.0.30
                  externalIPs: [192.168.10.100]
                  ports: [{name: sql, port: 5432, nodePort: 30432, protocol: TCP}]
                status:
                  loadBalancer:
                    ingress: [{ip: 198.51.100.30}]
                """ + slice("db", "IPv4", """
                - addresses: [10.244.1.30]
                  conditions: {ready: false, serving: false, terminating: false}
                  nodeName: node-a
                """, "- {name: sql, port: 5432, protocol: TCP}\n"), EXPECTED_NO_ENDPOINTS);
    }

    static Case nodePortEverywhere() {
        return new Case("nodeport-all-addresses", IpFamily.V4, b -> b.localhostNodePorts(false), """
                apiVersion: v1
                kind: Service
                metadata: {name: web, namespace: ns}
                spec:
                  type: NodePort
                  clusterIP: 10.96.0.21
                  ports: [{name: http, port: 80, nodePort: 30080, protocol: TCP}]
                """ + slice("web", "IPv4", """
                - addresses: [10.244.1.11]
                  nodeName: node-b
                """, "- {name: http, port: 8080, protocol: TCP}\n"), EXPECTED_NODEPORT_ALL);
    }

    static Case nodePortOnSelectedAddresses() {
        return new Case("nodeport-selected-addresses", IpFamily.V4,
                b -> b.nodeIps(List.of(NODE_IP, "10.0.5.11")).nodePortAddresses(List.of("192.168.10.0/24",
                        "127.0.0.0/8")), """
                apiVersion: v1
                kind: Service
                metadata: {name: web, namespace: ns}
                spec:
                  type: NodePort
                  clusterIP: 10.96.0.21
                  ports: [{name: http, port: 80, nodePort: 30080, protocol: TCP}]
                """ + slice("web", "IPv4", """
                - addresses: [10.244.1.11]
                  nodeName: node-b
                """, "- {name: http, port: 8080, protocol: TCP}\n"), EXPECTED_NODEPORT_SELECTED);
    }

    static Case externalIps() {
        return new Case("external-ips", IpFamily.V4, defaults(), """
                apiVersion: v1
                kind: Service
                metadata: {name: api, namespace: ns}
                spec:
                  clusterIP: 10.96.0.22
                  externalIPs: [192.168.10.100, 192.168.10.101]
                  ports: [{name: https, port: 443, protocol: TCP}]
                """ + slice("api", "IPv4", """
                - addresses: [10.244.1.12]
                  nodeName: node-a
                """, "- {name: https, port: 8443, protocol: TCP}\n"), EXPECTED_EXTERNAL_IPS);
    }

    static Case loadBalancerSourceRanges() {
        return new Case("load-balancer-source-ranges", IpFamily.V4, defaults(), """
                apiVersion: v1
                kind: Service
                metadata: {name: shop, namespace: ns}
                spec:
                  type: LoadBalancer
                  clusterIP: 10.96.0.23
                  loadBalancerSourceRanges: [203.0.113.0/25, 192.168.10.0/24]
                  ports: [{name: https, port: 443, nodePort: 30443, protocol: TCP}]
                status:
                  loadBalancer:
                    ingress: [{ip: 198.51.100.23, ipMode: VIP}, {ip: 198.51.100.24, ipMode: Proxy}, {hostname: lb.example}]
                """ + slice("shop", "IPv4", """
                - addresses: [10.244.2.13]
                  nodeName: node-b
                """, "- {name: https, port: 8443, protocol: TCP}\n"), EXPECTED_LB_SOURCE_RANGES);
    }

    static Case clientIpAffinity() {
        return new Case("client-ip-affinity", IpFamily.V4, defaults(), """
                apiVersion: v1
                kind: Service
                metadata: {name: cart, namespace: ns}
                spec:
                  clusterIP: 10.96.0.24
                  sessionAffinity: ClientIP
                  sessionAffinityConfig: {clientIP: {timeoutSeconds: 300}}
                  ports: [{name: http, port: 80, protocol: TCP}]
                """ + slice("cart", "IPv4", """
                - addresses: [10.244.1.14]
                  nodeName: node-a
                - addresses: [10.244.2.14]
                  nodeName: node-b
                """, "- {name: http, port: 8080, protocol: TCP}\n"), EXPECTED_AFFINITY);
    }

    static Case externalPolicyLocal() {
        return new Case("external-policy-local", IpFamily.V4, defaults(), """
                apiVersion: v1
                kind: Service
                metadata: {name: edge, namespace: ns}
                spec:
                  type: LoadBalancer
                  clusterIP: 10.96.0.25
                  externalTrafficPolicy: Local
                  healthCheckNodePort: 32000
                  ports: [{name: http, port: 80, nodePort: 30081, protocol: TCP}]
                status:
                  loadBalancer:
                    ingress: [{ip: 198.51.100.25}]
                """ + slice("edge", "IPv4", """
                - addresses: [10.244.1.15]
                  nodeName: node-a
                - addresses: [10.244.2.15]
                  nodeName: node-b
                """, "- {name: http, port: 8080, protocol: TCP}\n"), EXPECTED_ETP_LOCAL);
    }

    static Case externalPolicyLocalWithoutLocalEndpoints() {
        return new Case("external-policy-local-no-local-endpoints", IpFamily.V4, defaults(), """
                apiVersion: v1
                kind: Service
                metadata: {name: edge, namespace: ns}
                spec:
                  type: NodePort
                  clusterIP: 10.96.0.25
                  externalTrafficPolicy: Local
                  ports: [{name: http, port: 80, nodePort: 30081, protocol: TCP}]
                """ + slice("edge", "IPv4", """
                - addresses: [10.244.2.15]
                  nodeName: node-b
                """, "- {name: http, port: 8080, protocol: TCP}\n"), EXPECTED_ETP_LOCAL_NONE);
    }

    static Case internalPolicyLocal() {
        return new Case("internal-policy-local", IpFamily.V4, defaults(), """
                apiVersion: v1
                kind: Service
                metadata: {name: agent, namespace: ns}
                spec:
                  clusterIP: 10.96.0.26
                  internalTrafficPolicy: Local
                  ports: [{name: metrics, port: 9100, protocol: TCP}]
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: cache, namespace: ns}
                spec:
                  clusterIP: 10.96.0.27
                  internalTrafficPolicy: Local
                  ports: [{name: redis, port: 6379, protocol: TCP}]
                """ + slice("agent", "IPv4", """
                - addresses: [10.244.1.16]
                  nodeName: node-a
                - addresses: [10.244.2.16]
                  nodeName: node-b
                """, "- {name: metrics, port: 9100, protocol: TCP}\n") + "\n" + slice("cache", "IPv4", """
                - addresses: [10.244.2.17]
                  nodeName: node-b
                """, "- {name: redis, port: 6379, protocol: TCP}\n"), EXPECTED_ITP_LOCAL);
    }

    /** Cluster-wide endpoints stay in use for pod and node traffic to external addresses (short-circuit). */
    static Case bothPoliciesLocal() {
        return new Case("both-policies-local", IpFamily.V4, defaults(), """
                apiVersion: v1
                kind: Service
                metadata: {name: gateway, namespace: ns}
                spec:
                  type: NodePort
                  clusterIP: 10.96.0.29
                  internalTrafficPolicy: Local
                  externalTrafficPolicy: Local
                  ports: [{name: http, port: 80, nodePort: 30082, protocol: TCP}]
                """ + slice("gateway", "IPv4", """
                - addresses: [10.244.1.20]
                  nodeName: node-a
                - addresses: [10.244.2.20]
                  nodeName: node-b
                """, "- {name: http, port: 8080, protocol: TCP}\n"), EXPECTED_BOTH_LOCAL);
    }

    static Case terminatingFallback() {
        return new Case("terminating-fallback", IpFamily.V4, defaults(), """
                apiVersion: v1
                kind: Service
                metadata: {name: rolling, namespace: ns}
                spec:
                  clusterIP: 10.96.0.28
                  ports: [{name: http, port: 80, protocol: TCP}]
                """ + slice("rolling", "IPv4", """
                - addresses: [10.244.1.18]
                  conditions: {ready: false, serving: true, terminating: true}
                  nodeName: node-a
                - addresses: [10.244.2.18]
                  conditions: {ready: false, serving: false, terminating: true}
                  nodeName: node-b
                """, "- {name: http, port: 8080, protocol: TCP}\n"), EXPECTED_TERMINATING);
    }

    static Case masqueradeAll() {
        return new Case("masquerade-all", IpFamily.V4, b -> b.masqueradeAll(true).clusterCidrs(List.of())
                        .randomFully(false).masqueradeBit(5), """
                apiVersion: v1
                kind: Service
                metadata: {name: web, namespace: ns}
                spec:
                  clusterIP: 10.96.0.20
                  ports: [{name: http, port: 80, protocol: TCP}]
                """ + slice("web", "IPv4", """
                - addresses: [10.244.1.10]
                  nodeName: node-a
                """, "- {name: http, port: 8080, protocol: TCP}\n"), EXPECTED_MASQUERADE_ALL);
    }

    static Case udpAndSctp() {
        return new Case("udp-and-sctp", IpFamily.V4, defaults(), """
                apiVersion: v1
                kind: Service
                metadata: {name: dns, namespace: ns}
                spec:
                  clusterIP: 10.96.0.10
                  ports:
                  - {name: dns, port: 53, protocol: UDP}
                  - {name: sig, port: 3868, protocol: SCTP}
                """ + slice("dns", "IPv4", """
                - addresses: [10.244.1.19]
                  nodeName: node-a
                """, "- {name: dns, port: 5353, protocol: UDP}\n- {name: sig, port: 3868, protocol: SCTP}\n"),
                EXPECTED_UDP_SCTP);
    }

    static Case dualStackIpv6() {
        return new Case("dual-stack-ipv6", IpFamily.V6, defaults(), """
                apiVersion: v1
                kind: Service
                metadata: {name: web, namespace: ns}
                spec:
                  type: NodePort
                  clusterIP: 10.96.0.40
                  clusterIPs: [10.96.0.40, "fd00:96::40"]
                  ipFamilies: [IPv4, IPv6]
                  ipFamilyPolicy: RequireDualStack
                  externalIPs: [192.168.10.140, "fd00:10::140"]
                  ports: [{name: http, port: 80, nodePort: 30040, protocol: TCP}]
                """ + slice("web", "IPv4", """
                - addresses: [10.244.1.40]
                  nodeName: node-a
                """, "- {name: http, port: 8080, protocol: TCP}\n") + "\n" + slice("web", "IPv6", """
                - addresses: ["fd00:244:0:1::40"]
                  nodeName: node-a
                - addresses: ["FD00:244:0:2:0:0:0:40"]
                  nodeName: node-b
                """, "- {name: http, port: 8080, protocol: TCP}\n"), EXPECTED_IPV6);
    }

    static final String EXPECTED_CLUSTER_IP = """
            *filter
            :KUBE-SERVICES - [0:0]
            :KUBE-EXTERNAL-SERVICES - [0:0]
            :KUBE-FORWARD - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-PROXY-FIREWALL - [0:0]
            :KUBE-FIREWALL - [0:0]
            -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
            -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
            COMMIT
            *nat
            :KUBE-SERVICES - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-POSTROUTING - [0:0]
            :KUBE-MARK-MASQ - [0:0]
            :KUBE-SVC-HMALVVKA6APKJPPY - [0:0]
            :KUBE-SEP-KCSGL6PRDEXKPQMB - [0:0]
            :KUBE-SEP-NXG3T3ZFNKYJLXCZ - [0:0]
            -A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN
            -A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000
            -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
            -A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000
            -A KUBE-SERVICES -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j KUBE-SVC-HMALVVKA6APKJPPY
            -A KUBE-SVC-HMALVVKA6APKJPPY -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
            -A KUBE-SVC-HMALVVKA6APKJPPY -m comment --comment "ns/web:http -> 10.244.1.10:8080" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-KCSGL6PRDEXKPQMB
            -A KUBE-SVC-HMALVVKA6APKJPPY -m comment --comment "ns/web:http -> 10.244.2.10:8080" -j KUBE-SEP-NXG3T3ZFNKYJLXCZ
            -A KUBE-SEP-KCSGL6PRDEXKPQMB -m comment --comment ns/web:http -s 10.244.1.10 -j KUBE-MARK-MASQ
            -A KUBE-SEP-KCSGL6PRDEXKPQMB -m comment --comment ns/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.1.10:8080
            -A KUBE-SEP-NXG3T3ZFNKYJLXCZ -m comment --comment ns/web:http -s 10.244.2.10 -j KUBE-MARK-MASQ
            -A KUBE-SEP-NXG3T3ZFNKYJLXCZ -m comment --comment ns/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.2.10:8080
            -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
            COMMIT
            """;

    static final String EXPECTED_NO_ENDPOINTS = """
            *filter
            :KUBE-SERVICES - [0:0]
            :KUBE-EXTERNAL-SERVICES - [0:0]
            :KUBE-FORWARD - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-PROXY-FIREWALL - [0:0]
            :KUBE-FIREWALL - [0:0]
            -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
            -A KUBE-SERVICES -m comment --comment "ns/db:sql has no endpoints" -m tcp -p tcp -d 10.96.0.30 --dport 5432 -j REJECT
            -A KUBE-EXTERNAL-SERVICES -m comment --comment "ns/db:sql has no endpoints" -m tcp -p tcp -d 192.168.10.100 --dport 5432 -j REJECT
            -A KUBE-EXTERNAL-SERVICES -m comment --comment "ns/db:sql has no endpoints" -m tcp -p tcp -d 198.51.100.30 --dport 5432 -j REJECT
            -A KUBE-EXTERNAL-SERVICES -m comment --comment "ns/db:sql has no endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30432 -j REJECT
            -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
            COMMIT
            *nat
            :KUBE-SERVICES - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-POSTROUTING - [0:0]
            :KUBE-MARK-MASQ - [0:0]
            -A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN
            -A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000
            -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
            -A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000
            -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
            COMMIT
            """;

    static final String EXPECTED_NODEPORT_ALL = """
            *filter
            :KUBE-SERVICES - [0:0]
            :KUBE-EXTERNAL-SERVICES - [0:0]
            :KUBE-FORWARD - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-PROXY-FIREWALL - [0:0]
            -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
            COMMIT
            *nat
            :KUBE-SERVICES - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-POSTROUTING - [0:0]
            :KUBE-MARK-MASQ - [0:0]
            :KUBE-EXT-HMALVVKA6APKJPPY - [0:0]
            :KUBE-SVC-HMALVVKA6APKJPPY - [0:0]
            :KUBE-SEP-6OLINSYKOWJTU6SD - [0:0]
            -A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN
            -A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000
            -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
            -A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000
            -A KUBE-SERVICES -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.21 --dport 80 -j KUBE-SVC-HMALVVKA6APKJPPY
            -A KUBE-NODEPORTS -m comment --comment ns/web:http -m tcp -p tcp --dport 30080 -j KUBE-EXT-HMALVVKA6APKJPPY
            -A KUBE-SVC-HMALVVKA6APKJPPY -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.21 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
            -A KUBE-EXT-HMALVVKA6APKJPPY -m comment --comment "masquerade traffic for ns/web:http external destinations" -j KUBE-MARK-MASQ
            -A KUBE-EXT-HMALVVKA6APKJPPY -j KUBE-SVC-HMALVVKA6APKJPPY
            -A KUBE-SVC-HMALVVKA6APKJPPY -m comment --comment "ns/web:http -> 10.244.1.11:8080" -j KUBE-SEP-6OLINSYKOWJTU6SD
            -A KUBE-SEP-6OLINSYKOWJTU6SD -m comment --comment ns/web:http -s 10.244.1.11 -j KUBE-MARK-MASQ
            -A KUBE-SEP-6OLINSYKOWJTU6SD -m comment --comment ns/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.1.11:8080
            -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS
            COMMIT
            """;

    static final String EXPECTED_NODEPORT_SELECTED = """
            *filter
            :KUBE-SERVICES - [0:0]
            :KUBE-EXTERNAL-SERVICES - [0:0]
            :KUBE-FORWARD - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-PROXY-FIREWALL - [0:0]
            :KUBE-FIREWALL - [0:0]
            -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
            -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
            COMMIT
            *nat
            :KUBE-SERVICES - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-POSTROUTING - [0:0]
            :KUBE-MARK-MASQ - [0:0]
            :KUBE-EXT-HMALVVKA6APKJPPY - [0:0]
            :KUBE-SVC-HMALVVKA6APKJPPY - [0:0]
            :KUBE-SEP-6OLINSYKOWJTU6SD - [0:0]
            -A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN
            -A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000
            -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
            -A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000
            -A KUBE-SERVICES -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.21 --dport 80 -j KUBE-SVC-HMALVVKA6APKJPPY
            -A KUBE-NODEPORTS -m comment --comment ns/web:http -m tcp -p tcp --dport 30080 -j KUBE-EXT-HMALVVKA6APKJPPY
            -A KUBE-SVC-HMALVVKA6APKJPPY -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.21 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
            -A KUBE-EXT-HMALVVKA6APKJPPY -m comment --comment "masquerade traffic for ns/web:http external destinations" -j KUBE-MARK-MASQ
            -A KUBE-EXT-HMALVVKA6APKJPPY -j KUBE-SVC-HMALVVKA6APKJPPY
            -A KUBE-SVC-HMALVVKA6APKJPPY -m comment --comment "ns/web:http -> 10.244.1.11:8080" -j KUBE-SEP-6OLINSYKOWJTU6SD
            -A KUBE-SEP-6OLINSYKOWJTU6SD -m comment --comment ns/web:http -s 10.244.1.11 -j KUBE-MARK-MASQ
            -A KUBE-SEP-6OLINSYKOWJTU6SD -m comment --comment ns/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.1.11:8080
            -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -d 192.168.10.11 -j KUBE-NODEPORTS
            -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -d 127.0.0.1 -j KUBE-NODEPORTS
            COMMIT
            """;

    static final String EXPECTED_EXTERNAL_IPS = """
            *filter
            :KUBE-SERVICES - [0:0]
            :KUBE-EXTERNAL-SERVICES - [0:0]
            :KUBE-FORWARD - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-PROXY-FIREWALL - [0:0]
            :KUBE-FIREWALL - [0:0]
            -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
            -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
            COMMIT
            *nat
            :KUBE-SERVICES - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-POSTROUTING - [0:0]
            :KUBE-MARK-MASQ - [0:0]
            :KUBE-EXT-E4WGO3R6Y36P27DB - [0:0]
            :KUBE-SVC-E4WGO3R6Y36P27DB - [0:0]
            :KUBE-SEP-CBPL3NRBMHYSJLVV - [0:0]
            -A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN
            -A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000
            -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
            -A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000
            -A KUBE-SERVICES -m comment --comment "ns/api:https cluster IP" -m tcp -p tcp -d 10.96.0.22 --dport 443 -j KUBE-SVC-E4WGO3R6Y36P27DB
            -A KUBE-SERVICES -m comment --comment "ns/api:https external IP" -m tcp -p tcp -d 192.168.10.100 --dport 443 -j KUBE-EXT-E4WGO3R6Y36P27DB
            -A KUBE-SERVICES -m comment --comment "ns/api:https external IP" -m tcp -p tcp -d 192.168.10.101 --dport 443 -j KUBE-EXT-E4WGO3R6Y36P27DB
            -A KUBE-SVC-E4WGO3R6Y36P27DB -m comment --comment "ns/api:https cluster IP" -m tcp -p tcp -d 10.96.0.22 --dport 443 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
            -A KUBE-EXT-E4WGO3R6Y36P27DB -m comment --comment "masquerade traffic for ns/api:https external destinations" -j KUBE-MARK-MASQ
            -A KUBE-EXT-E4WGO3R6Y36P27DB -j KUBE-SVC-E4WGO3R6Y36P27DB
            -A KUBE-SVC-E4WGO3R6Y36P27DB -m comment --comment "ns/api:https -> 10.244.1.12:8443" -j KUBE-SEP-CBPL3NRBMHYSJLVV
            -A KUBE-SEP-CBPL3NRBMHYSJLVV -m comment --comment ns/api:https -s 10.244.1.12 -j KUBE-MARK-MASQ
            -A KUBE-SEP-CBPL3NRBMHYSJLVV -m comment --comment ns/api:https -m tcp -p tcp -j DNAT --to-destination 10.244.1.12:8443
            -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
            COMMIT
            """;

    static final String EXPECTED_LB_SOURCE_RANGES = """
            *filter
            :KUBE-SERVICES - [0:0]
            :KUBE-EXTERNAL-SERVICES - [0:0]
            :KUBE-FORWARD - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-PROXY-FIREWALL - [0:0]
            :KUBE-FIREWALL - [0:0]
            -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
            -A KUBE-PROXY-FIREWALL -m comment --comment "ns/shop:https traffic not accepted by KUBE-FW-BBDOX7L6YJOZP4IP" -m tcp -p tcp -d 198.51.100.23 --dport 443 -j DROP
            -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
            COMMIT
            *nat
            :KUBE-SERVICES - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-POSTROUTING - [0:0]
            :KUBE-MARK-MASQ - [0:0]
            :KUBE-EXT-BBDOX7L6YJOZP4IP - [0:0]
            :KUBE-FW-BBDOX7L6YJOZP4IP - [0:0]
            :KUBE-SVC-BBDOX7L6YJOZP4IP - [0:0]
            :KUBE-SEP-FJO43B2IS5BLZQCC - [0:0]
            -A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN
            -A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000
            -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
            -A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000
            -A KUBE-SERVICES -m comment --comment "ns/shop:https cluster IP" -m tcp -p tcp -d 10.96.0.23 --dport 443 -j KUBE-SVC-BBDOX7L6YJOZP4IP
            -A KUBE-SERVICES -m comment --comment "ns/shop:https loadbalancer IP" -m tcp -p tcp -d 198.51.100.23 --dport 443 -j KUBE-FW-BBDOX7L6YJOZP4IP
            -A KUBE-NODEPORTS -m comment --comment ns/shop:https -m tcp -p tcp --dport 30443 -j KUBE-EXT-BBDOX7L6YJOZP4IP
            -A KUBE-SVC-BBDOX7L6YJOZP4IP -m comment --comment "ns/shop:https cluster IP" -m tcp -p tcp -d 10.96.0.23 --dport 443 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
            -A KUBE-EXT-BBDOX7L6YJOZP4IP -m comment --comment "masquerade traffic for ns/shop:https external destinations" -j KUBE-MARK-MASQ
            -A KUBE-EXT-BBDOX7L6YJOZP4IP -j KUBE-SVC-BBDOX7L6YJOZP4IP
            -A KUBE-FW-BBDOX7L6YJOZP4IP -m comment --comment "ns/shop:https loadbalancer IP" -s 203.0.113.0/25 -j KUBE-EXT-BBDOX7L6YJOZP4IP
            -A KUBE-FW-BBDOX7L6YJOZP4IP -m comment --comment "ns/shop:https loadbalancer IP" -s 192.168.10.0/24 -j KUBE-EXT-BBDOX7L6YJOZP4IP
            -A KUBE-FW-BBDOX7L6YJOZP4IP -m comment --comment "ns/shop:https loadbalancer IP" -s 198.51.100.23 -j KUBE-EXT-BBDOX7L6YJOZP4IP
            -A KUBE-FW-BBDOX7L6YJOZP4IP -m comment --comment "other traffic to ns/shop:https will be dropped by KUBE-PROXY-FIREWALL"
            -A KUBE-SVC-BBDOX7L6YJOZP4IP -m comment --comment "ns/shop:https -> 10.244.2.13:8443" -j KUBE-SEP-FJO43B2IS5BLZQCC
            -A KUBE-SEP-FJO43B2IS5BLZQCC -m comment --comment ns/shop:https -s 10.244.2.13 -j KUBE-MARK-MASQ
            -A KUBE-SEP-FJO43B2IS5BLZQCC -m comment --comment ns/shop:https -m tcp -p tcp -j DNAT --to-destination 10.244.2.13:8443
            -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
            COMMIT
            """;

    static final String EXPECTED_AFFINITY = """
            *filter
            :KUBE-SERVICES - [0:0]
            :KUBE-EXTERNAL-SERVICES - [0:0]
            :KUBE-FORWARD - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-PROXY-FIREWALL - [0:0]
            :KUBE-FIREWALL - [0:0]
            -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
            -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
            COMMIT
            *nat
            :KUBE-SERVICES - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-POSTROUTING - [0:0]
            :KUBE-MARK-MASQ - [0:0]
            :KUBE-SVC-VHWGLJ66ALQ2PTPW - [0:0]
            :KUBE-SEP-C5OX6OBBGWTX6G5C - [0:0]
            :KUBE-SEP-VLOGX4K7ACOK5HD2 - [0:0]
            -A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN
            -A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000
            -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
            -A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000
            -A KUBE-SERVICES -m comment --comment "ns/cart:http cluster IP" -m tcp -p tcp -d 10.96.0.24 --dport 80 -j KUBE-SVC-VHWGLJ66ALQ2PTPW
            -A KUBE-SVC-VHWGLJ66ALQ2PTPW -m comment --comment "ns/cart:http cluster IP" -m tcp -p tcp -d 10.96.0.24 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
            -A KUBE-SVC-VHWGLJ66ALQ2PTPW -m comment --comment "ns/cart:http -> 10.244.1.14:8080" -m recent --name KUBE-SEP-C5OX6OBBGWTX6G5C --rcheck --seconds 300 --reap -j KUBE-SEP-C5OX6OBBGWTX6G5C
            -A KUBE-SVC-VHWGLJ66ALQ2PTPW -m comment --comment "ns/cart:http -> 10.244.2.14:8080" -m recent --name KUBE-SEP-VLOGX4K7ACOK5HD2 --rcheck --seconds 300 --reap -j KUBE-SEP-VLOGX4K7ACOK5HD2
            -A KUBE-SVC-VHWGLJ66ALQ2PTPW -m comment --comment "ns/cart:http -> 10.244.1.14:8080" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-C5OX6OBBGWTX6G5C
            -A KUBE-SVC-VHWGLJ66ALQ2PTPW -m comment --comment "ns/cart:http -> 10.244.2.14:8080" -j KUBE-SEP-VLOGX4K7ACOK5HD2
            -A KUBE-SEP-C5OX6OBBGWTX6G5C -m comment --comment ns/cart:http -s 10.244.1.14 -j KUBE-MARK-MASQ
            -A KUBE-SEP-C5OX6OBBGWTX6G5C -m comment --comment ns/cart:http -m recent --name KUBE-SEP-C5OX6OBBGWTX6G5C --set -m tcp -p tcp -j DNAT --to-destination 10.244.1.14:8080
            -A KUBE-SEP-VLOGX4K7ACOK5HD2 -m comment --comment ns/cart:http -s 10.244.2.14 -j KUBE-MARK-MASQ
            -A KUBE-SEP-VLOGX4K7ACOK5HD2 -m comment --comment ns/cart:http -m recent --name KUBE-SEP-VLOGX4K7ACOK5HD2 --set -m tcp -p tcp -j DNAT --to-destination 10.244.2.14:8080
            -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
            COMMIT
            """;

    static final String EXPECTED_ETP_LOCAL = """
            *filter
            :KUBE-SERVICES - [0:0]
            :KUBE-EXTERNAL-SERVICES - [0:0]
            :KUBE-FORWARD - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-PROXY-FIREWALL - [0:0]
            :KUBE-FIREWALL - [0:0]
            -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
            -A KUBE-NODEPORTS -m comment --comment "ns/edge:http health check node port" -m tcp -p tcp --dport 32000 -j ACCEPT
            -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
            COMMIT
            *nat
            :KUBE-SERVICES - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-POSTROUTING - [0:0]
            :KUBE-MARK-MASQ - [0:0]
            :KUBE-EXT-5OFAXCPO357ZXRXP - [0:0]
            :KUBE-SVC-5OFAXCPO357ZXRXP - [0:0]
            :KUBE-SVL-5OFAXCPO357ZXRXP - [0:0]
            :KUBE-SEP-LF3QCPTYLQR2ITU7 - [0:0]
            :KUBE-SEP-BVHLYLCL4TJFNBHZ - [0:0]
            -A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN
            -A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000
            -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
            -A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000
            -A KUBE-SERVICES -m comment --comment "ns/edge:http cluster IP" -m tcp -p tcp -d 10.96.0.25 --dport 80 -j KUBE-SVC-5OFAXCPO357ZXRXP
            -A KUBE-SERVICES -m comment --comment "ns/edge:http loadbalancer IP" -m tcp -p tcp -d 198.51.100.25 --dport 80 -j KUBE-EXT-5OFAXCPO357ZXRXP
            -A KUBE-NODEPORTS -m comment --comment ns/edge:http -m tcp -p tcp --dport 30081 -j KUBE-EXT-5OFAXCPO357ZXRXP
            -A KUBE-SVC-5OFAXCPO357ZXRXP -m comment --comment "ns/edge:http cluster IP" -m tcp -p tcp -d 10.96.0.25 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
            -A KUBE-EXT-5OFAXCPO357ZXRXP -m comment --comment "pod traffic for ns/edge:http external destinations" -s 10.244.0.0/16 -j KUBE-SVC-5OFAXCPO357ZXRXP
            -A KUBE-EXT-5OFAXCPO357ZXRXP -m comment --comment "masquerade LOCAL traffic for ns/edge:http external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ
            -A KUBE-EXT-5OFAXCPO357ZXRXP -m comment --comment "route LOCAL traffic for ns/edge:http external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-5OFAXCPO357ZXRXP
            -A KUBE-EXT-5OFAXCPO357ZXRXP -j KUBE-SVL-5OFAXCPO357ZXRXP
            -A KUBE-SVC-5OFAXCPO357ZXRXP -m comment --comment "ns/edge:http -> 10.244.1.15:8080" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-LF3QCPTYLQR2ITU7
            -A KUBE-SVC-5OFAXCPO357ZXRXP -m comment --comment "ns/edge:http -> 10.244.2.15:8080" -j KUBE-SEP-BVHLYLCL4TJFNBHZ
            -A KUBE-SVL-5OFAXCPO357ZXRXP -m comment --comment "ns/edge:http -> 10.244.1.15:8080" -j KUBE-SEP-LF3QCPTYLQR2ITU7
            -A KUBE-SEP-LF3QCPTYLQR2ITU7 -m comment --comment ns/edge:http -s 10.244.1.15 -j KUBE-MARK-MASQ
            -A KUBE-SEP-LF3QCPTYLQR2ITU7 -m comment --comment ns/edge:http -m tcp -p tcp -j DNAT --to-destination 10.244.1.15:8080
            -A KUBE-SEP-BVHLYLCL4TJFNBHZ -m comment --comment ns/edge:http -s 10.244.2.15 -j KUBE-MARK-MASQ
            -A KUBE-SEP-BVHLYLCL4TJFNBHZ -m comment --comment ns/edge:http -m tcp -p tcp -j DNAT --to-destination 10.244.2.15:8080
            -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
            COMMIT
            """;

    static final String EXPECTED_ETP_LOCAL_NONE = """
            *filter
            :KUBE-SERVICES - [0:0]
            :KUBE-EXTERNAL-SERVICES - [0:0]
            :KUBE-FORWARD - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-PROXY-FIREWALL - [0:0]
            :KUBE-FIREWALL - [0:0]
            -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
            -A KUBE-EXTERNAL-SERVICES -m comment --comment "ns/edge:http has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30081 -j DROP
            -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
            COMMIT
            *nat
            :KUBE-SERVICES - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-POSTROUTING - [0:0]
            :KUBE-MARK-MASQ - [0:0]
            :KUBE-EXT-5OFAXCPO357ZXRXP - [0:0]
            :KUBE-SVC-5OFAXCPO357ZXRXP - [0:0]
            :KUBE-SEP-BVHLYLCL4TJFNBHZ - [0:0]
            -A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN
            -A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000
            -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
            -A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000
            -A KUBE-SERVICES -m comment --comment "ns/edge:http cluster IP" -m tcp -p tcp -d 10.96.0.25 --dport 80 -j KUBE-SVC-5OFAXCPO357ZXRXP
            -A KUBE-NODEPORTS -m comment --comment ns/edge:http -m tcp -p tcp --dport 30081 -j KUBE-EXT-5OFAXCPO357ZXRXP
            -A KUBE-SVC-5OFAXCPO357ZXRXP -m comment --comment "ns/edge:http cluster IP" -m tcp -p tcp -d 10.96.0.25 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
            -A KUBE-EXT-5OFAXCPO357ZXRXP -m comment --comment "pod traffic for ns/edge:http external destinations" -s 10.244.0.0/16 -j KUBE-SVC-5OFAXCPO357ZXRXP
            -A KUBE-EXT-5OFAXCPO357ZXRXP -m comment --comment "masquerade LOCAL traffic for ns/edge:http external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ
            -A KUBE-EXT-5OFAXCPO357ZXRXP -m comment --comment "route LOCAL traffic for ns/edge:http external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-5OFAXCPO357ZXRXP
            -A KUBE-SVC-5OFAXCPO357ZXRXP -m comment --comment "ns/edge:http -> 10.244.2.15:8080" -j KUBE-SEP-BVHLYLCL4TJFNBHZ
            -A KUBE-SEP-BVHLYLCL4TJFNBHZ -m comment --comment ns/edge:http -s 10.244.2.15 -j KUBE-MARK-MASQ
            -A KUBE-SEP-BVHLYLCL4TJFNBHZ -m comment --comment ns/edge:http -m tcp -p tcp -j DNAT --to-destination 10.244.2.15:8080
            -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
            COMMIT
            """;

    static final String EXPECTED_ITP_LOCAL = """
            *filter
            :KUBE-SERVICES - [0:0]
            :KUBE-EXTERNAL-SERVICES - [0:0]
            :KUBE-FORWARD - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-PROXY-FIREWALL - [0:0]
            :KUBE-FIREWALL - [0:0]
            -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
            -A KUBE-SERVICES -m comment --comment "ns/cache:redis has no local endpoints" -m tcp -p tcp -d 10.96.0.27 --dport 6379 -j DROP
            -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
            COMMIT
            *nat
            :KUBE-SERVICES - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-POSTROUTING - [0:0]
            :KUBE-MARK-MASQ - [0:0]
            :KUBE-SVL-ORYT5ZXSBOTRWN4I - [0:0]
            :KUBE-SEP-GV534PY2USSOS664 - [0:0]
            -A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN
            -A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000
            -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
            -A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000
            -A KUBE-SERVICES -m comment --comment "ns/agent:metrics cluster IP" -m tcp -p tcp -d 10.96.0.26 --dport 9100 -j KUBE-SVL-ORYT5ZXSBOTRWN4I
            -A KUBE-SVL-ORYT5ZXSBOTRWN4I -m comment --comment "ns/agent:metrics cluster IP" -m tcp -p tcp -d 10.96.0.26 --dport 9100 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
            -A KUBE-SVL-ORYT5ZXSBOTRWN4I -m comment --comment "ns/agent:metrics -> 10.244.1.16:9100" -j KUBE-SEP-GV534PY2USSOS664
            -A KUBE-SEP-GV534PY2USSOS664 -m comment --comment ns/agent:metrics -s 10.244.1.16 -j KUBE-MARK-MASQ
            -A KUBE-SEP-GV534PY2USSOS664 -m comment --comment ns/agent:metrics -m tcp -p tcp -j DNAT --to-destination 10.244.1.16:9100
            -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
            COMMIT
            """;

    static final String EXPECTED_BOTH_LOCAL = """
            *filter
            :KUBE-SERVICES - [0:0]
            :KUBE-EXTERNAL-SERVICES - [0:0]
            :KUBE-FORWARD - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-PROXY-FIREWALL - [0:0]
            :KUBE-FIREWALL - [0:0]
            -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
            -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
            COMMIT
            *nat
            :KUBE-SERVICES - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-POSTROUTING - [0:0]
            :KUBE-MARK-MASQ - [0:0]
            :KUBE-EXT-GGNJ3N2IC6OF5KVD - [0:0]
            :KUBE-SVC-GGNJ3N2IC6OF5KVD - [0:0]
            :KUBE-SVL-GGNJ3N2IC6OF5KVD - [0:0]
            :KUBE-SEP-EGLL6OLVXYEJTQQK - [0:0]
            :KUBE-SEP-6ZFRTACQ7ZLWT7EC - [0:0]
            -A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN
            -A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000
            -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
            -A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000
            -A KUBE-SERVICES -m comment --comment "ns/gateway:http cluster IP" -m tcp -p tcp -d 10.96.0.29 --dport 80 -j KUBE-SVL-GGNJ3N2IC6OF5KVD
            -A KUBE-NODEPORTS -m comment --comment ns/gateway:http -m tcp -p tcp --dport 30082 -j KUBE-EXT-GGNJ3N2IC6OF5KVD
            -A KUBE-SVL-GGNJ3N2IC6OF5KVD -m comment --comment "ns/gateway:http cluster IP" -m tcp -p tcp -d 10.96.0.29 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
            -A KUBE-EXT-GGNJ3N2IC6OF5KVD -m comment --comment "pod traffic for ns/gateway:http external destinations" -s 10.244.0.0/16 -j KUBE-SVC-GGNJ3N2IC6OF5KVD
            -A KUBE-EXT-GGNJ3N2IC6OF5KVD -m comment --comment "masquerade LOCAL traffic for ns/gateway:http external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ
            -A KUBE-EXT-GGNJ3N2IC6OF5KVD -m comment --comment "route LOCAL traffic for ns/gateway:http external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-GGNJ3N2IC6OF5KVD
            -A KUBE-EXT-GGNJ3N2IC6OF5KVD -j KUBE-SVL-GGNJ3N2IC6OF5KVD
            -A KUBE-SVC-GGNJ3N2IC6OF5KVD -m comment --comment "ns/gateway:http -> 10.244.1.20:8080" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-EGLL6OLVXYEJTQQK
            -A KUBE-SVC-GGNJ3N2IC6OF5KVD -m comment --comment "ns/gateway:http -> 10.244.2.20:8080" -j KUBE-SEP-6ZFRTACQ7ZLWT7EC
            -A KUBE-SVL-GGNJ3N2IC6OF5KVD -m comment --comment "ns/gateway:http -> 10.244.1.20:8080" -j KUBE-SEP-EGLL6OLVXYEJTQQK
            -A KUBE-SEP-EGLL6OLVXYEJTQQK -m comment --comment ns/gateway:http -s 10.244.1.20 -j KUBE-MARK-MASQ
            -A KUBE-SEP-EGLL6OLVXYEJTQQK -m comment --comment ns/gateway:http -m tcp -p tcp -j DNAT --to-destination 10.244.1.20:8080
            -A KUBE-SEP-6ZFRTACQ7ZLWT7EC -m comment --comment ns/gateway:http -s 10.244.2.20 -j KUBE-MARK-MASQ
            -A KUBE-SEP-6ZFRTACQ7ZLWT7EC -m comment --comment ns/gateway:http -m tcp -p tcp -j DNAT --to-destination 10.244.2.20:8080
            -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
            COMMIT
            """;

    static final String EXPECTED_TERMINATING = """
            *filter
            :KUBE-SERVICES - [0:0]
            :KUBE-EXTERNAL-SERVICES - [0:0]
            :KUBE-FORWARD - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-PROXY-FIREWALL - [0:0]
            :KUBE-FIREWALL - [0:0]
            -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
            -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
            COMMIT
            *nat
            :KUBE-SERVICES - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-POSTROUTING - [0:0]
            :KUBE-MARK-MASQ - [0:0]
            :KUBE-SVC-YDUUFGFRYI32FBP7 - [0:0]
            :KUBE-SEP-PK4CJI3ILACFRCE2 - [0:0]
            -A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN
            -A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000
            -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
            -A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000
            -A KUBE-SERVICES -m comment --comment "ns/rolling:http cluster IP" -m tcp -p tcp -d 10.96.0.28 --dport 80 -j KUBE-SVC-YDUUFGFRYI32FBP7
            -A KUBE-SVC-YDUUFGFRYI32FBP7 -m comment --comment "ns/rolling:http cluster IP" -m tcp -p tcp -d 10.96.0.28 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
            -A KUBE-SVC-YDUUFGFRYI32FBP7 -m comment --comment "ns/rolling:http -> 10.244.1.18:8080" -j KUBE-SEP-PK4CJI3ILACFRCE2
            -A KUBE-SEP-PK4CJI3ILACFRCE2 -m comment --comment ns/rolling:http -s 10.244.1.18 -j KUBE-MARK-MASQ
            -A KUBE-SEP-PK4CJI3ILACFRCE2 -m comment --comment ns/rolling:http -m tcp -p tcp -j DNAT --to-destination 10.244.1.18:8080
            -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
            COMMIT
            """;

    static final String EXPECTED_MASQUERADE_ALL = """
            *filter
            :KUBE-SERVICES - [0:0]
            :KUBE-EXTERNAL-SERVICES - [0:0]
            :KUBE-FORWARD - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-PROXY-FIREWALL - [0:0]
            :KUBE-FIREWALL - [0:0]
            -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
            -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00000020/0x00000020 -j ACCEPT
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
            COMMIT
            *nat
            :KUBE-SERVICES - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-POSTROUTING - [0:0]
            :KUBE-MARK-MASQ - [0:0]
            :KUBE-SVC-HMALVVKA6APKJPPY - [0:0]
            :KUBE-SEP-KCSGL6PRDEXKPQMB - [0:0]
            -A KUBE-POSTROUTING -m mark ! --mark 0x00000020/0x00000020 -j RETURN
            -A KUBE-POSTROUTING -j MARK --xor-mark 0x00000020
            -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
            -A KUBE-MARK-MASQ -j MARK --or-mark 0x00000020
            -A KUBE-SERVICES -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j KUBE-SVC-HMALVVKA6APKJPPY
            -A KUBE-SVC-HMALVVKA6APKJPPY -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j KUBE-MARK-MASQ
            -A KUBE-SVC-HMALVVKA6APKJPPY -m comment --comment "ns/web:http -> 10.244.1.10:8080" -j KUBE-SEP-KCSGL6PRDEXKPQMB
            -A KUBE-SEP-KCSGL6PRDEXKPQMB -m comment --comment ns/web:http -s 10.244.1.10 -j KUBE-MARK-MASQ
            -A KUBE-SEP-KCSGL6PRDEXKPQMB -m comment --comment ns/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.1.10:8080
            -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
            COMMIT
            """;

    static final String EXPECTED_UDP_SCTP = """
            *filter
            :KUBE-SERVICES - [0:0]
            :KUBE-EXTERNAL-SERVICES - [0:0]
            :KUBE-FORWARD - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-PROXY-FIREWALL - [0:0]
            :KUBE-FIREWALL - [0:0]
            -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
            -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
            COMMIT
            *nat
            :KUBE-SERVICES - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-POSTROUTING - [0:0]
            :KUBE-MARK-MASQ - [0:0]
            :KUBE-SVC-NEXYWIMJL2KQZCDE - [0:0]
            :KUBE-SEP-A6KINNIKVKVWGEPW - [0:0]
            :KUBE-SVC-JMFDF3MR6Z3S2YGI - [0:0]
            :KUBE-SEP-3TAAJ56IVYV4Y5EY - [0:0]
            -A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN
            -A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000
            -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
            -A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000
            -A KUBE-SERVICES -m comment --comment "ns/dns:dns cluster IP" -m udp -p udp -d 10.96.0.10 --dport 53 -j KUBE-SVC-NEXYWIMJL2KQZCDE
            -A KUBE-SVC-NEXYWIMJL2KQZCDE -m comment --comment "ns/dns:dns cluster IP" -m udp -p udp -d 10.96.0.10 --dport 53 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
            -A KUBE-SVC-NEXYWIMJL2KQZCDE -m comment --comment "ns/dns:dns -> 10.244.1.19:5353" -j KUBE-SEP-A6KINNIKVKVWGEPW
            -A KUBE-SEP-A6KINNIKVKVWGEPW -m comment --comment ns/dns:dns -s 10.244.1.19 -j KUBE-MARK-MASQ
            -A KUBE-SEP-A6KINNIKVKVWGEPW -m comment --comment ns/dns:dns -m udp -p udp -j DNAT --to-destination 10.244.1.19:5353
            -A KUBE-SERVICES -m comment --comment "ns/dns:sig cluster IP" -m sctp -p sctp -d 10.96.0.10 --dport 3868 -j KUBE-SVC-JMFDF3MR6Z3S2YGI
            -A KUBE-SVC-JMFDF3MR6Z3S2YGI -m comment --comment "ns/dns:sig cluster IP" -m sctp -p sctp -d 10.96.0.10 --dport 3868 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
            -A KUBE-SVC-JMFDF3MR6Z3S2YGI -m comment --comment "ns/dns:sig -> 10.244.1.19:3868" -j KUBE-SEP-3TAAJ56IVYV4Y5EY
            -A KUBE-SEP-3TAAJ56IVYV4Y5EY -m comment --comment ns/dns:sig -s 10.244.1.19 -j KUBE-MARK-MASQ
            -A KUBE-SEP-3TAAJ56IVYV4Y5EY -m comment --comment ns/dns:sig -m sctp -p sctp -j DNAT --to-destination 10.244.1.19:3868
            -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
            COMMIT
            """;

    static final String EXPECTED_IPV6 = """
            *filter
            :KUBE-SERVICES - [0:0]
            :KUBE-EXTERNAL-SERVICES - [0:0]
            :KUBE-FORWARD - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-PROXY-FIREWALL - [0:0]
            -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
            COMMIT
            *nat
            :KUBE-SERVICES - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-POSTROUTING - [0:0]
            :KUBE-MARK-MASQ - [0:0]
            :KUBE-EXT-HMALVVKA6APKJPPY - [0:0]
            :KUBE-SVC-HMALVVKA6APKJPPY - [0:0]
            :KUBE-SEP-CHQT2277UDY7D7HH - [0:0]
            :KUBE-SEP-NJLFSJQVVHWVMU4E - [0:0]
            -A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN
            -A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000
            -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
            -A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000
            -A KUBE-SERVICES -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d fd00:96::40 --dport 80 -j KUBE-SVC-HMALVVKA6APKJPPY
            -A KUBE-SERVICES -m comment --comment "ns/web:http external IP" -m tcp -p tcp -d fd00:10::140 --dport 80 -j KUBE-EXT-HMALVVKA6APKJPPY
            -A KUBE-NODEPORTS -m comment --comment ns/web:http -m tcp -p tcp --dport 30040 -j KUBE-EXT-HMALVVKA6APKJPPY
            -A KUBE-SVC-HMALVVKA6APKJPPY -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d fd00:96::40 --dport 80 ! -s fd00:244::/48 -j KUBE-MARK-MASQ
            -A KUBE-EXT-HMALVVKA6APKJPPY -m comment --comment "masquerade traffic for ns/web:http external destinations" -j KUBE-MARK-MASQ
            -A KUBE-EXT-HMALVVKA6APKJPPY -j KUBE-SVC-HMALVVKA6APKJPPY
            -A KUBE-SVC-HMALVVKA6APKJPPY -m comment --comment "ns/web:http -> [fd00:244:0:1::40]:8080" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-CHQT2277UDY7D7HH
            -A KUBE-SVC-HMALVVKA6APKJPPY -m comment --comment "ns/web:http -> [fd00:244:0:2::40]:8080" -j KUBE-SEP-NJLFSJQVVHWVMU4E
            -A KUBE-SEP-CHQT2277UDY7D7HH -m comment --comment ns/web:http -s fd00:244:0:1::40 -j KUBE-MARK-MASQ
            -A KUBE-SEP-CHQT2277UDY7D7HH -m comment --comment ns/web:http -m tcp -p tcp -j DNAT --to-destination [fd00:244:0:1::40]:8080
            -A KUBE-SEP-NJLFSJQVVHWVMU4E -m comment --comment ns/web:http -s fd00:244:0:2::40 -j KUBE-MARK-MASQ
            -A KUBE-SEP-NJLFSJQVVHWVMU4E -m comment --comment ns/web:http -m tcp -p tcp -j DNAT --to-destination [fd00:244:0:2::40]:8080
            -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL ! -d ::1/128 -j KUBE-NODEPORTS
            COMMIT
            """;

}
