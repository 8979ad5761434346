package dev.railyard.benchmarks;

import dev.railyard.nftables.NftCommand;
import dev.railyard.nftables.Transaction;
import dev.railyard.proxy.apply.IptablesBackend;
import dev.railyard.proxy.apply.IptablesException;
import dev.railyard.proxy.apply.IptablesRestore;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.render.IptablesRenderer;
import dev.railyard.proxy.render.LineBuffer;
import dev.railyard.proxy.render.nftables.NftablesRenderer;
import dev.railyard.testkit.NetworkNamespace;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Bounded run: how long the kernel side of a sync takes, per applier, for the same synthetic cluster
 * ({@link ClusterGenerator}) in the same run. Each round, for each applier, a fresh network namespace gets a
 * full sync (timed), then {@value #PARTIALS} partial syncs that replace one endpoint of one service back and
 * forth (each timed; the round reports their median). Appliers, interleaved so that load drift hits all alike:
 * <ul>
 *   <li><b>nft -f</b>: nftables mode, kube-proxy's layout, through {@link NftCommand} ({@code nft -f -});</li>
 *   <li><b>iptables-legacy</b> and <b>iptables-nft</b>: iptables mode through {@link IptablesRestore}
 *       ({@code iptables-restore -w 5 --noflush --counters}) with each backend; partial syncs are the
 *       renderer's partial restores.</li>
 * </ul>
 * An applier whose full sync exceeds the cap is killed there, reported as "&gt; cap" and not tried again at that
 * size. Render time is not included (see the JMH render benchmarks); every figure is wall time of the apply.
 *
 * <pre>
 * sudo java -Xms2g -Xmx2g -cp 'benchmarks/target/benchmarks.jar:benchmarks/target/lib/*' \
 *      dev.railyard.benchmarks.ApplyRun [sizes=1000,10000] [rounds=3] [capSeconds=600] [appliers=nft,legacy,iptables-nft]
 * </pre>
 */
public final class ApplyRun {
    static final int PARTIALS = 5;

    private ApplyRun() {
    }

    /** One way of getting a sync into the kernel. */
    interface Applier {
        String name();

        /** Opens a fresh namespace; then {@link #full} and {@link #partial} apply to it. */
        void start(NetworkNamespace ns, Duration cap);

        void full(ProxyState state) throws Exception;

        void partial(ProxyState state, Set<String> changed) throws Exception;
    }

    public static void main(String[] args) throws Exception {
        int[] sizes = args.length > 0 ? Arrays.stream(args[0].split(",")).mapToInt(Integer::parseInt).toArray()
                : new int[] {1000, 10000};
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        Duration cap = Duration.ofSeconds(args.length > 2 ? Long.parseLong(args[2]) : 600);
        List<String> names = List.of((args.length > 3 ? args[3] : "nft,legacy,iptables-nft").split(","));
        if (!"root".equals(System.getProperty("user.name"))) {
            System.err.println("ApplyRun needs root (network namespaces, nft, iptables)");
            System.exit(2);
        }
        System.out.printf("sizes %s, %d rounds, cap %d s, appliers %s%n", Arrays.toString(sizes), rounds,
                cap.toSeconds(), names);
        List<String> rows = new ArrayList<>();
        for (int size : sizes) {
            ClusterGenerator.Replacement replacement = ClusterGenerator.withOneEndpointReplaced(
                    ClusterGenerator.generate(size).state());
            System.out.printf("%n== %,d services: %s%n", size, ClusterGenerator.generate(size).describe());
            Map<String, List<Long>> fulls = new LinkedHashMap<>();
            Map<String, List<Long>> partials = new LinkedHashMap<>();
            Map<String, Boolean> overCap = new LinkedHashMap<>();
            for (int round = 1; round <= rounds; round++) {
                StringBuilder line = new StringBuilder("round " + round + ":");
                for (String name : names) {
                    if (overCap.getOrDefault(name, false)) {
                        continue;
                    }
                    Applier applier = applier(name);
                    try (NetworkNamespace ns = NetworkNamespace.create()) {
                        applier.start(ns, cap);
                        long start = System.nanoTime();
                        try {
                            applier.full(replacement.before());
                        } catch (Exception e) {
                            if (System.nanoTime() - start >= cap.toNanos()) {
                                overCap.put(name, true);
                                line.append(String.format(" %s full > %d s (killed at the cap);", name,
                                        cap.toSeconds()));
                                continue;
                            }
                            throw e;
                        }
                        long full = System.nanoTime() - start;
                        long[] times = new long[PARTIALS];
                        for (int i = 0; i < PARTIALS; i++) {
                            ProxyState next = i % 2 == 0 ? replacement.after() : replacement.before();
                            long t0 = System.nanoTime();
                            applier.partial(next, Set.of(replacement.serviceKey()));
                            times[i] = System.nanoTime() - t0;
                        }
                        Arrays.sort(times);
                        fulls.computeIfAbsent(name, k -> new ArrayList<>()).add(full);
                        partials.computeIfAbsent(name, k -> new ArrayList<>()).add(times[PARTIALS / 2]);
                        line.append(String.format(" %s full %,.0f ms, partial median %,.1f ms [%,.1f-%,.1f];", name,
                                full / 1e6, times[PARTIALS / 2] / 1e6, times[0] / 1e6, times[PARTIALS - 1] / 1e6));
                    }
                }
                System.out.println(line);
            }
            for (String name : names) {
                if (overCap.getOrDefault(name, false) && !fulls.containsKey(name)) {
                    rows.add(String.format("| %,d | %s | > %,d s (killed) | - | %d |", size, name, cap.toSeconds(),
                            0));
                    continue;
                }
                List<Long> f = fulls.get(name);
                List<Long> p = partials.get(name);
                rows.add(String.format("| %,d | %s | %,.0f [%,.0f-%,.0f] | %,.1f [%,.1f-%,.1f] | %d |", size, name,
                        median(f) / 1e6, min(f) / 1e6, max(f) / 1e6, median(p) / 1e6, min(p) / 1e6, max(p) / 1e6,
                        f.size()));
            }
        }
        System.out.println();
        System.out.println("== summary: ms, median [min-max] over rounds (a round's partial figure is the median of "
                + PARTIALS + ")");
        System.out.println("| services | applier | full sync | partial sync (one endpoint) | rounds |");
        System.out.println("|---|---|---|---|---|");
        rows.forEach(System.out::println);
    }

    static Applier applier(String name) {
        return switch (name) {
            case "nft" -> new NftApplier();
            case "legacy" -> new IptablesApplier("iptables-legacy", IptablesBackend.LEGACY);
            case "iptables-nft" -> new IptablesApplier("iptables-nft", IptablesBackend.NFT);
            default -> throw new IllegalArgumentException("unknown applier " + name);
        };
    }

    /** nftables mode, kube-proxy's layout, through {@code nft -f}. */
    static final class NftApplier implements Applier {
        private NftablesRenderer renderer;
        private NftCommand nft;
        private Instant now = Instant.EPOCH;

        @Override
        public String name() {
            return "nft";
        }

        @Override
        public void start(NetworkNamespace ns, Duration cap) {
            renderer = new NftablesRenderer(ClusterGenerator.nftablesRenderConfig());
            nft = NftCommand.create().withCommandPrefix(ns.commandPrefix()).withTimeout(cap);
        }

        @Override
        public void full(ProxyState state) throws Exception {
            apply(renderer.plan(state, null, now));
        }

        @Override
        public void partial(ProxyState state, Set<String> changed) throws Exception {
            now = now.plusSeconds(10); // past the grace: stale chains go, as in a daemon between changes
            apply(renderer.plan(state, changed, now));
        }

        private void apply(NftablesRenderer.Plan plan) throws Exception {
            Transaction deletion = plan.staleChainDeletion();
            nft.apply(deletion);
            renderer.staleDeletionApplied(plan);
            nft.apply(plan.sync());
            renderer.committed(plan);
        }
    }

    /** iptables mode through iptables-restore with one backend. */
    static final class IptablesApplier implements Applier {
        private final String name;
        private final IptablesBackend backend;
        private IptablesRenderer renderer;
        private IptablesRestore restore;
        private Set<String> chains;

        IptablesApplier(String name, IptablesBackend backend) {
            this.name = name;
            this.backend = backend;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public void start(NetworkNamespace ns, Duration cap) {
            renderer = new IptablesRenderer(ClusterGenerator.renderConfig());
            restore = IptablesRestore.of(IpFamily.V4, backend).withCommandPrefix(ns.commandPrefix())
                    .withTimeout(cap);
        }

        @Override
        public void full(ProxyState state) throws IptablesException, InterruptedException {
            LineBuffer rules = renderer.render(state, List.of());
            restore.restore(rules::writeTo);
            chains = renderer.activeNatChains();
        }

        @Override
        public void partial(ProxyState state, Set<String> changed) throws IptablesException, InterruptedException {
            LineBuffer rules = renderer.renderPartial(state, changed, chains);
            restore.restore(rules::writeTo);
            chains = renderer.activeNatChains();
        }
    }

    private static long median(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        sorted.sort(null);
        return sorted.get(sorted.size() / 2);
    }

    private static long min(List<Long> values) {
        return values.stream().mapToLong(Long::longValue).min().orElse(0);
    }

    private static long max(List<Long> values) {
        return values.stream().mapToLong(Long::longValue).max().orElse(0);
    }
}
