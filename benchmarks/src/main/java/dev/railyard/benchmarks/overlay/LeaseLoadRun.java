package dev.railyard.benchmarks.overlay;

import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.lease.EtcdOptions;
import dev.railyard.overlay.lease.EtcdSubnetManager;
import dev.railyard.overlay.lease.Lease;
import dev.railyard.overlay.lease.LeaseAttrs;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Bounded load run for subnet leasing against a real etcd it starts itself, each figure next to
 * its limit measured in the same run: a raw etcd create-if-absent transaction (version == 0 then
 * put), which is the one write an acquisition cannot avoid.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar:benchmarks/target/lib/* dev.railyard.benchmarks.overlay.LeaseLoadRun [hosts] [threads]
 * </pre>
 */
public final class LeaseLoadRun {
    private static final String CONFIG = "{\"Network\":\"10.0.0.0/8\",\"SubnetLen\":24,\"Backend\":{\"Type\":\"host-gw\"}}";
    private static final int CLIENTS = 8;
    private static final int ROUNDS = 5;

    public static void main(String[] args) throws Exception {
        int hosts = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        int sequential = Math.min(hosts, 300);
        try (BenchEtcd etcd = new BenchEtcd()) {
            List<Client> clients = new ArrayList<>();
            EtcdOptions base = EtcdOptions.plain(List.of(etcd.endpoint()), "/warmup");
            for (int i = 0; i < CLIENTS; i++) {
                clients.add(EtcdSubnetManager.newClient(base));
            }
            try {
                // warm up both paths (JIT, connections) on throwaway prefixes
                rawSequential(clients.get(0), "/warm-raw", 200);
                acquireSequential(clients.get(0), "/warm-acq", 200);

                System.out.printf("== sequential latency, %d acquisitions, one host at a time, /8 network with /24 subnets%n", sequential);
                long[] raw = rawSequential(clients.get(0), "/seq-raw", sequential);
                long[] acq = acquireSequential(clients.get(0), "/seq-acq", sequential);
                print("raw etcd create-if-absent txn", raw);
                print("EtcdSubnetManager.acquire", acq);
                System.out.printf("   acquire/raw p50 ratio: %.2fx%n", (double) pct(acq, 50) / pct(raw, 50));

                System.out.printf("== %d hosts acquiring concurrently (%d threads, %d shared etcd clients), %d rounds%n",
                        hosts, threads, CLIENTS, ROUNDS);
                double[] ratios = new double[ROUNDS];
                for (int round = 0; round < ROUNDS; round++) {
                    // alternate the two in every round so machine noise hits both alike
                    double rawSeconds = rawConcurrent(clients, "/con-raw" + round, hosts, threads, false);
                    Result r = acquireConcurrent(clients, "/con-acq" + round, hosts, threads);
                    double grantSeconds = rawConcurrent(clients, "/con-grant" + round, hosts, threads, true);
                    double rawRate = hosts / rawSeconds;
                    double acqRate = hosts / r.seconds;
                    ratios[round] = acqRate / rawRate;
                    System.out.printf("   round %d: raw txn %.3f s (%.0f/s) | raw grant+txn %.3f s (%.0f/s) | acquire %.3f s (%.0f/s),"
                            + " duplicates %d, keys in etcd %d | acquire/raw txn %.0f%%%n", round + 1, rawSeconds, rawRate,
                            grantSeconds, hosts / grantSeconds, r.seconds, acqRate, r.duplicates, r.keysInEtcd, 100 * ratios[round]);
                    if (r.duplicates != 0 || r.keysInEtcd != hosts) {
                        System.out.println("FAIL: duplicate or missing subnets");
                        System.exit(1);
                    }
                }
                Arrays.sort(ratios);
                System.out.printf("   median throughput vs raw etcd create-if-absent transactions: %.0f%% (target >= 50%%)%n",
                        100 * ratios[ROUNDS / 2]);
            } finally {
                clients.forEach(Client::close);
            }
        }
        System.exit(0);
    }

    private record Result(double seconds, int duplicates, int keysInEtcd) {
    }

    private static EtcdSubnetManager manager(Client c, String prefix) {
        return new EtcdSubnetManager(EtcdOptions.plain(List.of("http://unused:1"), prefix).withLeaseTtl(Duration.ofHours(1)), c);
    }

    private static LeaseAttrs host(int i) {
        return new LeaseAttrs(Ip4Net.parseAddress("172.16.0.0") + i, "host-gw", null);
    }

    private static long[] rawSequential(Client c, String prefix, int n) throws Exception {
        long[] t = new long[n];
        for (int i = 0; i < n; i++) {
            long s = System.nanoTime();
            rawTxn(c, prefix, i, 0);
            t[i] = System.nanoTime() - s;
        }
        return t;
    }

    private static void rawTxn(Client c, String prefix, int i, long leaseId) throws Exception {
        // the same shape as an acquisition's final write: compare version == 0, put with a lease-sized value
        ByteSequence key = ByteSequence.from(prefix + "/subnets/" + Ip4Net.formatAddress(0x0a000000 + ((i + 1) << 8)) + "-24", StandardCharsets.UTF_8);
        ByteSequence val = ByteSequence.from(host(i).toJson(), StandardCharsets.UTF_8);
        c.getKVClient().txn().If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.version(0)))
                .Then(Op.put(key, val, leaseId == 0 ? PutOption.DEFAULT : PutOption.builder().withLeaseId(leaseId).build()))
                .commit().get(10, TimeUnit.SECONDS);
    }

    private static long[] acquireSequential(Client c, String prefix, int n) {
        EtcdSubnetManager m = manager(c, prefix);
        m.putNetworkConfig(CONFIG);
        m.networkConfig(); // a host reads the config once at start-up, before acquiring (untimed)
        long[] t = new long[n];
        for (int i = 0; i < n; i++) {
            long s = System.nanoTime();
            m.acquire(host(i), null);
            t[i] = System.nanoTime() - s;
        }
        return t;
    }

    private static double rawConcurrent(List<Client> clients, String prefix, int n, int threads, boolean withGrant) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            long s = System.nanoTime();
            List<Future<?>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int h = i;
                fs.add(pool.submit(() -> {
                    Client c = clients.get(h % clients.size());
                    if (withGrant) {
                        // flannel's sequence: grant a lease, then create-if-absent attached to it
                        long id = c.getLeaseClient().grant(3600).get(10, TimeUnit.SECONDS).getID();
                        rawTxn(c, prefix, h, id);
                    } else {
                        rawTxn(c, prefix, h, 0);
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get(5, TimeUnit.MINUTES);
            }
            return (System.nanoTime() - s) / 1e9;
        } finally {
            pool.shutdownNow();
        }
    }

    private static Result acquireConcurrent(List<Client> clients, String prefix, int n, int threads) throws Exception {
        manager(clients.get(0), prefix).putNetworkConfig(CONFIG);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            // Each simulated host reads the config at start-up, as the daemon does before it picks its
            // backend and acquires; that read is not part of the timed acquisition.
            List<EtcdSubnetManager> managers = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                EtcdSubnetManager m = manager(clients.get(i % clients.size()), prefix);
                m.networkConfig();
                managers.add(m);
            }
            long s = System.nanoTime();
            List<Future<Lease>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int h = i;
                fs.add(pool.submit(() -> managers.get(h).acquire(host(h), null)));
            }
            Set<Ip4Net> seen = new HashSet<>();
            int dups = 0;
            for (Future<Lease> f : fs) {
                if (!seen.add(f.get(5, TimeUnit.MINUTES).subnet())) {
                    dups++;
                }
            }
            double seconds = (System.nanoTime() - s) / 1e9;
            int keys = manager(clients.get(0), prefix).list().stored().size();
            return new Result(seconds, dups, keys);
        } finally {
            pool.shutdownNow();
        }
    }

    private static long pct(long[] t, int p) {
        long[] s = t.clone();
        Arrays.sort(s);
        return s[Math.min(s.length - 1, (int) Math.ceil(p / 100.0 * s.length) - 1)];
    }

    private static void print(String what, long[] t) {
        System.out.printf("   %-32s p50 %6.2f ms   p99 %6.2f ms%n", what, pct(t, 50) / 1e6, pct(t, 99) / 1e6);
    }
}
