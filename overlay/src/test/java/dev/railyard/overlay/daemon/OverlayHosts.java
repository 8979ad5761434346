package dev.railyard.overlay.daemon;

import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.config.Ip6Net;
import dev.railyard.overlay.config.NetworkConfig;
import dev.railyard.overlay.etcd.EtcdCluster;
import dev.railyard.overlay.kube.KubeSubnetManager;
import dev.railyard.overlay.kube.NodeAnnotations;
import dev.railyard.overlay.lease.EtcdOptions;
import dev.railyard.overlay.lease.EtcdSubnetManager;
import dev.railyard.overlay.lease.SubnetManager;
import dev.railyard.proxy.source.kubernetes.ApiClients;
import dev.railyard.proxy.source.kubernetes.ClientConfigException;
import dev.railyard.testkit.AgentHandle;
import dev.railyard.testkit.LinkEnd;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.SharedLink;
import dev.railyard.testkit.VethLink;
import dev.railyard.testkit.kubernetes.TestApiServer;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeSpec;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Hosts on one shared link, each running the overlay daemon against the test's etcd or test API server, each
 * with one "pod" namespace wired the way the flannel CNI bridge plugin would wire it: a cni0 bridge holding the
 * first address of each of the host's subnets and a veth into the pod. Hosts can leave and new ones join (a new
 * namespace, a new address on the link), as machines do.
 */
final class OverlayHosts implements AutoCloseable {
    private static final java.util.concurrent.atomic.AtomicInteger FIXTURES = new java.util.concurrent.atomic.AtomicInteger();

    /** Where leases live: etcd, or Node objects of the test API server. */
    interface Store {
        SubnetManager newManager(Host host);

        /** What a new machine needs before its daemon starts (kube: its Node, with the pod CIDRs allocated). */
        default void machineJoins(Host host) {
        }

        /** A machine is decommissioned (kube: its Node is deleted; etcd: its lease is revoked). */
        void machineLeaves(Host host);

        /** The test is over: nothing of this fixture may show up in the next one sharing the store. */
        default void forget(Host host) {
        }
    }

    private final Store store;
    private EtcdOptions etcdOptions;
    private final boolean ipv4;
    private final boolean ipv6;
    private final SharedLink lan;
    private final Path dir;
    private final List<Host> hosts = new ArrayList<>();
    private final int fixture = FIXTURES.incrementAndGet();
    private int joined;

    private OverlayHosts(Store store, boolean ipv4, boolean ipv6, int count) throws IOException {
        this.store = store;
        this.ipv4 = ipv4;
        this.ipv6 = ipv6;
        this.dir = Files.createTempDirectory("railyard-overlay-hosts-");
        this.lan = SharedLink.builder().ipv4Subnet(ipv4 ? "192.168.77.0/24" : null).ipv6Subnet(ipv6 ? "fd77::/64" : null)
                .create();
        try {
            for (int i = 0; i < count; i++) {
                join();
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** IPv4-only hosts leasing from etcd (the original fixture). */
    OverlayHosts(EtcdCluster etcd, String prefix, int count, Duration ttl) throws IOException {
        this(etcdStore(etcd, prefix, ttl), true, false, count);
        this.etcdOptions = EtcdOptions.plain(etcd.clientUrls(), prefix).withLeaseTtl(ttl);
    }

    static OverlayHosts etcd(EtcdCluster etcd, String prefix, Duration ttl, boolean ipv4, boolean ipv6, int count)
            throws IOException {
        OverlayHosts hosts = new OverlayHosts(etcdStore(etcd, prefix, ttl), ipv4, ipv6, count);
        hosts.etcdOptions = EtcdOptions.plain(etcd.clientUrls(), prefix).withLeaseTtl(ttl);
        return hosts;
    }

    /** How the hosts reach etcd (etcd fixtures only). */
    EtcdOptions etcdOptions() {
        return etcdOptions;
    }

    private static Store etcdStore(EtcdCluster etcd, String prefix, Duration ttl) {
        EtcdOptions options = EtcdOptions.plain(etcd.clientUrls(), prefix).withLeaseTtl(ttl);
        return new Store() {
            @Override
            public SubnetManager newManager(Host host) {
                return new EtcdSubnetManager(options);
            }

            @Override
            public void machineLeaves(Host host) {
                try (EtcdSubnetManager admin = new EtcdSubnetManager(options)) {
                    admin.release(host.lastLease);
                }
            }
        };
    }

    /**
     * Hosts whose subnets come from their Node objects: the test plays kube-controller-manager, giving the n-th
     * machine to join the n-th subnet of each family of {@code config}.
     */
    static OverlayHosts kube(TestApiServer api, NetworkConfig config, int count) throws IOException {
        Store store = new Store() {
            @Override
            public SubnetManager newManager(Host host) {
                try {
                    return new KubeSubnetManager(ApiClients.fromMaster(api.url()), config,
                            new KubeSubnetManager.Settings(host.nodeName, NodeAnnotations.withPrefix(null), true, null));
                } catch (ClientConfigException e) {
                    throw new IllegalStateException(e);
                }
            }

            @Override
            public void machineJoins(Host host) {
                List<String> cidrs = new ArrayList<>();
                if (config.enableIPv4()) {
                    cidrs.add(config.ipv4().at(host.ordinal).toString());
                }
                if (config.enableIPv6()) {
                    cidrs.add(config.ipv6().at(host.ordinal).toString());
                }
                api.create(new V1Node().metadata(new V1ObjectMeta().name(host.nodeName))
                        .spec(new V1NodeSpec().podCIDR(cidrs.get(0)).podCIDRs(cidrs)));
            }

            @Override
            public void machineLeaves(Host host) {
                api.delete(new V1Node().metadata(new V1ObjectMeta().name(host.nodeName)));
            }

            @Override
            public void forget(Host host) {
                if (api.get(TestApiServer.Resource.NODES, null, host.nodeName) != null) {
                    machineLeaves(host);
                }
            }
        };
        return new OverlayHosts(store, config.enableIPv4(), config.enableIPv6(), count);
    }

    Host host(int i) {
        return hosts.get(i);
    }

    /** The machines in the cluster now, in the order they joined. */
    List<Host> hosts() {
        return List.copyOf(hosts);
    }

    /** A new machine: a fresh namespace on the link with the next addresses, not yet running the daemon. */
    Host join() {
        NetworkNamespace ns = NetworkNamespace.create();
        try {
            int index = ++joined;
            LinkEnd end = lan.attach(ns, ipv4 ? "192.168.77." + index + "/24" : null, ipv6 ? "fd77::" + Integer.toHexString(index) + "/64" : null);
            ns.sysctl("net.ipv4.ip_forward", "1");
            if (ipv6) {
                ns.sysctl("net.ipv6.conf.all.forwarding", "1");
            }
            Host h = new Host(end, index - 1);
            store.machineJoins(h);
            hosts.add(h);
            return h;
        } catch (RuntimeException e) {
            ns.close();
            throw e;
        }
    }

    /** Decommissions a machine: its daemon and pod stop, its lease or Node goes, its namespace is deleted. */
    void leave(Host h) {
        h.stop();
        store.machineLeaves(h);
        hosts.remove(h);
        h.close();
        h.ns().close();
    }

    final class Host implements AutoCloseable {
        final LinkEnd link;
        final int ordinal;
        final String nodeName;
        final Path subnetFile;
        SubnetManager manager;
        OverlayDaemon daemon;
        NetworkNamespace pod;
        AgentHandle agent;
        String podIp;
        String podIp6;
        dev.railyard.overlay.lease.Lease lastLease;

        Host(LinkEnd link, int ordinal) {
            this.link = link;
            this.ordinal = ordinal;
            this.nodeName = "node-" + fixture + "-" + ordinal;
            this.subnetFile = dir.resolve(link.namespace().name() + "/subnet.env");
        }

        NetworkNamespace ns() {
            return link.namespace();
        }

        OverlayDaemon start(boolean ipMasq) {
            manager = store.newManager(this);
            try {
                daemon = new OverlayDaemon(new DaemonOptions("eth0", null, subnetFile, ipMasq, Duration.ofSeconds(2),
                        ns().name(), Duration.ofSeconds(1)), manager).start();
            } catch (RuntimeException e) {
                manager.close();
                manager = null;
                throw e;
            }
            lastLease = daemon.lease();
            return daemon;
        }

        /** Stops the daemon without releasing its lease, like a host that died. */
        void stop() {
            if (daemon != null) {
                lastLease = daemon.lease();
                daemon.close();
                daemon = null;
            }
            if (manager != null) {
                manager.close();
                manager = null;
            }
        }

        Ip4Net subnet() {
            return daemon.lease().subnet();
        }

        Ip6Net subnet6() {
            return daemon.lease().ipv6Subnet();
        }

        /** Plugs in a pod the way the flannel CNI bridge plugin does, and starts a traffic agent in it. */
        void addPod() {
            pod = NetworkNamespace.create();
            String hostSide = "vp-" + pod.shortId();
            Ip4Net subnet = ipv4 ? subnet() : null;
            Ip6Net subnet6 = ipv6 ? subnet6() : null;
            podIp = subnet == null ? null : Ip4Net.formatAddress(subnet.addressAt(2));
            podIp6 = subnet6 == null ? null : subnet6.addressAt(2).toString();
            VethLink.between(ns(), pod).names(hostSide, "eth0")
                    .ipv4(null, podIp == null ? null : podIp + "/" + subnet.prefixLength())
                    .ipv6(null, podIp6 == null ? null : podIp6 + "/" + subnet6.prefixLength()).create();
            if (!ns().exec("ip", "link", "show", "cni0").succeeded()) {
                ns().execChecked("ip", "link", "add", "cni0", "type", "bridge");
                if (subnet != null) {
                    ns().execChecked("ip", "addr", "add", Ip4Net.formatAddress(subnet.addressAt(1)) + "/" + subnet.prefixLength(), "dev", "cni0");
                }
                if (subnet6 != null) {
                    ns().execChecked("ip", "-6", "addr", "add", subnet6.addressAt(1) + "/" + subnet6.prefixLength(), "dev", "cni0", "nodad");
                }
                ns().execChecked("ip", "link", "set", "cni0", "up");
            }
            ns().execChecked("ip", "link", "set", hostSide, "master", "cni0");
            if (subnet != null) {
                pod.execChecked("ip", "route", "add", "default", "via", Ip4Net.formatAddress(subnet.addressAt(1)));
            }
            if (subnet6 != null) {
                pod.execChecked("ip", "-6", "route", "add", "default", "via", subnet6.addressAt(1).toString());
            }
            agent = AgentHandle.start(pod);
        }

        /** The pod's addresses, one per family in use. */
        List<String> podIps() {
            List<String> ips = new ArrayList<>();
            if (podIp != null) {
                ips.add(podIp);
            }
            if (podIp6 != null) {
                ips.add(podIp6);
            }
            return ips;
        }

        String routes() {
            return ns().execChecked("ip", "-4", "route", "show").stdout();
        }

        String routes6() {
            return ns().execChecked("ip", "-6", "route", "show").stdout();
        }

        @Override
        public void close() {
            stop();
            if (agent != null) {
                agent.close();
                agent = null;
            }
            if (pod != null) {
                pod.close();
                pod = null;
            }
        }
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (Host h : hosts) {
            try {
                h.close();
                h.ns().close();
                store.forget(h);
            } catch (RuntimeException e) {
                first = first == null ? e : first;
            }
        }
        lan.close();
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // temp files only
        }
        if (first != null) {
            throw first;
        }
    }
}
