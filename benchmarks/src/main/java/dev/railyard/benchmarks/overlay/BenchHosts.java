package dev.railyard.benchmarks.overlay;

import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.daemon.DaemonOptions;
import dev.railyard.overlay.daemon.OverlayDaemon;
import dev.railyard.overlay.lease.SubnetManager;
import dev.railyard.testkit.LinkEnd;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.SharedLink;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Hosts for overlay load runs: network namespaces on one shared link (192.168.0.0/16), each able to run the overlay
 * daemon in this JVM and to hold a cni0 bridge with its subnet's first address, as the flannel CNI plugin would.
 */
final class BenchHosts implements AutoCloseable {
    private final SharedLink lan;
    private final Path dir;
    private final List<Host> hosts = new ArrayList<>();

    BenchHosts(int count, int mtu) throws IOException {
        dir = Files.createTempDirectory("railyard-bench-hosts-");
        lan = SharedLink.builder().ipv4Subnet(null).mtu(mtu).create();
        for (int i = 0; i < count; i++) {
            NetworkNamespace ns = NetworkNamespace.create();
            LinkEnd end = lan.attach(ns, "192.168." + ((i + 1) >> 8) + "." + ((i + 1) & 0xff) + "/16", null);
            ns.sysctl("net.ipv4.ip_forward", "1");
            hosts.add(new Host(end, i));
        }
    }

    List<Host> hosts() {
        return hosts;
    }

    Host host(int i) {
        return hosts.get(i);
    }

    final class Host {
        final LinkEnd link;
        final int index;
        final Path subnetFile;
        SubnetManager manager;
        OverlayDaemon daemon;

        Host(LinkEnd link, int index) {
            this.link = link;
            this.index = index;
            this.subnetFile = dir.resolve(link.namespace().name() + ".env");
        }

        NetworkNamespace ns() {
            return link.namespace();
        }

        /** Starts the daemon; resyncs are rare so that a hundred daemons in one JVM do not load the machine. */
        OverlayDaemon start(Function<Host, SubnetManager> managers, Duration resync) {
            manager = managers.apply(this);
            daemon = new OverlayDaemon(new DaemonOptions("eth0", null, subnetFile, false, null, ns().name(), resync),
                    manager).start();
            return daemon;
        }

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

        /** A fresh machine: no subnet file, no devices or routes from an earlier life. */
        void wipe() throws IOException {
            stop();
            Files.deleteIfExists(subnetFile);
            for (String dev : new String[] {"flannel.1", "cni0"}) {
                ns().exec("ip", "link", "del", dev);
            }
            ns().exec("ip", "route", "flush", "root", "10.0.0.0/8");
        }

        /** The bridge a CNI plugin would create, holding the subnet's first address (the pods' gateway). */
        String addBridge() {
            Ip4Net subnet = daemon.lease().subnet();
            String gw = Ip4Net.formatAddress(subnet.addressAt(1));
            ns().exec("ip", "link", "del", "cni0");
            ns().execChecked("ip", "link", "add", "cni0", "type", "bridge");
            ns().execChecked("ip", "addr", "add", gw + "/" + subnet.prefixLength(), "dev", "cni0");
            ns().execChecked("ip", "link", "set", "cni0", "up");
            return gw;
        }
    }

    @Override
    public void close() {
        for (Host h : hosts) {
            try {
                h.stop();
            } catch (RuntimeException e) {
                System.err.println("stopping " + h.ns().name() + ": " + e);
            }
            h.ns().close();
        }
        lan.close();
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // temp files only
        }
    }
}
