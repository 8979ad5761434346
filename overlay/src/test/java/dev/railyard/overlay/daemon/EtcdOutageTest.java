package dev.railyard.overlay.daemon;

import static dev.railyard.overlay.daemon.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.etcd.EtcdCluster;
import dev.railyard.overlay.etcd.RequiresEtcd;
import dev.railyard.overlay.lease.EtcdSubnetManager;
import dev.railyard.overlay.lease.Lease;
import dev.railyard.testkit.RequiresPrivileges;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** etcd goes away for longer than the renew interval (and the TTL) and comes back. */
@RequiresEtcd
@RequiresPrivileges(commands = {"ip", "bridge"})
class EtcdOutageTest {

    @Test
    void routesSurviveAnOutageAndTheLeaseAndWatchRecoverAfterIt() throws Exception {
        try (EtcdCluster etcd = EtcdCluster.start(1);
             OverlayHosts hosts = new OverlayHosts(etcd, "/outage/network", 2, Duration.ofSeconds(4))) {
            try (EtcdSubnetManager m = new EtcdSubnetManager(hosts.etcdOptions())) {
                m.putNetworkConfig("{\"Network\":\"10.80.0.0/16\",\"Backend\":{\"Type\":\"host-gw\"}}");
            }
            OverlayHosts.Host h0 = hosts.host(0);
            OverlayHosts.Host h1 = hosts.host(1);
            for (OverlayHosts.Host h : hosts.hosts()) {
                h.start(false);
                h.addPod();
            }
            h1.agent.tcpServe(8080, "pod1");
            Ip4Net h0Subnet = h0.subnet();
            Ip4Net h1Subnet = h1.subnet();
            eventually(Duration.ofSeconds(10), () -> assertThat(h0.agent.tcpGet(h1.podIp, 8080, Duration.ofSeconds(2)).isOk()).isTrue());

            // renew interval is ~2 s and the TTL 4 s; stay down for 8 s
            etcd.member(0).kill();
            Thread.sleep(8000);
            assertThat(h0.routes()).as("routes stay while etcd is down").contains(h1Subnet.toString());
            assertThat(h0.agent.tcpGet(h1.podIp, 8080, Duration.ofSeconds(2)).isOk()).as("pods still talk").isTrue();

            etcd.member(0).start();
            etcd.member(0).awaitHealthy(30_000);

            // renewal resumes: our key is bound to the lease the daemon holds, on the same subnet
            try (EtcdSubnetManager reader = new EtcdSubnetManager(hosts.etcdOptions())) {
                eventually(Duration.ofSeconds(20), () -> {
                    Lease held = h0.daemon.lease();
                    assertThat(held.subnet()).isEqualTo(h0Subnet);
                    assertThat(reader.list().leases()).anySatisfy(l -> {
                        assertThat(l.subnet()).isEqualTo(h0Subnet);
                        assertThat(l.etcdLeaseId()).isEqualTo(held.etcdLeaseId());
                        assertThat(l.attrs().publicIpString()).isEqualTo(h0.link.ipv4());
                    });
                });
                // still renewing past another full TTL; h1 may be between losing and re-taking its lease when
                // etcd comes back, so its subnet only has to come back, while h0's lease must never have gone
                Thread.sleep(5000);
                assertThat(reader.list().leases()).extracting(Lease::subnet).contains(h0Subnet);
                eventually(Duration.ofSeconds(15),
                        () -> assertThat(reader.list().leases()).extracting(Lease::subnet).contains(h1Subnet));
            }

            // and the watch is live again: a host that leaves now is removed
            h1.stop();
            eventually(Duration.ofSeconds(20), () -> assertThat(h0.routes()).doesNotContain(h1Subnet.toString()));
        }
    }
}
