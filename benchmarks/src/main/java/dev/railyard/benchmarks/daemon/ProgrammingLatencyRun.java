package dev.railyard.benchmarks.daemon;

import dev.railyard.benchmarks.ClusterGenerator;
import dev.railyard.proxy.daemon.ProxyDaemon;
import dev.railyard.proxy.sync.SyncResult;
import dev.railyard.testkit.CommandResult;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1Service;

import java.io.BufferedWriter;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Network programming latency of {@code railyard proxy}, every path in one run (issue 11's proof): for each
 * cluster size ({@link ClusterGenerator}, 10 endpoints per service) and each {@link ProgrammingPath}, a real
 * {@link ProxyDaemon} (min sync period 0) fed by a {@link DrivenSource} programs a fresh "node" namespace of a
 * {@link ProbeNetwork}. Measured:
 * <ul>
 *   <li>full sync: from handing the first object to the tracker to the sync hook's result; then a second full sync
 *       (asked for after the changes) from the request to the result;</li>
 *   <li>per change (one endpoint of the probe service replaced by a new pod address, as a replaced pod):
 *       change -> applied, from handing the slice to the tracker to the sync hook's result, and change -> traffic,
 *       from the same instant to the first new connection from the node to the cluster IP that the new address
 *       answers. Warm-up changes first, then the timed ones in rounds, each round printed on its own.</li>
 * </ul>
 * Every (path, size) is bounded: its full sync by its cap, each change by {@code changeCap}, all its changes by
 * {@code budget}. A path that missed one of these ("not done within ...") is reported as such, the rest of that
 * size skipped, and its larger sizes not tried (said so in the summary). An iptables-restore or nft process still
 * running for a full sync past its cap is killed (by pid; only this JVM's own children). The namespaces go at the
 * end of each path, also on failure (and by the testkit's shutdown hook if the JVM is stopped). The summary
 * compares every path with nft-flat-netlink at the same size in the same run.
 *
 * <pre>
 * java -Xms2g -Xmx6g -Djava.net.preferIPv4Stack=true -cp 'benchmarks/target/benchmarks.jar:benchmarks/target/lib/*' \
 *      dev.railyard.benchmarks.daemon.ProgrammingLatencyRun [key=value ...]
 *   sizes=1000,10000,50000   cluster sizes (services)
 *   paths=nft-flat-netlink,nft-flat-nft,nft-kube-proxy-netlink@1000,iptables-legacy,iptables-nft:60
 *                            PATH[@MAXSIZE][:CAPSECONDS]; paths: nft-flat-netlink, nft-flat-nft,
 *                            nft-kube-proxy-netlink, iptables-legacy, iptables-nft
 *   cap=300                  seconds a full sync may take (default for paths without their own)
 *   changeCap=30             seconds one change may take (to applied, and to traffic)
 *   again=true               a second full sync after the changes (bounded by the cap too)
 *   changes=100,100,30       timed changes per size (the last value repeats for further sizes)
 *   warmup=10                untimed changes first
 *   rounds=3                 the timed changes in this many rounds
 *   budget=300               seconds the change loop of one path at one size may take in all
 *   endpoints=1              endpoints of the probe service (all served; 1 makes every connection after the
 *                            change go to the new pod, more add the load balancer's lottery to change -> traffic)
 *   gapMicros=100            least gap between probe connections
 *   out=DIR                  where results.csv (every measurement), summary.csv (per path and size),
 *                            summary.md and programming-latency.png go
 * </pre>
 * Needs root; exits with 2 otherwise, with 1 when a path failed (a cap reached is a finding, not a failure).
 */
public final class ProgrammingLatencyRun {
    private static final int CONNECT_TIMEOUT_MILLIS = 100;

    private record PathSpec(ProgrammingPath path, int maxSize, long capSeconds) {
        static PathSpec parse(String text, long defaultCap) {
            String rest = text.strip();
            long cap = defaultCap;
            int colon = rest.indexOf(':');
            if (colon >= 0) {
                cap = Long.parseLong(rest.substring(colon + 1));
                rest = rest.substring(0, colon);
            }
            int max = Integer.MAX_VALUE;
            int at = rest.indexOf('@');
            if (at >= 0) {
                max = Integer.parseInt(rest.substring(at + 1));
                rest = rest.substring(0, at);
            }
            return new PathSpec(ProgrammingPath.fromId(rest), max, cap);
        }
    }

    private record Timed(SyncResult result, long appliedAt) {
    }

    /** What the client thread saw for one change. */
    private record ChangeSeen(long handedAt, ProbeNetwork.Outcome traffic) {
    }

    private ProgrammingLatencyRun() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new LinkedHashMap<>();
        options.put("sizes", "1000,10000,50000");
        options.put("paths", "nft-flat-netlink,nft-flat-nft,nft-kube-proxy-netlink@1000,iptables-legacy,iptables-nft:60");
        options.put("cap", "300");
        options.put("changeCap", "30");
        options.put("again", "true");
        options.put("changes", "100,100,30");
        options.put("warmup", "10");
        options.put("rounds", "3");
        options.put("budget", "300");
        options.put("endpoints", "1");
        options.put("gapMicros", "100");
        options.put("out", "benchmarks/target/programming-results/" + Instant.now().toString()
                .replace(":", "").replaceAll("\\.\\d+", ""));
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq < 0 || !options.containsKey(arg.substring(0, eq))) {
                System.err.println("unknown argument \"" + arg + "\"; known: " + options.keySet());
                System.exit(2);
            }
            options.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        if (!"root".equals(System.getProperty("user.name"))) {
            System.err.println("ProgrammingLatencyRun needs root: network namespaces, iptables, nftables");
            System.exit(2);
        }
        int[] sizes = ints(options.get("sizes"));
        int[] changes = ints(options.get("changes"));
        long defaultCap = Long.parseLong(options.get("cap"));
        Duration changeCap = Duration.ofSeconds(Long.parseLong(options.get("changeCap")));
        boolean again = Boolean.parseBoolean(options.get("again"));
        List<PathSpec> paths = new ArrayList<>();
        for (String path : options.get("paths").split(",")) {
            paths.add(PathSpec.parse(path, defaultCap));
        }
        int warmup = Integer.parseInt(options.get("warmup"));
        int rounds = Math.max(1, Integer.parseInt(options.get("rounds")));
        Duration budget = Duration.ofSeconds(Long.parseLong(options.get("budget")));
        int probeEndpoints = Integer.parseInt(options.get("endpoints"));
        long gapNanos = Long.parseLong(options.get("gapMicros")) * 1000;
        Path out = Path.of(options.get("out"));
        Files.createDirectories(out);

        System.out.println("== ProgrammingLatencyRun " + options);
        String machineBefore = MachineFacts.describe();
        System.out.println(machineBefore);

        List<PathResult> results = new ArrayList<>();
        boolean ok = true;
        try (BufferedWriter csv = Files.newBufferedWriter(out.resolve("results.csv"))) {
            csv.write("path,services,kind,round,index,ms,attempts,unanswered,render_ms,apply_ms,load1\n");
            Map<ProgrammingPath, String> missed = new LinkedHashMap<>();
            for (int s = 0; s < sizes.length; s++) {
                int size = sizes[s];
                int timed = changes[Math.min(s, changes.length - 1)];
                ClusterGenerator.Cluster cluster = ClusterGenerator.generate(size);
                System.out.printf(Locale.ROOT, "%n==== %,d services: %s%n", size, cluster.describe());
                ClusterObjects objects = ClusterObjects.of(cluster.state());
                for (PathSpec spec : paths) {
                    PathResult result = new PathResult(spec.path(), size, spec.capSeconds());
                    if (size > spec.maxSize()) {
                        continue;
                    }
                    results.add(result);
                    if (missed.containsKey(spec.path())) {
                        result.skipped = true;
                        result.problem = "not tried: " + missed.get(spec.path());
                        System.out.printf("%n== %s at %,d services: %s%n", spec.path().id(), size, result.problem);
                        csv.write(csvLine(result, "skipped", 0, 0, Double.NaN, 0, 0));
                        continue;
                    }
                    try {
                        ok &= measure(spec, objects, timed, warmup, rounds, budget, changeCap, again, probeEndpoints,
                                gapNanos, result, csv);
                    } catch (Exception e) {
                        ok = false;
                        result.problem = "failed: " + e;
                        System.out.println(spec.path().id() + " failed: " + e);
                        e.printStackTrace(System.out);
                    }
                    if (result.overCap) {
                        missed.put(spec.path(), String.format(Locale.ROOT,
                                "at %,d services its full sync was not done within %d s", size, spec.capSeconds()));
                    } else if (result.deadlineMissed != null) {
                        missed.put(spec.path(), String.format(Locale.ROOT, "at %,d services %s", size,
                                result.deadlineMissed));
                    }
                    csv.flush();
                    awaitSyncThreadsGone();
                }
            }
        }
        String machineAfter = MachineFacts.describe();
        System.out.println();
        System.out.println(machineAfter);
        String summary = summary(results, options, machineBefore, machineAfter);
        Files.writeString(out.resolve("summary.md"), summary);
        System.out.println();
        System.out.println(summary);
        Files.writeString(out.resolve("summary.csv"), summaryCsv(results));
        ScalingPlot.write(results, out.resolve("programming-latency.png"));
        System.out.println("results in " + out.toAbsolutePath());
        System.exit(ok ? 0 : 1);
    }

    /** One path at one size; false when something failed (a cap reached is not a failure). */
    private static boolean measure(PathSpec spec, ClusterObjects cluster, int timed, int warmup, int rounds,
                                   Duration budget, Duration changeCap, boolean again, int probeEndpoints,
                                   long gapNanos, PathResult result, BufferedWriter csv) throws Exception {
        ProgrammingPath path = spec.path();
        Duration cap = Duration.ofSeconds(spec.capSeconds());
        System.out.printf(Locale.ROOT, "%n== %s (%s) at %,d services; cap %d s; load %s%n", path.id(),
                path.description(), result.services, cap.toSeconds(), MachineFacts.load());
        int poolSize = Math.min(240, Math.max(2 * probeEndpoints + 2, 64));
        try (ProbeNetwork network = ProbeNetwork.create(poolSize, portOf(cluster))) {
            System.out.printf("node namespace %s, pod namespace %s%n", network.node().name(), network.pod().name());
            List<String> current = new ArrayList<>(network.pool().subList(0, probeEndpoints));
            ProbeService probe = ProbeService.pick(cluster, current);
            BlockingQueue<Timed> syncs = new LinkedBlockingQueue<>();
            DrivenSource[] source = new DrivenSource[1];
            try (ProxyDaemon daemon = ProxyDaemon.start(path.settings(network.node().commandPrefix()), "benchmark",
                    handler -> {
                        source[0] = new DrivenSource(handler);
                        return source[0];
                    }, sync -> syncs.add(new Timed(sync, System.nanoTime())))) {
                return run(network, probe, current, daemon, source[0], syncs, cap, changeCap, again, timed, warmup,
                        rounds, budget, gapNanos, result, csv);
            } finally {
                killLeftoverAppliers();
            }
        }
    }

    private static boolean run(ProbeNetwork network, ProbeService probe, List<String> current, ProxyDaemon daemon,
                               DrivenSource source, BlockingQueue<Timed> syncs, Duration cap, Duration changeCap,
                               boolean again, int timed, int warmup, int rounds, Duration budget, long gapNanos,
                               PathResult result, BufferedWriter csv)
            throws Exception {
        // The full sync: everything handed over, both kinds synced, the first (full) sync's result.
        long start = System.nanoTime();
        for (V1Service service : probe.objects().services()) {
            source.handler().onServiceChange(null, service);
        }
        for (V1EndpointSlice slice : probe.objects().slices()) {
            source.handler().onEndpointSliceChange(null, slice);
        }
        long handed = System.nanoTime();
        source.markSynced();
        Timed full = awaitSync(syncs, cap, r -> r.kind() == SyncResult.Kind.FULL);
        result.handOverMs = ms(handed - start);
        if (full == null) {
            result.overCap = true;
            result.problem = "first full sync not done within " + cap.toSeconds() + " s; changes skipped";
            killLeftoverAppliers();
            System.out.println(result.problem);
            csv.write(csvLine(result, "full_sync_over_cap", 0, 0, cap.toMillis(), 0, 0));
            return true;
        }
        if (full.result.failed()) {
            result.problem = "first full sync failed: " + full.result.error();
            System.out.println(result.problem);
            return false;
        }
        result.fullMs = ms(full.appliedAt - start);
        csv.write(csvLine(result, "full_sync", 0, 0, result.fullMs, 0, 0, full.result));
        System.out.printf(Locale.ROOT, "first full sync %s (objects handed over in %s; render %d ms, apply %,d ms;"
                        + " %,d service ports, %,d endpoints)%n", PathResult.time(result.fullMs),
                PathResult.time(result.handOverMs), full.result.renderTime().toMillis(),
                full.result.restoreTime().toMillis(), full.result.services(), full.result.endpoints());

        InetSocketAddress target = probe.target();
        NamespaceThread client = network.client();
        boolean traffic = answeredByCurrent(client, target, current);
        if (!traffic) {
            result.problem = "the probe service did not answer after the full sync; change -> traffic not measured";
            System.out.println(result.problem);
            dumpRules(network, probe);
        }

        // The changes: warm-up, then the timed ones in rounds.
        V1EndpointSlice slice = probe.slice();
        int perRound = (timed + rounds - 1) / rounds;
        int total = warmup + timed;
        int nextFree = current.size();
        long loopDeadline = System.nanoTime() + budget.toNanos();
        PathResult.Round round = null;
        boolean ok = true;
        for (int i = 0; i < total; i++) {
            if (System.nanoTime() > loopDeadline) {
                result.deadlineMissed = (warmup + timed) + " changes were not done within " + budget.toSeconds()
                        + " s";
                result.problem = append(result.problem, "change loop stopped by its budget (" + budget.toSeconds()
                        + " s) after " + Math.max(0, i - warmup) + " timed changes");
                System.out.println(result.problem);
                break;
            }
            boolean timedChange = i >= warmup;
            if (timedChange && (i - warmup) % perRound == 0) {
                if (round != null) {
                    printRound(result, round);
                }
                round = new PathResult.Round(result.rounds.size() + 1, MachineFacts.load());
                result.rounds.add(round);
            }
            // A pod replaced: one endpoint moves to a pool address not in use.
            String fresh = network.pool().get(nextFree % network.pool().size());
            while (current.contains(fresh)) {
                fresh = network.pool().get(++nextFree % network.pool().size());
            }
            nextFree++;
            current.set(i % current.size(), fresh);
            V1EndpointSlice old = slice;
            V1EndpointSlice changed = ProbeService.withEndpoints(slice, current);
            slice = changed;
            syncs.clear(); // results of syncs before this change (stale-chain deletion) are not this change's

            String wanted = fresh;
            boolean measureTraffic = traffic;
            long capNanos = changeCap.toNanos();
            Future<ChangeSeen> seen = client.submit(() -> {
                long handedAt = System.nanoTime();
                source.handler().onEndpointSliceChange(old, changed);
                ProbeNetwork.Outcome outcome = !measureTraffic ? null : ProbeNetwork.awaitAnswerFrom(target, wanted,
                        handedAt, handedAt + capNanos, CONNECT_TIMEOUT_MILLIS, gapNanos);
                return new ChangeSeen(handedAt, outcome);
            });
            ChangeSeen change;
            try {
                change = seen.get(changeCap.toSeconds() + 30, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                seen.cancel(true);
                result.problem = append(result.problem, "change " + i + ": the client did not return");
                result.deadlineMissed = "a change's client did not return within " + (changeCap.toSeconds() + 30)
                        + " s";
                ok = false;
                break;
            }
            Timed synced = awaitSync(syncs, changeCap, r -> r.changedServices().contains(probe.key())
                    || r.kind() == SyncResult.Kind.FULL || r.failed());
            if (synced == null || synced.result.failed() || synced.result.kind() != SyncResult.Kind.PARTIAL) {
                result.problem = append(result.problem, "change " + i + ": no partial sync ("
                        + (synced == null ? "not done within " + changeCap.toSeconds() + " s" : synced.result.kind()
                        + " " + synced.result.error()) + ")");
                if (synced == null) {
                    result.deadlineMissed = "a change was not applied within " + changeCap.toSeconds() + " s";
                }
                System.out.println(result.problem);
                ok = synced == null; // over the cap is a finding
                break;
            }
            double applied = ms(synced.appliedAt - change.handedAt);
            double toTraffic = Double.NaN;
            long attempts = 0;
            long unanswered = 0;
            if (change.traffic != null) {
                attempts = change.traffic.attempts();
                unanswered = change.traffic.unanswered();
                if (change.traffic.answered()) {
                    toTraffic = ms(change.traffic.answeredAt() - change.handedAt);
                } else if (timedChange) {
                    result.changesWithoutTraffic++;
                    System.out.printf("change %d: %s never answered within the cap (%d attempts, last answer %s)%n",
                            i, wanted, attempts, change.traffic.lastAnswer());
                }
            }
            int roundNumber = timedChange ? round.number : 0;
            int index = timedChange ? i - warmup : i;
            csv.write(csvLine(result, "change_applied", roundNumber, index, applied, 0, 0, synced.result));
            if (change.traffic != null) {
                csv.write(csvLine(result, "change_traffic", roundNumber, index, toTraffic, attempts, unanswered));
            }
            if (timedChange) {
                round.applied.add(applied);
                round.render.add(synced.result.renderTime().toNanos() / 1e6);
                round.apply.add(synced.result.restoreTime().toNanos() / 1e6);
                if (!Double.isNaN(toTraffic)) {
                    round.traffic.add(toTraffic);
                }
                result.attempts += attempts;
                result.unanswered += unanswered;
            }
        }
        if (round != null) {
            printRound(result, round);
        }
        System.out.printf(Locale.ROOT, "probe connections during the timed changes: %,d (%,d unanswered)%n",
                result.attempts, result.unanswered);

        // A second full sync, asked for now.
        if (!again || result.deadlineMissed != null) {
            System.out.println(PathResult.header());
            System.out.println(result.row());
            return ok;
        }
        syncs.clear();
        long asked = System.nanoTime();
        daemon.requestFullSync();
        Timed second = awaitSync(syncs, cap, r -> r.kind() == SyncResult.Kind.FULL);
        if (second == null || second.result.failed()) {
            result.problem = append(result.problem, "second full sync " + (second == null ? "not done within "
                    + cap.toSeconds() + " s" : "failed: " + second.result.error()));
            killLeftoverAppliers();
            System.out.println(result.problem);
        } else {
            result.fullAgainMs = ms(second.appliedAt - asked);
            csv.write(csvLine(result, "full_sync_again", 0, 0, result.fullAgainMs, 0, 0, second.result));
            System.out.println("second full sync " + PathResult.time(result.fullAgainMs));
            if (traffic && !answeredByCurrent(client, target, current)) {
                result.problem = append(result.problem, "the probe did not answer after the second full sync");
                System.out.println(result.problem);
                ok = false;
            }
        }
        System.out.println(PathResult.header());
        System.out.println(result.row());
        return ok;
    }

    private static void printRound(PathResult result, PathResult.Round round) {
        double[] applied = round.applied.stream().mapToDouble(Double::doubleValue).toArray();
        double[] traffic = round.traffic.stream().mapToDouble(Double::doubleValue).toArray();
        double[] render = round.render.stream().mapToDouble(Double::doubleValue).toArray();
        double[] apply = round.apply.stream().mapToDouble(Double::doubleValue).toArray();
        System.out.printf(Locale.ROOT, "round %d (load at start %s, now %s): %d changes; applied p50 %s p99 %s"
                        + " (the sync's render p50 %s, apply p50 %s, other p50 %s); traffic p50 %s p99 %s max %s%n",
                round.number, round.loadAtStart, MachineFacts.load(), applied.length,
                PathResult.time(PathResult.percentile(applied, 50)), PathResult.time(PathResult.percentile(applied, 99)),
                PathResult.time(PathResult.percentile(render, 50)), PathResult.time(PathResult.percentile(apply, 50)),
                PathResult.time(PathResult.percentile(round.other(), 50)),
                PathResult.time(PathResult.percentile(traffic, 50)),
                PathResult.time(PathResult.percentile(traffic, 99)), PathResult.time(PathResult.max(traffic)));
    }

    /**
     * Kills what an abandoned sync left running: this JVM's own iptables-restore and nft children (by pid), so that
     * a full sync past its cap does not go on loading the machine under the next path's figures.
     */
    private static void killLeftoverAppliers() {
        ProcessHandle.current().descendants().filter(process -> process.info().command()
                .map(command -> {
                    String name = Path.of(command).getFileName().toString();
                    return name.startsWith("iptables") || name.startsWith("ip6tables") || name.equals("nft")
                            || name.startsWith("xtables");
                }).orElse(false)).forEach(process -> {
                    System.out.println("killing leftover " + process.info().command().orElse("?") + " (pid "
                            + process.pid() + ")");
                    process.destroyForcibly();
                });
    }

    /** Whether one of the current endpoints answers the cluster IP within 5 s. */
    private static boolean answeredByCurrent(NamespaceThread client, InetSocketAddress target, List<String> current)
            throws Exception {
        List<String> wanted = List.copyOf(current);
        return client.call(() -> {
            long deadline = System.nanoTime() + 5_000_000_000L;
            for (int i = 0; i < 5000 && System.nanoTime() < deadline; i++) {
                String answer = ProbeNetwork.ask(target, CONNECT_TIMEOUT_MILLIS);
                if (answer != null && wanted.contains(answer)) {
                    return true;
                }
                Thread.sleep(1);
            }
            return false;
        }, 20_000);
    }

    /** What the kernel holds for the probe's cluster IP, to tell why it did not answer. */
    private static void dumpRules(ProbeNetwork network, ProbeService probe) {
        String ip = probe.target().getAddress().getHostAddress();
        for (List<String> command : List.of(List.of("nft", "list", "ruleset"), List.of("iptables-legacy-save"),
                List.of("iptables-nft-save"))) {
            CommandResult listed = network.node().exec(command, Duration.ofMinutes(2), null);
            listed.stdout().lines().filter(line -> line.contains(ip)).limit(10)
                    .forEach(line -> System.out.println("  " + String.join(" ", command) + ": " + line.strip()));
        }
    }

    /** The probe's target port, which the pod's server listens on. */
    private static int portOf(ClusterObjects cluster) {
        return ProbeService.pick(cluster, List.of("10.244.250.10")).targetPort();
    }

    /** Waits until no sync thread of an earlier daemon is left (one abandoned past its cap), at most 3 minutes. */
    private static void awaitSyncThreadsGone() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        boolean reported = false;
        while (System.nanoTime() < deadline) {
            List<String> alive = Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                    .filter(name -> name.startsWith("nftables-sync-") || name.startsWith("iptables-sync-")).toList();
            if (alive.isEmpty()) {
                return;
            }
            if (!reported) {
                System.out.println("waiting for an abandoned sync to end: " + alive);
                reported = true;
            }
            Thread.sleep(500);
        }
        System.out.println("a sync thread is still running; later figures may be disturbed");
    }

    private static Timed awaitSync(BlockingQueue<Timed> syncs, Duration timeout, Predicate<SyncResult> wanted)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            Timed next = left <= 0 ? null : syncs.poll(left, TimeUnit.NANOSECONDS);
            if (next == null) {
                return null;
            }
            if (next.result.kind() != SyncResult.Kind.SKIPPED && wanted.test(next.result)) {
                return next;
            }
        }
    }

    private static String summary(List<PathResult> results, Map<String, String> options, String machineBefore,
                                  String machineAfter) {
        StringBuilder text = new StringBuilder();
        text.append("# Network programming latency (ProgrammingLatencyRun)\n\n");
        text.append("Options: `").append(options).append("`\n\n");
        text.append("Change → applied: from handing the changed EndpointSlice to the tracker to the daemon's sync"
                + " result. Change → traffic: from the same instant to the first new connection from the node"
                + " namespace to the probe's cluster IP (nat output) that the new pod address answers. Full sync:"
                + " from handing the first object over to the result; again: from requestFullSync() to the result."
                + " Nearest-rank percentiles over all rounds.\n\n");
        text.append(PathResult.header()).append('\n');
        results.forEach(r -> text.append(r.row()).append('\n'));
        text.append("\nAgainst ").append(ProgrammingPath.NFT_FLAT_NETLINK.id()).append(" at the same size in this run"
                + " (its time x this factor; > 1 is slower):\n\n").append(PathResult.ratioHeader()).append('\n');
        for (PathResult r : results) {
            PathResult base = baseline(results, r.services);
            if (base != null && r != base && !r.skipped) {
                text.append(r.ratioRow(base)).append('\n');
            }
        }
        text.append("\nPer round:\n\n").append(PathResult.roundHeader()).append('\n');
        results.forEach(r -> r.roundLines().forEach(line -> text.append(line).append('\n')));
        text.append("\nMachine at start:\n\n```\n").append(machineBefore).append("\n```\n\nat end:\n\n```\n")
                .append(machineAfter).append("\n```\n");
        return text.toString();
    }

    private static PathResult baseline(List<PathResult> results, int services) {
        return results.stream().filter(r -> r.path == ProgrammingPath.NFT_FLAT_NETLINK && r.services == services)
                .findFirst().orElse(null);
    }

    /** One line per path and size: the figures and their ratios against nft-flat-netlink at that size. */
    private static String summaryCsv(List<PathResult> results) {
        StringBuilder text = new StringBuilder(PathResult.csvHeader()).append('\n');
        results.forEach(r -> text.append(r.csvRow(baseline(results, r.services))).append('\n'));
        return text.toString();
    }

    private static String csvLine(PathResult result, String kind, int round, int index, double ms, long attempts,
                                  long unanswered) {
        return csvLine(result, kind, round, index, ms, attempts, unanswered, null);
    }

    /** A row; with a sync's result, its render (plan) and apply times. */
    private static String csvLine(PathResult result, String kind, int round, int index, double ms, long attempts,
                                  long unanswered, SyncResult sync) {
        return String.format(Locale.ROOT, "%s,%d,%s,%d,%d,%s,%d,%d,%s,%s,%s%n", result.path.id(), result.services,
                kind, round, index, Double.isNaN(ms) ? "" : String.format(Locale.ROOT, "%.3f", ms), attempts,
                unanswered, sync == null ? "" : String.format(Locale.ROOT, "%.3f", sync.renderTime().toNanos() / 1e6),
                sync == null ? "" : String.format(Locale.ROOT, "%.3f", sync.restoreTime().toNanos() / 1e6),
                MachineFacts.load());
    }

    private static String append(String problem, String more) {
        return problem == null ? more : problem + "; " + more;
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    private static int[] ints(String list) {
        return Arrays.stream(list.split(",")).map(String::strip).mapToInt(Integer::parseInt).toArray();
    }
}
