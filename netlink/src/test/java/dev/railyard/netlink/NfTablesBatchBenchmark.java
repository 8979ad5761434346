package dev.railyard.netlink;

import static dev.railyard.netlink.Family.IP;

import dev.railyard.testkit.CommandResult;
import dev.railyard.testkit.NetworkNamespace;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Not a test: a bounded run that prints how long nf_tables transactions take over netlink, inside a fresh
 * network namespace, at kube-proxy scale. Run with
 * {@code java -cp <test classpath> dev.railyard.netlink.NfTablesBatchBenchmark [services] [rulesPerChain]}.
 *
 * <p>Figures: the cold batch (table, verdict map, N service chains with their rules, N map elements), then one
 * element change (delete + add of one map element) repeated, via netlink and, for comparison, via {@code nft -f}
 * on the same ruleset.
 */
public final class NfTablesBatchBenchmark {

    private static final String TABLE = "kube-proxy";
    private static final int CHANGE_ROUNDS = 30;
    private static final int WARM_ROUNDS = 5;
    private static final Prefix POD_CIDR = Prefix.parse("10.0.0.0/8");

    private NfTablesBatchBenchmark() {
    }

    public static void main(String[] args) {
        int services = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int rulesPerChain = args.length > 1 ? Integer.parseInt(args[1]) : 0;
        try (NetworkNamespace ns = NetworkNamespace.create(); NfTables nft = NfTables.open(ns.name())) {
            long t0 = System.nanoTime();
            NfTablesBatch batch = coldBatch(services, rulesPerChain);
            long built = System.nanoTime();
            CommitResult result = nft.commit(batch);
            long committed = System.nanoTime();
            if (!result.committed()) {
                throw new IllegalStateException(result.describe());
            }
            System.out.printf("cold batch, round 1: %d services, %d rules per chain: %d operations, %.1f MB datagram;"
                            + " build+encode %.0f ms, commit %.0f ms = prepare %.0f + sendto (kernel) %.0f + read acks %.0f%n",
                    services, rulesPerChain, result.operations(), result.bytesSent() / 1e6, ms(built - t0),
                    ms(committed - built), ms(nft.lastEncodeNanos), ms(nft.lastSendNanos), ms(nft.lastAckNanos));
            long[] sizes = nft.socket().bufferSizes();
            System.out.printf("socket buffers after the batch: SO_SNDBUF %d, SO_RCVBUF %d%n", sizes[0], sizes[1]);

            long[] netlink = new long[CHANGE_ROUNDS];
            for (int round = 0; round < CHANGE_ROUNDS; round++) {
                int svc = (round * 7919) % services;
                NfTablesBatch change = new NfTablesBatch()
                        .deleteElements(IP, TABLE, "service-ips", List.of(element(svc, round % 2 == 0 ? svc : (svc + 1) % services)))
                        .addElements(IP, TABLE, "service-ips", List.of(element(svc, round % 2 == 0 ? (svc + 1) % services : svc)));
                long start = System.nanoTime();
                CommitResult r = nft.commit(change);
                netlink[round] = System.nanoTime() - start;
                if (!r.committed()) {
                    throw new IllegalStateException(r.describe());
                }
            }
            System.out.printf("one element change over netlink (%d rounds): p50 %.2f ms, max %.2f ms%n",
                    CHANGE_ROUNDS, ms(percentile(netlink, 50)), ms(percentile(netlink, 100)));

            long[] viaNft = new long[5];
            for (int round = 0; round < viaNft.length; round++) {
                String script = "delete element ip kube-proxy service-ips { " + key(round) + " }\n"
                        + "add element ip kube-proxy service-ips { " + key(round) + " : goto " + chain((round + 1) % services) + " }\n";
                long start = System.nanoTime();
                CommandResult r = ns.exec(List.of("nft", "-f", "-"), Duration.ofSeconds(120), script.getBytes(StandardCharsets.UTF_8));
                viaNft[round] = System.nanoTime() - start;
                if (!r.succeeded()) {
                    throw new IllegalStateException(r.stderr());
                }
                nft.commit(new NfTablesBatch()
                        .deleteElements(IP, TABLE, "service-ips", List.of(element(round, (round + 1) % services)))
                        .addElements(IP, TABLE, "service-ips", List.of(element(round, round))));
            }
            System.out.printf("the same change with nft -f (ip netns exec, %d rounds): p50 %.1f ms, max %.1f ms%n",
                    viaNft.length, ms(percentile(viaNft, 50)), ms(percentile(viaNft, 100)));

            long start = System.nanoTime();
            int listed = nft.listElements(IP, TABLE, "service-ips").size();
            System.out.printf("listing the map over netlink: %d elements in %.1f ms%n", listed, ms(System.nanoTime() - start));

            // The same cold batch again, replacing the table, until the JIT has compiled the encoder.
            for (int round = 2; round <= WARM_ROUNDS; round++) {
                nft.commit(new NfTablesBatch().deleteTable(IP, TABLE));
                long w0 = System.nanoTime();
                NfTablesBatch again = coldBatch(services, rulesPerChain);
                long w1 = System.nanoTime();
                CommitResult second = nft.commit(again);
                long w2 = System.nanoTime();
                System.out.printf("cold batch, round %d: build+encode %.0f ms, commit %.0f ms = prepare %.0f + sendto (kernel) %.0f"
                                + " + read acks %.0f (%s)%n", round, ms(w1 - w0), ms(w2 - w1), ms(nft.lastEncodeNanos),
                        ms(nft.lastSendNanos), ms(nft.lastAckNanos), second.committed() ? "committed" : second.describe());
            }
            // Once more without per-message acks: only refusals would answer.
            nft.ackEveryMessage(false);
            nft.commit(new NfTablesBatch().deleteTable(IP, TABLE));
            long e0 = System.nanoTime();
            CommitResult quiet = nft.commit(coldBatch(services, rulesPerChain));
            System.out.printf("cold batch without per-message acks: commit %.0f ms = prepare %.0f + sendto (kernel) %.0f"
                            + " + drain %.0f (%s)%n", ms(System.nanoTime() - e0), ms(nft.lastEncodeNanos), ms(nft.lastSendNanos),
                    ms(nft.lastAckNanos), quiet.committed() ? "committed" : quiet.describe());
            nft.ackEveryMessage(true);

            start = System.nanoTime();
            listed = nft.listElements(IP, TABLE, "service-ips").size();
            System.out.printf("listing the map over netlink: %d elements in %.1f ms%n", listed, ms(System.nanoTime() - start));
        }
    }

    static NfTablesBatch coldBatch(int services, int rulesPerChain) {
        NfTablesBatch batch = new NfTablesBatch().addTable(IP, TABLE, "rules for kube-proxy")
                .addSet(IP, TABLE, SetSpec.map("service-ips").key(DataType.IPV4_ADDR, DataType.INET_PROTO, DataType.INET_SERVICE)
                        .data(DataType.VERDICT).comment("ClusterIP, ExternalIP and LoadBalancer IP traffic").build());
        if (rulesPerChain > 0) {
            batch.addChain(IP, TABLE, "mark-for-masquerade", null);
        }
        List<SetElement> elements = new ArrayList<>(services);
        for (int i = 0; i < services; i++) {
            batch.addChain(IP, TABLE, chain(i), null);
            for (int r = 0; r < rulesPerChain; r++) {
                batch.addRule(IP, TABLE, chain(i), r % 2 == 0
                        ? Rule.builder().match(Field.IP_DADDR, address(172 << 24 | 30 << 16 | i))
                                .matchPrefix(Field.IP_SADDR, Expr.CmpOp.NEQ, POD_CIDR)
                                .jump("mark-for-masquerade").build()
                        : Rule.builder().match(Field.META_L4PROTO, Values.inetProto(Values.TCP))
                                .dnat(IP, address(10 << 24 | 180 << 16 | i), 80).build());
            }
            elements.add(element(i, i));
        }
        batch.addElements(IP, TABLE, "service-ips", elements);
        return batch;
    }

    private static SetElement element(int service, int target) {
        return SetElement.of(address(172 << 24 | 30 << 16 | service), Values.inetProto(Values.TCP), Values.inetService(80))
                .mapsTo(Verdict.goTo(chain(target)));
    }

    private static String key(int service) {
        return "172.30." + ((service >> 8) & 0xff) + "." + (service & 0xff) + " . tcp . 80";
    }

    static String chain(int service) {
        return "service-" + service + "-ns" + service + "/svc" + service + "/tcp/p80";
    }

    private static byte[] address(int value) {
        return new byte[] {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
    }

    private static long percentile(long[] values, int p) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - (p == 0 ? 0 : 1))];
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }
}
