package dev.railyard.benchmarks;

import dev.railyard.proxy.apply.IptablesException;
import dev.railyard.proxy.apply.IptablesRestore;
import dev.railyard.proxy.apply.IptablesRestoreException;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.render.IptablesRenderer;
import dev.railyard.proxy.render.LineBuffer;
import dev.railyard.testkit.CommandResult;
import dev.railyard.testkit.Commands;
import dev.railyard.testkit.NetworkNamespace;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Bounded run that puts a full render next to what it feeds. For each cluster size it builds the
 * {@link ClusterGenerator} state, warms up and times renders with one reused renderer (median, p90, and bytes
 * allocated per render from the thread's allocation counter), then applies the same bytes, each repetition in
 * a freshly created network namespace:
 * <ul>
 *   <li><b>applier</b>: Railyard's {@link IptablesRestore}, i.e. {@code iptables-restore -w 5 --noflush
 *       --counters} with the system's default backend, capped at the applier's default timeout (a timed-out
 *       restore is reported as "&gt; cap" and not repeated);</li>
 *   <li><b>legacy</b>: the same arguments with {@code iptables-legacy-restore}, when installed;</li>
 *   <li><b>nft-flush</b>: {@code iptables-nft-restore -w 5 --counters} without {@code --noflush}, when installed
 *       (shows how much of the nft time is the --noflush path);</li>
 *   <li><b>empty</b>: an empty ruleset through the applier: process start, netns entry, lock — the fixed cost.</li>
 * </ul>
 * Repetitions interleave the modes so load drift on a shared machine hits all of them alike. Render time is then
 * printed as a fraction of each restore time.
 *
 * <pre>
 * sudo java -Xms1g -Xmx1g -cp 'benchmarks/target/benchmarks.jar:benchmarks/target/lib/*' \
 *      dev.railyard.benchmarks.RenderVsRestore [sizes=1000,10000] [renders=60] [restores=3] [capSeconds=120]
 * </pre>
 * Needs root (network namespaces, iptables); exits with status 2 otherwise. With
 * {@code -Drailyard.bench.dump=DIR} the rendered rulesets are also written to {@code DIR/ruleset-SIZE.txt}.
 */
public final class RenderVsRestore {
    private static final byte[] EMPTY_RULESET = "*filter\nCOMMIT\n*nat\nCOMMIT\n".getBytes(StandardCharsets.US_ASCII);
    private static final String[] MODES = {"applier", "legacy", "nft-flush", "empty"};

    private RenderVsRestore() {
    }

    public static void main(String[] args) throws Exception {
        int[] sizes = args.length > 0 ? Arrays.stream(args[0].split(",")).mapToInt(Integer::parseInt).toArray()
                : new int[] {1000, 10000};
        int renders = args.length > 1 ? Integer.parseInt(args[1]) : 60;
        int restores = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        Duration cap = Duration.ofSeconds(args.length > 3 ? Long.parseLong(args[3])
                : IptablesRestore.DEFAULT_TIMEOUT.toSeconds());

        if (!isRoot()) {
            System.err.println("RenderVsRestore needs root: it creates network namespaces and runs iptables-restore"
                    + " in them. Run it as root (e.g. sudo), or run only the JMH RenderBenchmark.");
            System.exit(2);
        }
        System.out.println("iptables-restore: " + Commands.run("iptables-restore", "--version").stdout().strip()
                + "; applier command: " + String.join(" ", IptablesRestore.of(IpFamily.V4).command(false))
                + "; cap " + cap.toSeconds() + " s");

        List<String> renderRows = new ArrayList<>();
        List<String> restoreRows = new ArrayList<>();
        for (int size : sizes) {
            measure(size, renders, restores, cap, renderRows, restoreRows);
        }
        System.out.println();
        System.out.println("== render summary (ms; alloc from the thread allocation counter)");
        System.out.println("| services | service ports | (port, endpoint) pairs | lines | output bytes | render median"
                + " | render p90 | render min | alloc bytes/render | alloc/output |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|");
        renderRows.forEach(System.out::println);
        System.out.println();
        System.out.println("== restore summary (fresh namespace each time; ms median [min-max] of n; fraction = render median / restore median)");
        System.out.println("| services | mode | restore ms | n | render / restore |");
        System.out.println("|---|---|---|---|---|");
        restoreRows.forEach(System.out::println);
    }

    private static void measure(int size, int renders, int restores, Duration cap, List<String> renderRows,
                                List<String> restoreRows) throws Exception {
        System.out.printf("%n== %,d services%n", size);
        long t0 = System.nanoTime();
        ClusterGenerator.Cluster cluster = ClusterGenerator.generate(size);
        System.out.printf("generated in %.0f ms: %s%n", (System.nanoTime() - t0) / 1e6, cluster.describe());

        IptablesRenderer renderer = new IptablesRenderer(ClusterGenerator.renderConfig());
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().getId();

        // Warm-up: at least 5 s and enough renders for C2 to compile the render path; at most 30 s.
        int warmups = 0;
        long warmupStart = System.nanoTime();
        int minWarmups = Math.max(20, 200_000 / size);
        while (true) {
            renderer.render(cluster.state());
            warmups++;
            long elapsed = System.nanoTime() - warmupStart;
            if ((warmups >= minWarmups && elapsed > 5_000_000_000L) || elapsed > 30_000_000_000L) {
                break;
            }
        }

        long[] times = new long[renders];
        long allocBefore = threads.getThreadAllocatedBytes(thread);
        LineBuffer out = null;
        for (int i = 0; i < renders; i++) {
            long start = System.nanoTime();
            out = renderer.render(cluster.state());
            times[i] = System.nanoTime() - start;
        }
        long allocPerRender = (threads.getThreadAllocatedBytes(thread) - allocBefore) / renders;
        byte[] rules = out.toByteArray();
        int lines = out.lines();
        String dump = System.getProperty("railyard.bench.dump");
        if (dump != null) {
            Path file = Path.of(dump, "ruleset-" + size + ".txt");
            Files.createDirectories(file.getParent());
            Files.write(file, rules);
            System.out.println("ruleset written to " + file);
        }
        Arrays.sort(times);
        double renderMedian = pct(times, 50) / 1e6;
        System.out.printf("render x%d after %d warm-up renders: median %.2f ms, p90 %.2f ms, min %.2f ms, max %.2f ms;"
                        + " output %,d lines, %,d bytes (%.2f MB); nat chains %,d, nat rules %,d, filter rules %,d;"
                        + " allocated %,d bytes/render (%.4fx output)%n",
                renders, warmups, renderMedian, pct(times, 90) / 1e6, times[0] / 1e6, times[renders - 1] / 1e6, lines,
                rules.length, rules.length / 1e6, renderer.natChainCount(), renderer.natRuleCount(),
                renderer.filterRuleCount(), allocPerRender, (double) allocPerRender / rules.length);
        renderRows.add(String.format("| %,d | %,d | %,d | %,d | %,d (%.1f MB) | %.2f | %.2f | %.2f | %,d | %.4f |",
                size, cluster.servicePorts(), cluster.endpointEntries(), lines, rules.length, rules.length / 1e6,
                renderMedian, pct(times, 90) / 1e6, times[0] / 1e6, allocPerRender,
                (double) allocPerRender / rules.length));
        if (restores < 1) {
            return;
        }

        Path input = Files.createTempFile("railyard-ruleset-", ".txt");
        try {
            Files.write(input, rules);
            boolean hasLegacy = Commands.locate("iptables-legacy-restore").isPresent();
            boolean hasNft = Commands.locate("iptables-nft-restore").isPresent();
            long[][] samples = new long[MODES.length][restores];
            int[] counts = new int[MODES.length];
            boolean applierTimedOut = false;
            for (int r = 0; r < restores; r++) {
                StringBuilder line = new StringBuilder("restore #" + (r + 1) + ":");
                for (int m = 0; m < MODES.length; m++) {
                    String mode = MODES[m];
                    if ((mode.equals("legacy") && !hasLegacy) || (mode.equals("nft-flush") && !hasNft)
                            || (mode.equals("applier") && applierTimedOut)) {
                        continue;
                    }
                    long took;
                    try (NetworkNamespace ns = NetworkNamespace.create()) {
                        switch (mode) {
                            case "applier":
                                took = timeApplier(ns, rules, cap);
                                if (took < 0) {
                                    applierTimedOut = true;
                                    line.append(String.format(" %s > %d s (killed at the cap)", mode, cap.toSeconds()));
                                    continue;
                                }
                                break;
                            case "legacy":
                                took = timeProcess(ns, input, cap, "iptables-legacy-restore", "-w", "5", "--noflush",
                                        "--counters");
                                break;
                            case "nft-flush":
                                took = timeProcess(ns, input, cap, "iptables-nft-restore", "-w", "5", "--counters");
                                break;
                            default:
                                took = timeApplier(ns, EMPTY_RULESET, cap);
                                break;
                        }
                        if (r == 0 && !mode.equals("empty")) {
                            verify(ns, mode, renderer.natRuleCount());
                        }
                    }
                    samples[m][counts[m]++] = took;
                    line.append(String.format(" %s %.1f ms;", mode, took / 1e6));
                }
                System.out.println(line);
            }
            for (int m = 0; m < MODES.length; m++) {
                String mode = MODES[m];
                if (mode.equals("applier") && applierTimedOut) {
                    restoreRows.add(String.format("| %,d | %s | > %,d (killed at the applier's timeout)%s | %d | < %.5f |",
                            size, label(mode), cap.toMillis(),
                            counts[m] > 0 ? "; " + counts[m] + " earlier runs finished" : "", counts[m] + 1,
                            renderMedian / cap.toMillis()));
                    continue;
                }
                if (counts[m] == 0) {
                    continue;
                }
                long[] s = Arrays.copyOf(samples[m], counts[m]);
                Arrays.sort(s);
                double median = pct(s, 50) / 1e6;
                System.out.printf("%s: median %.1f ms (min %.1f, max %.1f, n=%d); render / restore = %.2f / %.1f = %.5f%n",
                        label(mode), median, s[0] / 1e6, s[s.length - 1] / 1e6, s.length, renderMedian, median,
                        renderMedian / median);
                restoreRows.add(String.format("| %,d | %s | %,.1f [%,.1f-%,.1f] | %d | %s |", size, label(mode), median,
                        s[0] / 1e6, s[s.length - 1] / 1e6, s.length,
                        mode.equals("empty") ? "-" : String.format("%.5f", renderMedian / median)));
            }
        } finally {
            Files.deleteIfExists(input);
        }
    }

    private static String label(String mode) {
        switch (mode) {
            case "applier":
                return "applier: iptables-restore (nft) -w 5 --noflush --counters";
            case "legacy":
                return "iptables-legacy-restore -w 5 --noflush --counters";
            case "nft-flush":
                return "iptables-nft-restore -w 5 --counters (no --noflush)";
            default:
                return "empty ruleset via applier (fixed cost)";
        }
    }

    /** Nanoseconds through Railyard's applier, or -1 if it was killed at the cap. */
    private static long timeApplier(NetworkNamespace ns, byte[] rules, Duration cap) throws Exception {
        IptablesRestore restore = IptablesRestore.of(IpFamily.V4).withCommandPrefix(ns.commandPrefix())
                .withTimeout(cap);
        long start = System.nanoTime();
        try {
            restore.restore(rules, rules.length);
        } catch (IptablesRestoreException e) {
            throw e;
        } catch (IptablesException e) {
            if (System.nanoTime() - start >= cap.toNanos()) {
                return -1;
            }
            throw e;
        }
        return System.nanoTime() - start;
    }

    /** Nanoseconds for {@code ip netns exec NS command < input}; fails on a non-zero exit or at the cap. */
    private static long timeProcess(NetworkNamespace ns, Path input, Duration cap, String... command) throws Exception {
        List<String> argv = new ArrayList<>(ns.commandPrefix());
        argv.addAll(Arrays.asList(command));
        ProcessBuilder builder = new ProcessBuilder(argv).redirectInput(input.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(false);
        builder.environment().put("LC_ALL", "C");
        Path err = Files.createTempFile("railyard-restore-", ".err");
        builder.redirectError(err.toFile());
        try {
            long start = System.nanoTime();
            Process process = builder.start();
            if (!process.waitFor(cap.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor();
                throw new IllegalStateException(String.join(" ", argv) + " did not finish within " + cap);
            }
            long took = System.nanoTime() - start;
            if (process.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", argv) + " exited " + process.exitValue() + ": "
                        + Files.readString(err).strip());
            }
            return took;
        } finally {
            Files.deleteIfExists(err);
        }
    }

    /** The kernel holds as many nat rules as were rendered: the restore really applied the whole ruleset. */
    private static void verify(NetworkNamespace ns, String mode, int natRules) {
        String save = mode.equals("legacy") ? "iptables-legacy-save" : mode.equals("nft-flush") ? "iptables-nft-save"
                : "iptables-save";
        CommandResult saved;
        try {
            saved = ns.exec(Duration.ofSeconds(90), save, "-t", "nat");
        } catch (RuntimeException e) {
            System.out.println("check: " + save + " did not complete, not verified: " + e.getMessage());
            return;
        }
        if (!saved.succeeded()) {
            System.out.println("check: " + save + " failed, not verified: " + saved.stderr().strip());
            return;
        }
        long applied = saved.stdout().lines().filter(l -> l.startsWith("-A ")).count();
        System.out.printf("check (%s): %s -t nat shows %,d rules, %,d rendered%n", mode, save, applied, natRules);
        if (applied != natRules) {
            throw new IllegalStateException("the kernel has " + applied + " nat rules, not the " + natRules
                    + " rendered");
        }
    }

    private static long pct(long[] sorted, int percentile) {
        int index = (int) Math.ceil(percentile / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    private static boolean isRoot() {
        try {
            Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            return uid instanceof Integer && (Integer) uid == 0;
        } catch (Exception e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }
}
