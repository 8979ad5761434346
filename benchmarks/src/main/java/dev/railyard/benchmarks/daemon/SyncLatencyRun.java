package dev.railyard.benchmarks.daemon;

import dev.railyard.benchmarks.ClusterGenerator;
import dev.railyard.proxy.apply.IptablesBackend;
import dev.railyard.proxy.daemon.ProxyDaemon;
import dev.railyard.proxy.daemon.ProxyDaemonSettings;
import dev.railyard.proxy.sync.IptablesSyncer;
import dev.railyard.proxy.sync.SyncResult;
import dev.railyard.testkit.CommandResult;
import dev.railyard.testkit.NetworkNamespace;
import io.kubernetes.client.openapi.models.V1Endpoint;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1Service;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Bounded run of the node daemon's sync path: a real {@link ProxyDaemon} (change tracker, bounded-frequency
 * runner, syncer, renderer, iptables-restore) programming a fresh network namespace, fed by a {@link DrivenSource}
 * the run calls directly, with --iptables-min-sync-period 0.
 *
 * <p>Per cluster size: hand the tracker every Service and EndpointSlice of a {@link ClusterGenerator} cluster,
 * mark both kinds synced and wait for the first (full) sync; then, one at a time, replace one endpoint address
 * of one random service (a pod replaced: one KUBE-SEP chain goes, one comes) and wait for the sync that
 * programs it. For each change it records the time from handing the event to the tracker to the sync having
 * returned from iptables-restore (measured in the daemon's sync hook), the render and restore parts, and the
 * bytes fed to iptables-restore. Finally the kernel's nat rule count is compared with a full render of the same
 * state (so the partial syncs left exactly the right rules), and a full sync is timed again.
 *
 * <pre>
 * java -Xms1g -Xmx1g -cp 'benchmarks/target/benchmarks.jar:benchmarks/target/lib/*' \
 *      dev.railyard.benchmarks.daemon.SyncLatencyRun [sizes=10000] [changes=200] [backend=legacy] [capSeconds=120]
 * </pre>
 * Needs root; exits with 2 otherwise, with 1 when a check fails. A full sync that does not finish within the cap
 * (iptables-restore's own timeout is 120 s) is reported and the size's change loop skipped.
 */
public final class SyncLatencyRun {
    private static final int WARMUP_CHANGES = 20;

    private SyncLatencyRun() {
    }

    public static void main(String[] args) throws Exception {
        int[] sizes = args.length > 0 ? Arrays.stream(args[0].split(",")).mapToInt(Integer::parseInt).toArray()
                : new int[] {10_000};
        int changes = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        IptablesBackend backend = IptablesBackend.fromFlag(args.length > 2 ? args[2] : "legacy");
        Duration cap = Duration.ofSeconds(args.length > 3 ? Long.parseLong(args[3]) : 120);
        if (!"root".equals(System.getProperty("user.name"))) {
            System.err.println("SyncLatencyRun needs root: it creates a network namespace and runs iptables-restore");
            System.exit(2);
        }
        System.out.printf("backend %s, %d changes per size (after %d warm-up changes), cap %d s, load %s%n",
                backend.flagValue(), changes, WARMUP_CHANGES, cap.toSeconds(), load());
        List<String> rows = new ArrayList<>();
        boolean ok = true;
        for (int size : sizes) {
            ok &= measure(size, changes, backend, cap, rows);
        }
        System.out.println();
        System.out.println("== summary (" + backend.flagValue() + "; ms; p50 / p99 of the timed changes; load now "
                + load() + ")");
        System.out.println("| services | full sync render | full sync restore | full bytes | event→applied p50 / p99"
                + " | render p50 / p99 | restore p50 / p99 | other p50 / p99 | partial bytes p50 / max"
                + " | partial ÷ full |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|");
        rows.forEach(System.out::println);
        System.exit(ok ? 0 : 1);
    }

    private static boolean measure(int size, int changes, IptablesBackend backend, Duration cap, List<String> rows)
            throws Exception {
        System.out.printf("%n== %,d services, %s%n", size, backend.flagValue());
        ClusterGenerator.Cluster cluster = ClusterGenerator.generate(size);
        ClusterObjects objects = ClusterObjects.of(cluster.state());
        System.out.println(cluster.describe());

        BlockingQueue<Timed> results = new LinkedBlockingQueue<>();
        try (NetworkNamespace ns = NetworkNamespace.create()) {
            // Min sync period 0; a sync period (and retry) longer than the run, so every sync after the first is
            // partial and a failed full sync is not retried behind the run's back.
            IptablesSyncer.Settings sync = new IptablesSyncer.Settings(Duration.ZERO, Duration.ofHours(1),
                    Duration.ofHours(1));
            ProxyDaemonSettings settings = new ProxyDaemonSettings(ClusterGenerator.NODE_NAME,
                    List.of(ClusterGenerator.renderConfig()), sync, ns.commandPrefix(), Duration.ofSeconds(10),
                    backend);
            DrivenSource[] source = new DrivenSource[1];
            try (ProxyDaemon daemon = ProxyDaemon.start(settings, "benchmark", handler -> {
                source[0] = new DrivenSource(handler);
                return source[0];
            }, result -> results.add(new Timed(result, System.nanoTime())))) {
                return run(cluster, objects, source[0], daemon, results, changes, backend, cap, ns, rows, size);
            }
        }
    }

    private static boolean run(ClusterGenerator.Cluster cluster, ClusterObjects objects, DrivenSource source,
                               ProxyDaemon daemon, BlockingQueue<Timed> results, int changes,
                               IptablesBackend backend, Duration cap, NetworkNamespace ns, List<String> rows,
                               int size) throws Exception {
        long loadStart = System.nanoTime();
        for (V1Service service : objects.services()) {
            source.handler().onServiceChange(null, service);
        }
        for (V1EndpointSlice slice : objects.slices()) {
            source.handler().onEndpointSliceChange(null, slice);
        }
        long handedOver = System.nanoTime();
        source.markSynced();
        Timed full = awaitSync(results, cap.plusSeconds(30), r -> r.kind() == SyncResult.Kind.FULL);
        if (full == null || full.result.failed()) {
            String why = full == null ? "no full sync within " + cap.toSeconds() + " s" : full.result.error();
            System.out.printf("first full sync did not complete: %s%n", why);
            rows.add(String.format("| %,d | — | did not finish (%s) | | | | | | | |", size,
                    full == null ? "> " + cap.toSeconds() + " s" : "failed"));
            return full == null; // a timeout is a finding, not a failure of the run
        }
        SyncResult first = full.result;
        System.out.printf("handed over %,d services and %,d slices in %.0f ms; first full sync %s after synced:"
                        + " render %d ms, restore %d ms, %,d bytes, %,d service ports, %,d endpoints%n",
                objects.services().size(), objects.slices().size(), (handedOver - loadStart) / 1e6,
                ms(full.appliedAt - handedOver), first.renderTime().toMillis(), first.restoreTime().toMillis(),
                first.bytesWritten(), first.services(), first.endpoints());

        SplittableRandom random = new SplittableRandom(7);
        List<V1EndpointSlice> slices = new ArrayList<>(objects.slices());
        int total = WARMUP_CHANGES + changes;
        long[] latency = new long[changes];
        long[] render = new long[changes];
        long[] restore = new long[changes];
        long[] bytes = new long[changes];
        SyncResult sample = null;
        long loopStart = System.nanoTime();
        long deadline = loopStart + cap.toNanos() * 3;
        int done = 0;
        for (int i = 0; i < total && System.nanoTime() < deadline; i++) {
            int which = random.nextInt(slices.size());
            V1EndpointSlice old = slices.get(which);
            V1EndpointSlice changed = withOneEndpointReplaced(old, random.nextInt(old.getEndpoints().size()), i);
            slices.set(which, changed);
            String key = old.getMetadata().getNamespace() + "/"
                    + old.getMetadata().getLabels().get(ClusterObjects.SERVICE_NAME_LABEL);
            long handed = System.nanoTime();
            source.handler().onEndpointSliceChange(old, changed);
            Timed synced = awaitSync(results, cap.plusSeconds(30), r -> r.changedServices().contains(key)
                    || r.kind() == SyncResult.Kind.FULL || r.failed());
            if (synced == null || synced.result.failed() || synced.result.kind() != SyncResult.Kind.PARTIAL) {
                System.out.printf("change %d: no partial sync (%s)%n", i, synced == null ? "timed out"
                        : synced.result.kind() + " " + synced.result.error());
                return false;
            }
            if (i < WARMUP_CHANGES) {
                continue;
            }
            int n = i - WARMUP_CHANGES;
            latency[n] = synced.appliedAt - handed;
            render[n] = synced.result.renderTime().toNanos();
            restore[n] = synced.result.restoreTime().toNanos();
            bytes[n] = synced.result.bytesWritten();
            sample = synced.result;
            done = n + 1;
        }
        System.out.printf("%d changes in %.1f s%n", done, (System.nanoTime() - loopStart) / 1e9);
        if (done == 0) {
            rows.add(String.format("| %,d | %d | %,d | %,d | no change finished | | | | | |", size,
                    first.renderTime().toMillis(), first.restoreTime().toMillis(), first.bytesWritten()));
            return false;
        }
        latency = Arrays.copyOf(latency, done);
        render = Arrays.copyOf(render, done);
        restore = Arrays.copyOf(restore, done);
        bytes = Arrays.copyOf(bytes, done);
        long[] other = new long[done];
        for (int n = 0; n < done; n++) {
            other[n] = latency[n] - render[n] - restore[n];
        }
        System.out.printf("a partial sync: %,d bytes, filter rules %,d, nat chains written %,d (skipped %,d),"
                        + " nat rules written %,d (skipped %,d)%n", sample.bytesWritten(), sample.filterRules(),
                sample.natChainsWritten(), sample.natChainsSkipped(), sample.natRulesWritten(),
                sample.natRulesSkipped());

        // Did the partial syncs leave the kernel as a full sync would? Count, then rewrite everything.
        int kernelNatRules = countNatRules(ns, backend);
        daemon.requestFullSync();
        Timed again = awaitSync(results, cap.plusSeconds(30), r -> r.kind() == SyncResult.Kind.FULL);
        boolean ok = again != null && !again.result.failed();
        if (ok) {
            int expected = again.result.natRulesWritten() - again.result.deletedChains();
            ok = kernelNatRules == expected;
            System.out.printf("kernel nat rules after the partial syncs: %,d; a full render of the same state: %,d"
                            + " (%s); full sync again: render %d ms, restore %d ms, %,d bytes%n", kernelNatRules,
                    expected, ok ? "same" : "DIFFERENT", again.result.renderTime().toMillis(),
                    again.result.restoreTime().toMillis(), again.result.bytesWritten());
        } else {
            System.out.println("final full sync failed or timed out");
        }

        long fullBytes = first.bytesWritten();
        rows.add(String.format("| %,d | %d ms | %,d ms | %,d | %.1f / %.1f | %.2f / %.2f | %.1f / %.1f | %.1f / %.1f"
                        + " | %,d / %,d | %.4f %% |", size, first.renderTime().toMillis(),
                first.restoreTime().toMillis(), fullBytes, pct(latency, 50), pct(latency, 99), pct(render, 50),
                pct(render, 99), pct(restore, 50), pct(restore, 99), pct(other, 50), pct(other, 99),
                (long) pctRaw(bytes, 50), Arrays.stream(bytes).max().orElse(0),
                100.0 * pctRaw(bytes, 50) / fullBytes));
        System.out.println(rows.get(rows.size() - 1));
        return ok;
    }

    /** The slice with endpoint {@code index} moved to a new address on the same node: a replaced pod. */
    private static V1EndpointSlice withOneEndpointReplaced(V1EndpointSlice slice, int index, int serial) {
        List<V1Endpoint> endpoints = new ArrayList<>(slice.getEndpoints());
        V1Endpoint old = endpoints.get(index);
        // 10.245.0.0/16 is outside the generator's pod addresses, so every new address is new.
        String ip = "10.245." + (serial / 250) + "." + (serial % 250 + 1);
        endpoints.set(index, ClusterObjects.endpoint(ip, old.getNodeName(), true, true, false));
        return new V1EndpointSlice().apiVersion(slice.getApiVersion()).kind(slice.getKind())
                .addressType(slice.getAddressType()).metadata(slice.getMetadata()).ports(slice.getPorts())
                .endpoints(endpoints);
    }

    private static int countNatRules(NetworkNamespace ns, IptablesBackend backend) {
        String save = backend == IptablesBackend.AUTO ? "iptables-save" : "iptables-" + backend.flagValue() + "-save";
        CommandResult saved = ns.exec(Duration.ofMinutes(5), save, "-t", "nat");
        return (int) saved.stdout().lines().filter(line -> line.startsWith("-A KUBE-")).count();
    }

    private record Timed(SyncResult result, long appliedAt) {
    }

    private static Timed awaitSync(BlockingQueue<Timed> results, Duration timeout,
                                   java.util.function.Predicate<SyncResult> wanted) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            Timed next = left <= 0 ? null : results.poll(left, TimeUnit.NANOSECONDS);
            if (next == null) {
                return null;
            }
            if (next.result.kind() != SyncResult.Kind.SKIPPED && wanted.test(next.result)) {
                return next;
            }
        }
    }

    private static double pct(long[] nanos, int percentile) {
        return pctRaw(nanos, percentile) / 1e6;
    }

    /** Nearest-rank percentile. */
    private static double pctRaw(long[] values, int percentile) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(percentile / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    private static long ms(long nanos) {
        return nanos / 1_000_000;
    }

    private static String load() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ", 4)[0];
        } catch (java.io.IOException e) {
            return "?";
        }
    }
}
