package dev.railyard.overlay.daemon;

import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.etcd.EtcdCluster;
import dev.railyard.overlay.lease.EtcdOptions;
import dev.railyard.overlay.lease.EtcdSubnetManager;
import dev.railyard.testkit.AgentHandle;
import dev.railyard.testkit.LinkEnd;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.SharedLink;
import dev.railyard.testkit.VethLink;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Hosts on one shared link, each running the overlay daemon against the test's etcd, each with one
 * "pod" namespace wired the way the flannel CNI bridge plugin would wire it: a cni0 bridge holding
 * the subnet's first address and a veth into the pod.
 */
final class OverlayHosts implements AutoCloseable {
    private final EtcdCluster etcd;
    private final String prefix;
    private final Duration ttl;
    private final SharedLink lan;
    private final Path dir;
    private final List<Host> hosts = new ArrayList<>();

    OverlayHosts(EtcdCluster etcd, String prefix, int count, Duration ttl) throws IOException {
        this.etcd = etcd;
        this.prefix = prefix;
        this.ttl = ttl;
        this.dir = Files.createTempDirectory("railyard-overlay-hosts-");
        this.lan = SharedLink.builder().hosts(count).ipv4Subnet("192.168.77.0/24").create();
        for (LinkEnd end : lan.hosts()) {
            end.namespace().sysctl("net.ipv4.ip_forward", "1");
            hosts.add(new Host(end));
        }
    }

    EtcdOptions etcdOptions() {
        return EtcdOptions.plain(etcd.clientUrls(), prefix).withLeaseTtl(ttl);
    }

    Host host(int i) {
        return hosts.get(i);
    }

    List<Host> hosts() {
        return hosts;
    }

    final class Host implements AutoCloseable {
        final LinkEnd link;
        final Path subnetFile;
        EtcdSubnetManager manager;
        OverlayDaemon daemon;
        NetworkNamespace pod;
        AgentHandle agent;
        String podIp;

        Host(LinkEnd link) {
            this.link = link;
            this.subnetFile = dir.resolve(link.namespace().name() + "/subnet.env");
        }

        NetworkNamespace ns() {
            return link.namespace();
        }

        OverlayDaemon start(boolean ipMasq) {
            manager = new EtcdSubnetManager(etcdOptions());
            daemon = new OverlayDaemon(new DaemonOptions("eth0", null, subnetFile, ipMasq, Duration.ofSeconds(2),
                    ns().name(), Duration.ofSeconds(1)), manager).start();
            return daemon;
        }

        /** Stops the daemon without releasing its lease, like a host that died. */
        void stop() {
            if (daemon != null) {
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

        /** Plugs in a pod the way the flannel CNI bridge plugin does, and starts a traffic agent in it. */
        void addPod() {
            Ip4Net subnet = subnet();
            String gw = Ip4Net.formatAddress(subnet.addressAt(1));
            podIp = Ip4Net.formatAddress(subnet.addressAt(2));
            pod = NetworkNamespace.create();
            String hostSide = "vp-" + pod.shortId();
            VethLink.between(ns(), pod).names(hostSide, "eth0").ipv4(null, podIp + "/" + subnet.prefixLength()).create();
            if (!ns().exec("ip", "link", "show", "cni0").succeeded()) {
                ns().execChecked("ip", "link", "add", "cni0", "type", "bridge");
                ns().execChecked("ip", "addr", "add", gw + "/" + subnet.prefixLength(), "dev", "cni0");
                ns().execChecked("ip", "link", "set", "cni0", "up");
            }
            ns().execChecked("ip", "link", "set", hostSide, "master", "cni0");
            pod.execChecked("ip", "route", "add", "default", "via", gw);
            agent = AgentHandle.start(pod);
        }

        String routes() {
            return ns().execChecked("ip", "-4", "route", "show").stdout();
        }

        @Override
        public void close() {
            stop();
            if (agent != null) {
                agent.close();
            }
            if (pod != null) {
                pod.close();
            }
        }
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (Host h : hosts) {
            try {
                h.close();
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
