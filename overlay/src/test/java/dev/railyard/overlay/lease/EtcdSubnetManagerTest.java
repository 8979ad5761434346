package dev.railyard.overlay.lease;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.railyard.overlay.config.ConfigException;
import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.etcd.EtcdCluster;
import dev.railyard.overlay.etcd.RequiresEtcd;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.LeaseOption;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

@RequiresEtcd
class EtcdSubnetManagerTest {
    private static final AtomicInteger PREFIXES = new AtomicInteger();
    private static EtcdCluster etcd;

    private EtcdSubnetManager manager;
    private String prefix;

    @BeforeAll
    static void startEtcd() throws Exception {
        etcd = EtcdCluster.start(1);
    }

    @AfterAll
    static void stopEtcd() {
        if (etcd != null) {
            etcd.close();
        }
    }

    @BeforeEach
    void newPrefix(TestInfo info) {
        // one etcd for the class, one key space per test
        prefix = "/test" + PREFIXES.incrementAndGet() + "/network";
        manager = new EtcdSubnetManager(EtcdOptions.plain(etcd.clientUrls(), prefix).withLeaseTtl(Duration.ofSeconds(30)));
    }

    @AfterEach
    void closeManager() {
        manager.close();
    }

    private static LeaseAttrs host(String ip) {
        return new LeaseAttrs(Ip4Net.parseAddress(ip), "host-gw", null);
    }

    private KeyValue stored(Ip4Net subnet) {
        List<KeyValue> kvs = manager.await("get", manager.client().getKVClient()
                .get(EtcdSubnetManager.bytes(manager.keys().subnetKey(subnet)))).getKvs();
        return kvs.isEmpty() ? null : kvs.get(0);
    }

    @Test
    void acquireWritesFlannelLeaseAttachedToAnEtcdLease() {
        manager.putNetworkConfig("{\"Network\":\"10.10.0.0/16\",\"Backend\":{\"Type\":\"host-gw\"}}");
        Lease lease = manager.acquire(host("192.168.50.1"), null);

        assertThat(lease.subnet().prefixLength()).isEqualTo(24);
        assertThat(Ip4Net.parse("10.10.0.0/16").contains(lease.subnet())).isTrue();
        assertThat(lease.subnet()).isNotEqualTo(Ip4Net.parse("10.10.0.0/24"));
        KeyValue kv = stored(lease.subnet());
        assertThat(kv.getKey().toString(StandardCharsets.UTF_8))
                .isEqualTo(prefix + "/subnets/" + lease.subnet().addressString() + "-24");
        assertThat(kv.getValue().toString(StandardCharsets.UTF_8))
                .isEqualTo("{\"PublicIP\":\"192.168.50.1\",\"PublicIPv6\":null,\"BackendType\":\"host-gw\"}");
        assertThat(kv.getLease()).isEqualTo(lease.etcdLeaseId()).isNotZero();
        long ttl = manager.await("ttl", manager.client().getLeaseClient().timeToLive(lease.etcdLeaseId(), LeaseOption.DEFAULT)).getTTL();
        assertThat(ttl).isBetween(25L, 30L);
    }

    @Test
    void sameHostGetsItsSubnetBackAndOtherHostsDoNot() {
        manager.putNetworkConfig("{\"Network\":\"10.11.0.0/16\",\"Backend\":{\"Type\":\"host-gw\"}}");
        Lease first = manager.acquire(host("192.168.50.1"), null);
        Lease again = manager.acquire(host("192.168.50.1"), null);
        Lease other = manager.acquire(host("192.168.50.2"), first.subnets());

        assertThat(again.subnet()).isEqualTo(first.subnet());
        assertThat(again.etcdLeaseId()).isNotEqualTo(first.etcdLeaseId());
        assertThat(stored(first.subnet()).getLease()).isEqualTo(again.etcdLeaseId());
        assertThat(other.subnet()).isNotEqualTo(first.subnet());
        assertThat(manager.list().stored()).hasSize(2);
    }

    @Test
    void aRestartedHostFindsItsSubnetThroughTheHostIndexWithoutASubnetFile() {
        manager.putNetworkConfig("{\"Network\":\"10.17.0.0/16\",\"Backend\":{\"Type\":\"host-gw\"}}");
        manager.networkConfig(); // as the daemon does: enables the create-first fast path
        Lease first = manager.acquire(host("192.168.51.1"), null);
        KeyValue index = manager.await("get", manager.client().getKVClient()
                .get(EtcdSubnetManager.bytes(prefix + "/railyard-hosts/192.168.51.1"))).getKvs().get(0);
        assertThat(index.getValue().toString(StandardCharsets.UTF_8)).isEqualTo(first.subnet().addressString() + "-24");
        assertThat(index.getLease()).as("index expires with the subnet").isEqualTo(first.etcdLeaseId());

        // a new process on the same host, subnet.env lost (e.g. /run is tmpfs and the node rebooted)
        try (EtcdSubnetManager restarted = new EtcdSubnetManager(EtcdOptions.plain(etcd.clientUrls(), prefix)
                .withLeaseTtl(Duration.ofSeconds(30)))) {
            restarted.networkConfig();
            Lease again = restarted.acquire(host("192.168.51.1"), null);
            assertThat(again.subnet()).isEqualTo(first.subnet());
            assertThat(stored(first.subnet()).getLease()).isEqualTo(again.etcdLeaseId());
            assertThat(restarted.list().stored()).hasSize(1);
        }
        // a different host on the fast path never lands on it
        Lease other = manager.acquire(host("192.168.51.2"), null);
        assertThat(other.subnet()).isNotEqualTo(first.subnet());
    }

    @Test
    void previousSubnetIsReusedWhenFree() {
        manager.putNetworkConfig("{\"Network\":\"10.12.0.0/16\",\"Backend\":{\"Type\":\"host-gw\"}}");
        Ip4Net wanted = Ip4Net.parse("10.12.77.0/24");
        assertThat(manager.acquire(host("192.168.50.3"), LeaseSubnets.of(wanted)).subnet()).isEqualTo(wanted);
        // outside the network: ignored, a fresh subnet is picked
        Ip4Net foreign = Ip4Net.parse("10.99.1.0/24");
        assertThat(manager.acquire(host("192.168.50.4"), LeaseSubnets.of(foreign)).subnet()).isNotEqualTo(foreign)
                .satisfies(s -> assertThat(Ip4Net.parse("10.12.0.0/16").contains(s)).isTrue());
    }

    @Test
    void reservationsAreNeverTakenAndAFullNetworkFailsClearly() {
        // 10.13.0.0/26 with /28 subnets: three allocatable subnets .16, .32, .48
        manager.putNetworkConfig("{\"Network\":\"10.13.0.0/26\",\"SubnetLen\":28,\"Backend\":{\"Type\":\"host-gw\"}}");
        reserve("10.13.0.16/28", "192.168.60.16");
        reserve("10.13.0.32/28", "192.168.60.32");

        Lease a = manager.acquire(host("192.168.50.5"), LeaseSubnets.of(Ip4Net.parse("10.13.0.16/28")));
        assertThat(a.subnet()).isEqualTo(Ip4Net.parse("10.13.0.48/28"));
        assertThatThrownBy(() -> manager.acquire(host("192.168.50.6"), null))
                .isInstanceOf(NetworkFullException.class)
                .hasMessageContaining("network 10.13.0.0/26 (3 /28 subnets from 10.13.0.16 to 10.13.0.48) is full");

        // the reserved host itself gets its reservation, and it stays without TTL
        Lease r = manager.acquire(host("192.168.60.32"), null);
        assertThat(r.subnet()).isEqualTo(Ip4Net.parse("10.13.0.32/28"));
        assertThat(r.isReservation()).isTrue();
        assertThat(stored(r.subnet()).getLease()).isZero();
        assertThat(manager.renew(r)).isEqualTo(r);
    }

    private void reserve(String subnet, String ip) {
        manager.await("reserve", manager.client().getKVClient().put(
                EtcdSubnetManager.bytes(manager.keys().subnetKey(Ip4Net.parse(subnet))),
                EtcdSubnetManager.bytes(host(ip).toJson())));
    }

    @Test
    void renewExtendsTheEtcdLease() throws Exception {
        manager.close();
        manager = new EtcdSubnetManager(EtcdOptions.plain(etcd.clientUrls(), prefix).withLeaseTtl(Duration.ofSeconds(3)));
        manager.putNetworkConfig("{\"Network\":\"10.14.0.0/16\",\"Backend\":{\"Type\":\"host-gw\"}}");
        Lease lease = manager.acquire(host("192.168.50.7"), null);
        for (int i = 0; i < 4; i++) {
            Thread.sleep(1500);
            Lease renewed = manager.renew(lease);
            assertThat(renewed.subnet()).isEqualTo(lease.subnet());
            assertThat(renewed.etcdLeaseId()).isEqualTo(lease.etcdLeaseId());
            assertThat(renewed.expiration()).isAfter(Instant.now().plusSeconds(1));
            lease = renewed;
        }
        // 6 s have passed on a 3 s TTL: only renewal kept the key
        assertThat(stored(lease.subnet())).isNotNull();
    }

    @Test
    void expiredLeaseIsReacquiredWithTheSameSubnet() throws Exception {
        manager.close();
        manager = new EtcdSubnetManager(EtcdOptions.plain(etcd.clientUrls(), prefix).withLeaseTtl(Duration.ofSeconds(2)));
        manager.putNetworkConfig("{\"Network\":\"10.15.0.0/16\",\"Backend\":{\"Type\":\"host-gw\"}}");
        Lease lease = manager.acquire(host("192.168.50.8"), null);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (stored(lease.subnet()) != null && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        assertThat(stored(lease.subnet())).as("lease should have expired").isNull();

        Lease back = manager.renew(lease);
        assertThat(back.subnet()).isEqualTo(lease.subnet());
        assertThat(back.etcdLeaseId()).isNotEqualTo(lease.etcdLeaseId());
        assertThat(stored(back.subnet()).getLease()).isEqualTo(back.etcdLeaseId());
    }

    @Test
    void expiredLeaseWhoseSubnetWasTakenMovesToAnother() throws Exception {
        manager.close();
        manager = new EtcdSubnetManager(EtcdOptions.plain(etcd.clientUrls(), prefix).withLeaseTtl(Duration.ofSeconds(2)));
        manager.putNetworkConfig("{\"Network\":\"10.16.0.0/16\",\"Backend\":{\"Type\":\"host-gw\"}}");
        Lease lease = manager.acquire(host("192.168.50.9"), null);
        manager.release(lease);
        Lease thief = manager.acquire(host("192.168.50.10"), lease.subnets());
        assertThat(thief.subnet()).isEqualTo(lease.subnet());

        Lease moved = manager.renew(lease);
        assertThat(moved.subnet()).isNotEqualTo(lease.subnet());
        assertThat(LeaseAttrs.fromJson("k", stored(lease.subnet()).getValue().toString(StandardCharsets.UTF_8)).publicIpString())
                .isEqualTo("192.168.50.10");
    }

    @Test
    void missingOrBrokenConfigFailsClearly() {
        assertThatThrownBy(() -> manager.acquire(host("192.168.50.11"), null))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("network config not found at " + prefix + "/config");
        assertThatThrownBy(() -> manager.putNetworkConfig("{\"Network\":\"10.0.0.0/30\"}"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("Network: 10.0.0.0/30 is too small");
        assertThat(manager.rawNetworkConfig()).as("a rejected config is not stored").isNull();
        manager.await("put", manager.client().getKVClient().put(EtcdSubnetManager.bytes(prefix + "/config"),
                EtcdSubnetManager.bytes("{\"Network\": 10}")));
        assertThatThrownBy(() -> manager.networkConfig())
                .isInstanceOf(ConfigException.class).hasMessageContaining("field Network: expected a string");
    }

    @Test
    void unreachableEtcdFailsWithTheEndpointInTheMessage() {
        try (EtcdSubnetManager dead = new EtcdSubnetManager(new EtcdOptions(List.of("http://127.0.0.1:1"), prefix,
                null, null, null, null, Duration.ofSeconds(2)))) {
            assertThatThrownBy(dead::networkConfig).isInstanceOf(LeaseException.class)
                    .hasMessageContaining("read network config").hasMessageContaining("http://127.0.0.1:1");
        }
    }
}
