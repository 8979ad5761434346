package dev.railyard.benchmarks;

import dev.railyard.nftables.Chain;
import dev.railyard.nftables.Element;
import dev.railyard.nftables.Family;
import dev.railyard.nftables.NftCommand;
import dev.railyard.nftables.NftMap;
import dev.railyard.nftables.Rule;
import dev.railyard.nftables.Transaction;
import dev.railyard.nftables.netlink.NetlinkApplier;
import dev.railyard.nftables.netlink.RuleCompiler;
import dev.railyard.nftables.netlink.TransactionCompiler;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.render.nftables.NftablesRenderer;
import dev.railyard.testkit.NetworkNamespace;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Bounded run: kube-proxy's nftables layout written by {@link NetlinkApplier} (no nft process) against
 * {@code nft -f} ({@link NftCommand}), for the same synthetic clusters ({@link ClusterGenerator}) in the same run.
 * Per size and round, each applier gets a fresh network namespace, a full sync (the renderer's whole
 * transaction) and then {@value #PARTIALS} partial syncs that replace one endpoint of one service back and forth.
 * For the netlink applier the phases are reported apart: compiling the transaction into a batch (rules through
 * {@link RuleCompiler}), patching it, the sendto (inside which the kernel applies the batch) and reading answers.
 *
 * <p>Then, in the netlink namespace of the largest size, what one small commit costs the kernel depending on what
 * it touches: nf_tables re-validates the whole jump graph from the base chains when a commit adds a rule or verdict
 * map element that jumps (and many other expressions), but not for plain set and data-map elements. Each is
 * committed {@value #SMALL_COMMITS} times (added and removed again), sendto time reported as median and p90.
 *
 * <p>Also compile-only measurements (no kernel): the whole full sync through {@link TransactionCompiler} (rules
 * compiled, every message encoded), and every rule body through {@link RuleCompiler}, warm, with and without a
 * cache keyed by the body text, and how many bodies repeat.
 *
 * <p>Optional experiments (fourth argument, comma-separated): {@code verify} applies the full and partial syncs
 * through both appliers and compares what nft lists of the two rulesets; {@code chunked=N} applies the same full transaction
 * in consecutive batches of N operations (not atomic), to show how the kernel's cost grows with the length of one
 * batch; {@code flat} estimates a flat layout's full sync (no per-endpoint chains, no anonymous sets) with the
 * same kinds and numbers of kernel objects, and its small commits.
 *
 * <pre>
 * java -Xms4g -Xmx4g -cp 'benchmarks/target/benchmarks.jar:benchmarks/target/lib/*' \
 *      dev.railyard.benchmarks.NetlinkApplyRun [sizes=1000,10000] [rounds=2] [nft=true] [verify,chunked=5000,flat]
 * </pre>
 */
public final class NetlinkApplyRun {
    static final int PARTIALS = 10;
    static final int SMALL_COMMITS = 25;
    private static final String TABLE = "kube-proxy";

    private NetlinkApplyRun() {
    }

    public static void main(String[] args) throws Exception {
        int[] sizes = args.length > 0 ? Arrays.stream(args[0].split(",")).mapToInt(Integer::parseInt).toArray()
                : new int[] {1000, 10000};
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        boolean withNft = args.length <= 2 || Boolean.parseBoolean(args[2]);
        List<String> experiments = args.length > 3 ? List.of(args[3].split(",")) : List.of();
        if (!"root".equals(System.getProperty("user.name"))) {
            System.err.println("NetlinkApplyRun needs root (network namespaces, nf_tables)");
            System.exit(2);
        }
        for (int s = 0; s < sizes.length; s++) {
            int size = sizes[s];
            ClusterGenerator.Cluster cluster = ClusterGenerator.generate(size);
            ClusterGenerator.Replacement replacement = ClusterGenerator.withOneEndpointReplaced(cluster.state());
            System.out.printf(Locale.ROOT, "%n== %,d services: %s%n", size, cluster.describe());
            Transaction full = new NftablesRenderer(ClusterGenerator.nftablesRenderConfig())
                    .plan(replacement.before(), null, Instant.EPOCH).sync();
            compileOnly(full);
            for (int round = 1; round <= rounds; round++) {
                boolean last = round == rounds && s == sizes.length - 1;
                netlinkRound(round, replacement, last);
                if (withNft) {
                    nftRound(round, replacement);
                }
            }
            for (String experiment : experiments) {
                if (experiment.startsWith("chunked=")) {
                    chunked(full, Integer.parseInt(experiment.substring("chunked=".length())));
                } else if (experiment.equals("verify")) {
                    verify(replacement);
                } else if (experiment.equals("flat")) {
                    flatEstimate(replacement.before());
                } else {
                    throw new IllegalArgumentException("unknown experiment " + experiment);
                }
            }
        }
    }

    /** Compiling every rule body of {@code full}, no kernel: warm, with and without a cache by body text. */
    private static void compileOnly(Transaction full) {
        List<Rule> rules = new ArrayList<>();
        for (Transaction.Operation op : full.operations()) {
            if (op.object() instanceof Rule rule) {
                rules.add(rule);
            }
        }
        Map<String, Integer> counts = new HashMap<>();
        rules.forEach(rule -> counts.merge(rule.body() + "\n" + rule.comment(), 1, Integer::sum));
        long repeats = counts.values().stream().filter(c -> c > 1).mapToLong(c -> c - 1).sum();
        RuleCompiler compiler = new RuleCompiler(Family.IP);
        long[] plain = new long[5];
        long[] cached = new long[5];
        for (int i = 0; i < plain.length; i++) {
            long start = System.nanoTime();
            for (Rule rule : rules) {
                compiler.compile(rule);
            }
            plain[i] = System.nanoTime() - start;
            Map<String, dev.railyard.netlink.Rule> cache = new HashMap<>();
            start = System.nanoTime();
            for (Rule rule : rules) {
                cache.computeIfAbsent(rule.body() + "\n" + rule.comment(), k -> compiler.compile(rule));
            }
            cached[i] = System.nanoTime() - start;
        }
        long[] whole = new long[3];
        int messages = 0;
        for (int i = 0; i < whole.length; i++) {
            long start = System.nanoTime();
            TransactionCompiler.Compiled compiled = TransactionCompiler.compile(full, Map.of(), compiler, true);
            whole[i] = System.nanoTime() - start;
            messages = compiled.batch().messageCount();
        }
        System.out.printf(Locale.ROOT, "compile + encode the whole transaction (%,d operations, %,d messages), no "
                        + "kernel: %.0f ms, %.0f ms, %.0f ms%n", full.size(), messages, ms(whole[0]), ms(whole[1]),
                ms(whole[2]));
        System.out.printf(Locale.ROOT, "compile only: %,d rules, %,d distinct bodies (%,d repeats, %.1f%%); "
                        + "warm (best of 5): %.0f ms plain, %.0f ms with a body cache (first run %.0f / %.0f ms)%n",
                rules.size(), counts.size(), repeats, 100.0 * repeats / Math.max(1, rules.size()),
                ms(Arrays.stream(plain).min().orElse(0)), ms(Arrays.stream(cached).min().orElse(0)),
                ms(plain[0]), ms(cached[0]));
    }

    private static void netlinkRound(int round, ClusterGenerator.Replacement replacement, boolean validation)
            throws Exception {
        try (NetworkNamespace ns = NetworkNamespace.create();
             NetlinkApplier applier = NetlinkApplier.open(ns.name())) {
            NftablesRenderer renderer = new NftablesRenderer(ClusterGenerator.nftablesRenderConfig());
            Instant now = Instant.EPOCH;
            NftablesRenderer.Plan plan = renderer.plan(replacement.before(), null, now);
            long start = System.nanoTime();
            applier.apply(plan.sync());
            long wall = System.nanoTime() - start;
            renderer.committed(plan);
            NetlinkApplier.ApplyTimings t = applier.lastTimings();
            System.out.printf(Locale.ROOT, "round %d netlink full: %,d operations, %,d messages, %.1f MB; compile "
                            + "%.0f ms, prepare %.0f ms, sendto %.0f ms, answers %.0f ms; wall %.0f ms%n", round,
                    t.operations(), t.messages(), t.bytes() / 1e6, ms(t.compileNanos()), ms(t.prepareNanos()),
                    ms(t.sendNanos()), ms(t.ackNanos()), ms(wall));
            long[] walls = new long[PARTIALS];
            long[] sends = new long[PARTIALS];
            long[] compiles = new long[PARTIALS];
            int operations = 0;
            for (int i = 0; i < PARTIALS; i++) {
                now = now.plusSeconds(10);
                ProxyState state = i % 2 == 0 ? replacement.after() : replacement.before();
                plan = renderer.plan(state, Set.of(replacement.serviceKey()), now);
                start = System.nanoTime();
                applier.apply(plan.staleChainDeletion());
                renderer.staleDeletionApplied(plan);
                applier.apply(plan.sync());
                walls[i] = System.nanoTime() - start;
                renderer.committed(plan);
                sends[i] = applier.lastTimings().sendNanos();
                compiles[i] = applier.lastTimings().compileNanos();
                operations = plan.sync().size();
            }
            System.out.printf(Locale.ROOT, "round %d netlink partial (%d operations, %d syncs): wall median %.2f ms "
                            + "(p90 %.2f), of which sendto median %.2f ms, compile median %.2f ms%n", round,
                    operations, PARTIALS, ms(median(walls)), ms(p90(walls)), ms(median(sends)), ms(median(compiles)));
            if (validation) {
                smallCommits(applier, ns);
            }
        }
    }

    private static void nftRound(int round, ClusterGenerator.Replacement replacement) throws Exception {
        try (NetworkNamespace ns = NetworkNamespace.create()) {
            NftCommand nft = NftCommand.create().withCommandPrefix(ns.commandPrefix()).withTimeout(Duration.ofMinutes(20));
            NftablesRenderer renderer = new NftablesRenderer(ClusterGenerator.nftablesRenderConfig());
            Instant now = Instant.EPOCH;
            NftablesRenderer.Plan plan = renderer.plan(replacement.before(), null, now);
            long start = System.nanoTime();
            nft.apply(plan.sync());
            long wall = System.nanoTime() - start;
            renderer.committed(plan);
            System.out.printf(Locale.ROOT, "round %d nft -f full: wall %.0f ms%n", round, ms(wall));
            long[] walls = new long[PARTIALS];
            for (int i = 0; i < PARTIALS; i++) {
                now = now.plusSeconds(10);
                ProxyState state = i % 2 == 0 ? replacement.after() : replacement.before();
                plan = renderer.plan(state, Set.of(replacement.serviceKey()), now);
                start = System.nanoTime();
                nft.apply(plan.staleChainDeletion());
                renderer.staleDeletionApplied(plan);
                nft.apply(plan.sync());
                walls[i] = System.nanoTime() - start;
                renderer.committed(plan);
            }
            System.out.printf(Locale.ROOT, "round %d nft -f partial (%d syncs): wall median %.1f ms (p90 %.1f)%n",
                    round, PARTIALS, ms(median(walls)), ms(p90(walls)));
        }
    }

    /**
     * The full sync and {@value #PARTIALS} partial syncs through both appliers into two namespaces; then nft must
     * list both rulesets alike (a check at scale of what the kernel tests check on small rulesets).
     */
    private static void verify(ClusterGenerator.Replacement replacement) throws Exception {
        try (NetworkNamespace ours = NetworkNamespace.create();
             NetworkNamespace theirs = NetworkNamespace.create();
             NetlinkApplier applier = NetlinkApplier.open(ours.name())) {
            NftCommand nft = NftCommand.create().withCommandPrefix(theirs.commandPrefix())
                    .withTimeout(Duration.ofMinutes(20));
            NftablesRenderer renderer = new NftablesRenderer(ClusterGenerator.nftablesRenderConfig());
            Instant now = Instant.EPOCH;
            for (int i = 0; i <= PARTIALS; i++) {
                ProxyState state = i % 2 == 0 ? replacement.before() : replacement.after();
                NftablesRenderer.Plan plan = renderer.plan(state, i == 0 ? null : Set.of(replacement.serviceKey()),
                        now);
                applier.apply(plan.staleChainDeletion());
                nft.apply(plan.staleChainDeletion());
                renderer.staleDeletionApplied(plan);
                applier.apply(plan.sync());
                nft.apply(plan.sync());
                renderer.committed(plan);
                now = now.plusSeconds(10);
            }
            String expected = theirs.execChecked(Duration.ofMinutes(10), "nft", "list", "ruleset").stdout();
            String actual = ours.execChecked(Duration.ofMinutes(10), "nft", "list", "ruleset").stdout();
            System.out.printf(Locale.ROOT, "verify: after a full and %d partial syncs, nft lists the netlink-written "
                            + "ruleset %s the nft-written one (%,d lines)%n", PARTIALS,
                    expected.equals(actual) ? "exactly as" : "DIFFERENTLY from", expected.lines().count());
        }
    }

    /**
     * The full transaction applied in consecutive batches of {@code chunk} operations (not atomic: an experiment
     * on how the kernel's cost grows with the length of one batch, not a way to sync).
     */
    private static void chunked(Transaction full, int chunk) throws Exception {
        try (NetworkNamespace ns = NetworkNamespace.create();
             NetlinkApplier applier = NetlinkApplier.open(ns.name())) {
            long sends = 0;
            long compiles = 0;
            int batches = 0;
            long start = System.nanoTime();
            List<Transaction.Operation> operations = full.operations();
            for (int from = 0; from < operations.size(); from += chunk) {
                Transaction part = new Transaction(full.family(), full.table());
                for (Transaction.Operation op : operations.subList(from, Math.min(operations.size(), from + chunk))) {
                    switch (op.verb()) {
                        case ADD -> part.add(op.object());
                        case CREATE -> part.create(op.object());
                        case INSERT -> part.insert((Rule) op.object());
                        case FLUSH -> part.flush(op.object());
                        case DELETE -> part.delete(op.object());
                    }
                }
                applier.apply(part);
                sends += applier.lastTimings().sendNanos();
                compiles += applier.lastTimings().compileNanos();
                batches++;
            }
            System.out.printf(Locale.ROOT, "experiment: the full transaction in %,d batches of %,d operations (not "
                            + "atomic): sendto total %.0f ms, compile total %.0f ms, wall %.0f ms%n", batches, chunk,
                    ms(sends), ms(compiles), ms(System.nanoTime() - start));
        }
    }

    /**
     * An estimate of a flat layout's full sync (no per-endpoint chains, no anonymous sets): per service port with
     * endpoints one chain with a masquerade-mark rule and {@code dnat ip addr . port to numgen random mod N map
     * @endpoints-X}, one typeof data map of its endpoints, one service-ips element; a hairpin set of every
     * endpoint. Not the lead's renderer, only the same kinds and numbers of kernel objects.
     */
    private static void flatEstimate(ProxyState state) throws Exception {
        Transaction tx = tx().add(new dev.railyard.nftables.Table("rules for kube-proxy"))
                .add(new Chain("nat-prerouting", new dev.railyard.nftables.BaseChain("nat", "prerouting", -100), null))
                .add(Chain.named("services"))
                .add(NftMap.of("service-ips", "ipv4_addr . inet_proto . inet_service : verdict", null))
                .add(dev.railyard.nftables.NftSet.of("hairpin-ips", "ipv4_addr . ipv4_addr", null))
                .add(Rule.of("nat-prerouting", "jump services"))
                .add(Rule.of("services", "ip daddr . meta l4proto . th dport vmap @service-ips"))
                .add(Rule.of("services", "ct status dnat ip saddr . ip daddr @hairpin-ips mark set mark or 0x4000"));
        int ports = 0;
        java.util.Set<String> hairpins = new java.util.LinkedHashSet<>();
        for (ProxyState.Entry entry : state.entries()) {
            if (entry.endpoints().isEmpty()) {
                continue;
            }
            String name = "svc-" + ports;
            String map = "endpoints-" + ports;
            ports++;
            String protocol = entry.service().protocol().lowerCase();
            tx.add(Chain.named(name))
                    .add(NftMap.typeOf(map, "numgen random mod 1 : ip daddr . th dport", null))
                    .add(Rule.of(name, "ip daddr " + entry.service().clusterIp() + " ip saddr != "
                            + ClusterGenerator.CLUSTER_CIDR + " mark set mark or 0x4000"))
                    .add(Rule.of(name, "meta l4proto " + protocol + " dnat ip addr . port to numgen random mod "
                            + entry.endpoints().size() + " map @" + map));
            for (int i = 0; i < entry.endpoints().size(); i++) {
                var endpoint = entry.endpoints().get(i);
                tx.add(new Element(map, true, List.of(Integer.toString(i)),
                        List.of(endpoint.ip(), Integer.toString(endpoint.port())), null));
                hairpins.add(endpoint.ip());
            }
            tx.add(Element.ofMap("service-ips", List.of(entry.service().clusterIp(), protocol,
                    Integer.toString(entry.service().port())), "goto " + name, null));
        }
        for (String ip : hairpins) {
            tx.add(Element.ofSet("hairpin-ips", List.of(ip, ip)));
        }
        try (NetworkNamespace ns = NetworkNamespace.create();
             NetlinkApplier applier = NetlinkApplier.open(ns.name())) {
            long start = System.nanoTime();
            applier.apply(tx);
            long wall = System.nanoTime() - start;
            NetlinkApplier.ApplyTimings t = applier.lastTimings();
            System.out.printf(Locale.ROOT, "experiment: a flat layout's full sync (estimate; %,d service ports, %,d "
                            + "operations, %,d messages, %.1f MB): compile %.0f ms, sendto %.0f ms, wall %.0f ms%n",
                    ports, t.operations(), t.messages(), t.bytes() / 1e6, ms(t.compileNanos()), ms(t.sendNanos()),
                    ms(wall));
            String chain = "svc-" + (ports / 2);
            String map = "endpoints-" + (ports / 2);
            Element data = new Element(map, true, List.of("0"), List.of("10.250.0.2", "8080"), null);
            var previous = state.entries().stream().filter(e -> !e.endpoints().isEmpty()).skip(ports / 2).findFirst()
                    .orElseThrow().endpoints().get(0);
            Element back = new Element(map, true, List.of("0"), List.of(previous.ip(),
                    Integer.toString(previous.port())), null);
            small(applier, "flat: one data-map element changed (delete + add)",
                    () -> tx().delete(Element.keyOf(map, List.of("0"))).add(data),
                    () -> tx().delete(Element.keyOf(map, List.of("0"))).add(back));
            small(applier, "flat: the service's dnat rule rewritten (flush + 2 rules)",
                    () -> tx().flush(Chain.named(chain))
                            .add(Rule.of(chain, "ip daddr 10.96.0.1 ip saddr != 10.244.0.0/16 mark set mark or 0x4000"))
                            .add(Rule.of(chain, "meta l4proto tcp dnat ip addr . port to numgen random mod 2 map @" + map)),
                    () -> tx().flush(Chain.named(chain))
                            .add(Rule.of(chain, "meta l4proto tcp dnat ip addr . port to numgen random mod 1 map @" + map)));
        }
    }

    /**
     * Small commits into the full table: what each costs in the kernel (sendto), by what it touches. Each is
     * applied and undone {@value #SMALL_COMMITS} times; the figure is the commit that adds.
     */
    private static void smallCommits(NetlinkApplier applier, NetworkNamespace ns) throws Exception {
        var objects = applier.listObjects(Family.IP, TABLE);
        String serviceChain = objects.chains().stream().filter(c -> c.startsWith("service-")).findFirst().orElseThrow();
        System.out.printf(Locale.ROOT, "small commits into the full table (%,d chains, %,d sets, %,d maps):%n",
                objects.chains().size(), objects.sets().size(), objects.maps().size());
        applier.apply(tx().add(Chain.named("bench-chain"))
                .add(NftMap.typeOf("bench-endpoints", "numgen random mod 1 : ip daddr . th dport", null))
                .add(new Element("bench-endpoints", true, List.of("0"), List.of("10.250.0.1", "80"), null)));
        Element vmap = Element.ofMap("service-ips", List.of("10.255.0.1", "tcp", "80"), "goto " + serviceChain, null);
        small(applier, "one verdict-map element (goto)", () -> tx().add(vmap),
                () -> tx().delete(Element.keyOf("service-ips", vmap.key())));
        small(applier, "one rule 'goto X' (new chain's only rule)", () -> tx().add(Rule.of("bench-chain", "goto " + serviceChain)),
                () -> tx().flush(Chain.named("bench-chain")));
        small(applier, "one rule 'ip saddr A mark set mark or 0x4000'",
                () -> tx().add(Rule.of("bench-chain", "ip saddr 10.250.0.9 mark set mark or 0x4000")),
                () -> tx().flush(Chain.named("bench-chain")));
        small(applier, "one rule 'ip saddr A drop' (no jump)", () -> tx().add(Rule.of("bench-chain", "ip saddr 10.250.0.9 drop")),
                () -> tx().flush(Chain.named("bench-chain")));
        Element data = new Element("bench-endpoints", true, List.of("0"), List.of("10.250.0.2", "8080"), null);
        Element dataBack = new Element("bench-endpoints", true, List.of("0"), List.of("10.250.0.1", "80"), null);
        small(applier, "one data-map element changed (delete + add)",
                () -> tx().delete(Element.keyOf("bench-endpoints", List.of("0"))).add(data),
                () -> tx().delete(Element.keyOf("bench-endpoints", List.of("0"))).add(dataBack));
        small(applier, "one set element (cluster-ips)",
                () -> tx().add(Element.ofSet("cluster-ips", List.of("10.255.0.2"))),
                () -> tx().delete(Element.keyOf("cluster-ips", List.of("10.255.0.2"))));
        small(applier, "one new empty chain", () -> tx().add(Chain.named("bench-empty")),
                () -> tx().delete(Chain.named("bench-empty")));
    }

    private static void small(NetlinkApplier applier, String what, Supplier<Transaction> apply,
                              Supplier<Transaction> undo) throws Exception {
        long[] sends = new long[SMALL_COMMITS];
        long[] undoSends = new long[SMALL_COMMITS];
        for (int i = 0; i < SMALL_COMMITS; i++) {
            applier.apply(apply.get());
            sends[i] = applier.lastTimings().sendNanos();
            applier.apply(undo.get());
            undoSends[i] = applier.lastTimings().sendNanos();
        }
        System.out.printf(Locale.ROOT, "  %-50s sendto median %7.2f ms (p90 %7.2f); its undo median %7.2f ms%n",
                what, ms(median(sends)), ms(p90(sends)), ms(median(undoSends)));
    }

    private static Transaction tx() {
        return new Transaction(Family.IP, TABLE);
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    private static long median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static long p90(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(sorted.length * 0.9) - 1)];
    }
}
