package dev.railyard.overlay.lease;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.etcd.EtcdCluster;
import dev.railyard.overlay.etcd.RequiresEtcd;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

@RequiresEtcd
class EtcdLeaseWatchTest {
    private static EtcdCluster etcd;

    @BeforeAll
    static void start() throws Exception {
        etcd = EtcdCluster.start(1);
    }

    @AfterAll
    static void stop() {
        if (etcd != null) {
            etcd.close();
        }
    }

    /** Records what the watch delivers, as "reset [subnets]" or "added X" / "removed X". */
    static final class Recorder implements LeaseListener {
        final LinkedBlockingQueue<String> seen = new LinkedBlockingQueue<>();

        @Override
        public void reset(List<Lease> leases) {
            seen.add("reset " + leases.stream().map(l -> l.subnet().toString()).sorted().toList());
        }

        @Override
        public void changed(List<LeaseEvent> events) {
            for (LeaseEvent e : events) {
                seen.add(e.type().name().toLowerCase() + " " + e.lease().subnet());
            }
        }

        String next() throws InterruptedException {
            String s = seen.poll(15, TimeUnit.SECONDS);
            assertThat(s).as("watch delivered nothing within 15 s").isNotNull();
            return s;
        }
    }

    private static LeaseAttrs host(int n) {
        return new LeaseAttrs(Ip4Net.parseAddress("192.168.1.0") + n, "host-gw", null);
    }

    @Test
    @SuppressWarnings("try") // the watch only needs to be open
    void listsThenStreamsAdditionsAndRemovals() throws Exception {
        try (EtcdSubnetManager m = new EtcdSubnetManager(EtcdOptions.plain(etcd.clientUrls(), "/watch1").withLeaseTtl(Duration.ofMinutes(5)))) {
            m.putNetworkConfig("{\"Network\":\"10.40.0.0/16\",\"Backend\":{\"Type\":\"host-gw\"}}");
            Lease a = m.acquire(host(1), LeaseSubnets.of(Ip4Net.parse("10.40.1.0/24")));
            m.acquire(host(2), LeaseSubnets.of(Ip4Net.parse("10.40.2.0/24")));
            Recorder r = new Recorder();
            try (AutoCloseable w = m.watch(r)) {
                assertThat(r.next()).isEqualTo("reset [10.40.1.0/24, 10.40.2.0/24]");
                m.acquire(host(3), LeaseSubnets.of(Ip4Net.parse("10.40.3.0/24")));
                assertThat(r.next()).isEqualTo("added 10.40.3.0/24");
                m.release(a);
                assertThat(r.next()).isEqualTo("removed 10.40.1.0/24");
                // junk under the prefix is skipped, not fatal
                m.await("junk", m.client().getKVClient().put(EtcdSubnetManager.bytes("/watch1/subnets/10.40.9.0-24"),
                        EtcdSubnetManager.bytes("not json")));
                m.acquire(host(4), LeaseSubnets.of(Ip4Net.parse("10.40.4.0/24")));
                assertThat(r.next()).isEqualTo("added 10.40.4.0/24");
            }
        }
    }

    @Test
    @SuppressWarnings("try")
    void relistsWhenItsRevisionWasCompacted() throws Exception {
        try (EtcdSubnetManager m = new EtcdSubnetManager(EtcdOptions.plain(etcd.clientUrls(), "/watch2").withLeaseTtl(Duration.ofMinutes(5)))) {
            m.putNetworkConfig("{\"Network\":\"10.41.0.0/16\",\"Backend\":{\"Type\":\"host-gw\"}}");
            List<Lease> leases = new ArrayList<>();
            for (int i = 1; i <= 3; i++) {
                leases.add(m.acquire(host(i), LeaseSubnets.of(Ip4Net.parse("10.41." + i + ".0/24"))));
            }
            m.release(leases.get(0));
            long revision = m.list().revision();
            m.await("compact", m.client().getKVClient().compact(revision));

            Recorder r = new Recorder();
            // resume from a revision that no longer exists, as a watcher that was away too long would
            try (EtcdLeaseWatch w = new EtcdLeaseWatch(m, r, 2)) {
                assertThat(r.next()).isEqualTo("reset [10.41.2.0/24, 10.41.3.0/24]");
                m.release(leases.get(1));
                assertThat(r.next()).isEqualTo("removed 10.41.2.0/24");
            }
        }
    }
}
