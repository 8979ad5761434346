package dev.railyard.overlay.lease;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.etcd.EtcdCluster;
import dev.railyard.overlay.etcd.RequiresEtcd;
import io.etcd.jetcd.Client;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Many hosts race for subnets on a 3-member cluster while one member is killed mid-run. */
@RequiresEtcd
class ConcurrentAcquireTest {
    private static final int HOSTS = 150;
    private static final int CLIENTS = 10;

    @Test
    void noSubnetIsEverGivenToTwoHostsWhileAMemberDies() throws Exception {
        try (EtcdCluster etcd = EtcdCluster.start(3)) {
            List<String> urls = etcd.clientUrls();
            List<Client> clients = new ArrayList<>();
            ExecutorService pool = Executors.newFixedThreadPool(16);
            try {
                for (int i = 0; i < CLIENTS; i++) {
                    // rotate endpoint order so hosts start on different members, including the doomed one
                    List<String> rotated = new ArrayList<>(urls);
                    Collections.rotate(rotated, i);
                    clients.add(EtcdSubnetManager.newClient(EtcdOptions.plain(rotated, "/race")));
                }
                EtcdOptions options = EtcdOptions.plain(urls, "/race").withLeaseTtl(Duration.ofMinutes(10));
                new EtcdSubnetManager(options, clients.get(0))
                        .putNetworkConfig("{\"Network\":\"10.0.0.0/16\",\"SubnetLen\":24,\"Backend\":{\"Type\":\"host-gw\"}}");

                AtomicInteger done = new AtomicInteger();
                AtomicInteger retries = new AtomicInteger();
                CountDownLatch killAt = new CountDownLatch(HOSTS / 3);
                Map<Integer, Ip4Net> granted = new ConcurrentHashMap<>();
                List<Future<?>> futures = new ArrayList<>();
                for (int h = 0; h < HOSTS; h++) {
                    int host = h;
                    futures.add(pool.submit(() -> {
                        EtcdSubnetManager m = new EtcdSubnetManager(options, clients.get(host % CLIENTS));
                        if (host % 2 == 0) {
                            // half the hosts take the daemon's path (config read first: create-first fast path),
                            // half the probing path, so both race each other
                            retrying(m::networkConfig);
                        }
                        LeaseAttrs attrs = new LeaseAttrs(Ip4Net.parseAddress("172.20.0.0") + host, "host-gw", null);
                        for (int attempt = 0; ; attempt++) {
                            try {
                                granted.put(host, m.acquire(attrs, null).subnet());
                                break;
                            } catch (LeaseException e) {
                                // what the daemon does: back off and try again; bounded here
                                if (attempt >= 20 || e instanceof NetworkFullException) {
                                    throw e;
                                }
                                retries.incrementAndGet();
                                sleep(250);
                            }
                        }
                        done.incrementAndGet();
                        killAt.countDown();
                        return null;
                    }));
                }
                assertThat(killAt.await(60, TimeUnit.SECONDS)).isTrue();
                int beforeKill = done.get();
                etcd.member(1).kill();
                for (Future<?> f : futures) {
                    f.get(120, TimeUnit.SECONDS);
                }
                System.out.printf("acquired %d leases, %d before killing member m1, %d retries after errors%n",
                        granted.size(), beforeKill, retries.get());

                assertThat(beforeKill).isLessThan(HOSTS);
                assertThat(granted).hasSize(HOSTS);
                assertThat(new java.util.HashSet<>(granted.values())).as("distinct subnets").hasSize(HOSTS);

                // and etcd agrees: one key per host, each naming the host that was told it won
                EtcdSubnetManager reader = new EtcdSubnetManager(options, clients.get(0));
                Map<Ip4Net, Integer> owner = new HashMap<>();
                for (Lease l : reader.list().leases()) {
                    owner.put(l.subnet(), l.attrs().publicIp() - Ip4Net.parseAddress("172.20.0.0"));
                }
                assertThat(owner).hasSize(HOSTS);
                granted.forEach((host, subnet) -> assertThat(owner.get(subnet)).as("owner of %s", subnet).isEqualTo(host));
            } finally {
                pool.shutdownNow();
                pool.awaitTermination(10, TimeUnit.SECONDS);
                clients.forEach(Client::close);
            }
        }
    }

    private static void retrying(Runnable r) {
        for (int attempt = 0; ; attempt++) {
            try {
                r.run();
                return;
            } catch (LeaseException e) {
                if (attempt >= 20) {
                    throw e;
                }
                sleep(250);
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
