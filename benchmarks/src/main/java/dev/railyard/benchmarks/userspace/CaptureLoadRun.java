package dev.railyard.benchmarks.userspace;

import static dev.railyard.benchmarks.userspace.LoadRuns.absoluteClassPath;
import static dev.railyard.benchmarks.userspace.LoadRuns.firstLine;
import static dev.railyard.benchmarks.userspace.LoadRuns.javaBin;
import static dev.railyard.benchmarks.userspace.LoadRuns.median;
import static dev.railyard.benchmarks.userspace.LoadRuns.range;
import static dev.railyard.benchmarks.userspace.LoadRuns.twoDecimals;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The userspace proxy on the path a cluster uses it (issue 14), against HAProxy on the same path:
 * <ul>
 *   <li>a <b>node</b> network namespace with a bridge, and a <b>pod</b> namespace on it through a veth pair; the
 *       HTTP backend ({@link HttpBackend}) and {@code iperf3 -s} run in the pod namespace;</li>
 *   <li>{@code railyard proxy --proxy-mode userspace --bind-address 0.0.0.0} in the node namespace: capture mode,
 *       listeners on ephemeral wildcard ports and its own nat rules REDIRECTing the service's cluster IP to them;</li>
 *   <li>HAProxy ({@code mode tcp}) in the node namespace behind the same kind of capture: a nat OUTPUT rule that
 *       REDIRECTs a second cluster IP to HAProxy's port;</li>
 *   <li>wrk (keep-alive, small responses) and the iperf3 client in the node namespace, as a node-local client
 *       (hostNetwork pod, kubelet probe, node agent) reaches a ClusterIP; "direct" goes to the pod address.</li>
 * </ul>
 * Every path gets the same wrk warm-up, not recorded; then rounds, the order of the three paths rotating, each
 * printing req/s, p99, proxy CPU seconds per request (utime + stime of the proxy process from /proc/PID/stat
 * before and after), context switches per request (the proxy's threads' voluntary + involuntary switches: its
 * wake-ups) and the load average, with Railyard ÷ HAProxy ratios. {@code --profile-seconds} adds one wrk phase
 * per proxy under {@code perf stat -e raw_syscalls:sys_enter} (syscalls per request) and one under
 * {@code strace -c -f} (which syscalls). Namespaces and processes are removed at the end, also on failure or
 * Ctrl-C. Root only. Run it through {@code benchmarks/run-userspace-benchmarks.sh --path capture}.
 */
public final class CaptureLoadRun {
    static final String DEFAULT_COMMAND = "./railyard proxy --proxy-mode userspace --manifests {manifests}"
            + " --bind-address 0.0.0.0 --iptables-backend nft --hostname-override loadrun-node --node-ip {nodeIP}"
            + " --metrics-bind-address 127.0.0.1:0 --healthz-bind-address 127.0.0.1:0";

    private static final String HELP = String.join("\n",
            "usage: CaptureLoadRun [options]   (root: creates two network namespaces, removed at the end)",
            "  --under-test-cmd CMD     the proxy under test, run with sh -c in the node namespace; placeholders",
            "                           {manifests} {nodeIP} {threads} {out} (default: " + DEFAULT_COMMAND + ")",
            "  --under-test-name NAME   its label (default railyard)",
            "  --rounds N               rounds of wrk, the three paths in rotating order (default 6)",
            "  --duration S             seconds per wrk phase (default 5)",
            "  --warmup S               seconds of wrk per path before the rounds, not recorded (default 20)",
            "  --wrk-threads N --connections N   wrk -t / -c (default 2 / 32)",
            "  --bulk-rounds N          iperf3 rounds (default 3; 0 skips bulk)",
            "  --bulk-seconds S         seconds per iperf3 phase, after 1 omitted second (default 4)",
            "  --profile-seconds S      after the rounds, one wrk phase per proxy under perf stat (syscalls), one",
            "                           under perf record -F 999 (by binary and symbol, JIT symbols included) and",
            "                           one under strace -c -f (default 0: no profile)",
            "  --proxy-threads N        HAProxy nbthread and the proxy under test's event loops (JAVA_TOOL_OPTIONS",
            "                           -Drailyard.userspace.eventLoopThreads) / {threads} (default: number of CPUs)",
            "  --backend-threads N      event loops of the HTTP backend (default 2)",
            "  --body-bytes N           HTTP response body (default 128)",
            "  --start-timeout S        how long the proxy under test may take to answer (default 180)",
            "  --out DIR                results directory (default benchmarks/target/userspace-results/capture-<UTC time>)");

    private static final String SERVICE_CIDR = "10.96.0.0/12";
    private static final String RAILYARD_VIP = "10.96.0.10";
    private static final String HAPROXY_VIP = "10.96.0.11";
    private static final String NODE_IP = "10.244.7.1";
    private static final String POD_IP = "10.244.7.2";
    private static final int SERVICE_HTTP = 80;
    private static final int SERVICE_BULK = 5201;
    private static final int POD_HTTP = 8080;
    private static final int POD_BULK = 5201;

    private final Options o;
    private final Path out;
    private final String nodeNs;
    private final String podNs;
    private final List<Target> targets = new ArrayList<>();
    private final List<Round> rounds = new ArrayList<>();
    private final List<String[]> bulks = new ArrayList<>();
    private final StringBuilder summary = new StringBuilder();
    private Proc backend;
    private Target haproxy;
    private Target underTest;
    private boolean namespacesCreated;

    private CaptureLoadRun(Options o) {
        this.o = o;
        this.out = o.out.toAbsolutePath();
        String suffix = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x10000, 0xfffff));
        this.nodeNs = "ryl-node-" + suffix;
        this.podNs = "ryl-pod-" + suffix;
    }

    public static void main(String[] args) throws Exception {
        Options o = LoadRuns.optionsOrExit(args, Options::parse, HELP);
        if (o == null) {
            return;
        }
        if (!"root".equals(System.getProperty("user.name"))) {
            System.err.println("CaptureLoadRun creates network namespaces and nat rules: run it as root");
            System.exit(2);
        }
        CaptureLoadRun run = new CaptureLoadRun(o);
        Thread cleanup = new Thread(run::cleanUp, "netns-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        int status;
        try {
            status = run.run();
        } finally {
            run.cleanUp();
        }
        System.exit(status);
    }

    private synchronized void cleanUp() {
        Proc.closeAll();
        if (namespacesCreated) {
            for (String ns : List.of(nodeNs, podNs)) {
                try {
                    sh("ip", "netns", "del", ns);
                } catch (Exception e) {
                    System.err.println("could not delete namespace " + ns + ": " + e.getMessage());
                }
            }
            namespacesCreated = false;
        }
    }

    // ---------------------------------------------------------------------------------------------------------

    private int run() throws Exception {
        Files.createDirectories(out);
        LoadRuns.writeWrkScript(out);
        line("date:        %s", DateTimeFormatter.ISO_INSTANT.format(Instant.now()));
        line("nproc:       %d, kernel %s, %s %s", Runtime.getRuntime().availableProcessors(),
                System.getProperty("os.version"), System.getProperty("java.vm.name"), System.getProperty("java.runtime.version"));
        line("haproxy:     %s", firstLine(capture(List.of("haproxy", "-v"))));
        line("load before: %s", ProcFs.loadAverage());
        createTopology();

        // --- backends in the pod namespace ------------------------------------------------------------------
        List<String> backendCmd = new ArrayList<>(List.of("ip", "netns", "exec", podNs, javaBin(), "-Xms256m", "-Xmx256m",
                "-XX:+UseParallelGC", "-cp", absoluteClassPath(), HttpBackend.class.getName(), POD_IP,
                Integer.toString(POD_HTTP), Integer.toString(o.backendThreads), Integer.toString(o.bodyBytes)));
        backend = Proc.start("backend", backendCmd, out, out.resolve("backend.log"), Map.of());
        Proc.start("iperf3-server", List.of("ip", "netns", "exec", podNs, "iperf3", "-s", "-B", POD_IP, "-p",
                Integer.toString(POD_BULK)), out, out.resolve("iperf3-server.log"), Map.of());
        Target direct = new Target("direct", POD_IP, POD_HTTP, POD_BULK, null, -1, "(none)");
        awaitHttp(direct, backend, 60);
        targets.add(direct);

        haproxy = startHaproxy();
        targets.add(haproxy);
        underTest = startUnderTest();
        targets.add(underTest);
        for (Target t : targets) {
            line("%-10s http %s:%d, bulk %s:%d%s", t.name, t.ip, t.httpPort, t.ip, t.bulkPort,
                    t.pid > 0 ? String.format(Locale.ROOT, ", pid %d (%d threads): %s", t.pid, ProcFs.threads(t.pid), t.command) : "");
        }
        line("capture rules in %s:%n%s", nodeNs, indent(capture(List.of("ip", "netns", "exec", nodeNs, "iptables-save", "-t", "nat"))));

        if (o.warmup > 0) {
            line("== warm-up: wrk %d s per path, not recorded", o.warmup);
            for (Target t : targets) {
                JsonObject w = runWrk(t, o.warmup, "warmup-" + t.name);
                line("   warm-up %-10s %9.0f req/s", t.name, w.get("requests").getAsLong() / (w.get("duration_us").getAsLong() / 1e6));
            }
        }
        line("== wrk -t%d -c%d -d%ds (keep-alive, %d-byte bodies), %d rounds, order rotating", o.wrkThreads, o.connections,
                o.duration, o.bodyBytes, o.rounds);
        for (int r = 1; r <= o.rounds; r++) {
            Map<Target, Round> byTarget = new HashMap<>();
            for (int i = 0; i < targets.size(); i++) {
                Target t = targets.get((i + r - 1) % targets.size());
                Round round = measure(t, r);
                rounds.add(round);
                byTarget.put(t, round);
                line("   round %d.%d %-10s %9.0f req/s  p50 %6.3f ms  p99 %6.3f ms  errors %d  proxy CPU %s  %s  load %s", r, i + 1,
                        t.name, round.rps(), round.percentile(50) / 1000.0, round.percentile(99) / 1000.0, round.errors(),
                        t.pid > 0 ? String.format(Locale.ROOT, "%.2f s = %.1f µs/req", round.proxyCpu, round.cpuPerRequest() * 1e6) : "-",
                        t.pid > 0 ? String.format(Locale.ROOT, "%.2f switches/req", round.switchesPerRequest()) : "",
                        round.load);
            }
            Round u = byTarget.get(underTest);
            Round h = byTarget.get(haproxy);
            line("   round %d   %s/haproxy: req/s %.2fx  p99 %.2fx  CPU/req %.2fx  switches/req %.2fx   (direct %.0f req/s)  load %s", r,
                    underTest.name, u.rps() / h.rps(), (double) u.percentile(99) / h.percentile(99),
                    u.cpuPerRequest() / h.cpuPerRequest(), u.switchesPerRequest() / h.switchesPerRequest(),
                    byTarget.get(direct).rps(), ProcFs.loadAverage());
        }
        if (o.bulkRounds > 0) {
            line("== iperf3 -t %d -O 1 (one stream, node -> pod), %d rounds, order rotating", o.bulkSeconds, o.bulkRounds);
            for (Target t : targets) {
                runIperf(t, 2, "iperf-warmup-" + t.name);
            }
            for (int r = 1; r <= o.bulkRounds; r++) {
                for (int i = 0; i < targets.size(); i++) {
                    Target t = targets.get((i + r - 1) % targets.size());
                    double cpu0 = t.pid > 0 ? ProcFs.cpuSeconds(t.pid) : 0;
                    JsonObject json = runIperf(t, o.bulkSeconds, "iperf-" + t.name + "-r" + r);
                    double cpu = t.pid > 0 ? ProcFs.cpuSeconds(t.pid) - cpu0 : Double.NaN;
                    double gbps = Double.NaN;
                    double bytes = Double.NaN;
                    try {
                        JsonObject received = json.getAsJsonObject("end").getAsJsonObject("sum_received");
                        gbps = received.get("bits_per_second").getAsDouble() / 1e9;
                        bytes = received.get("bytes").getAsDouble();
                    } catch (RuntimeException e) {
                        line("   iperf3 through %s gave no result: %s", t.name, json);
                    }
                    bulks.add(new String[]{t.name, Integer.toString(r), Double.toString(gbps), Double.toString(bytes),
                            Double.toString(cpu)});
                    line("   round %d.%d %-10s %6.2f Gbit/s  proxy CPU %s  load %s", r, i + 1, t.name, gbps,
                            Double.isNaN(cpu) ? "-" : String.format(Locale.ROOT, "%.2f s = %.2f s/GB", cpu, cpu / (bytes / 1e9)),
                            ProcFs.loadAverage());
                }
            }
        }
        if (o.profileSeconds > 0) {
            profile();
        }
        int status = report();
        for (Target t : targets) {
            if (t.proc != null && !t.proc.alive()) {
                System.err.println(t.name + " died during the run: see " + t.proc.log());
                status = 1;
            }
        }
        return status;
    }

    // ---------------------------------------------------------------------------------------------------------
    // topology

    private void createTopology() throws Exception {
        namespacesCreated = true;
        sh("ip", "netns", "add", nodeNs);
        sh("ip", "netns", "add", podNs);
        String veth = "ryl" + nodeNs.substring(nodeNs.lastIndexOf('-') + 1);
        nodeSh("ip", "link", "set", "lo", "up");
        nodeSh("ip", "link", "add", "cni0", "type", "bridge");
        nodeSh("ip", "addr", "add", NODE_IP + "/24", "dev", "cni0");
        nodeSh("ip", "link", "set", "cni0", "up");
        nodeSh("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", podNs);
        nodeSh("ip", "link", "set", veth, "master", "cni0");
        nodeSh("ip", "link", "set", veth, "up");
        // the node's route to the service range (a default route on a real node): REDIRECT in nat OUTPUT
        // happens after the route lookup, which must succeed first
        nodeSh("ip", "route", "add", SERVICE_CIDR, "dev", "cni0");
        podSh("ip", "link", "set", "lo", "up");
        podSh("ip", "addr", "add", POD_IP + "/24", "dev", "eth0");
        podSh("ip", "link", "set", "eth0", "up");
        podSh("ip", "route", "add", "default", "via", NODE_IP);
        line("namespaces: node %s (cni0 %s/24, route %s dev cni0), pod %s (eth0 %s/24)", nodeNs, NODE_IP, SERVICE_CIDR,
                podNs, POD_IP);
    }

    private void nodeSh(String... cmd) throws Exception {
        sh(concat(List.of("ip", "netns", "exec", nodeNs), cmd));
    }

    private void podSh(String... cmd) throws Exception {
        sh(concat(List.of("ip", "netns", "exec", podNs), cmd));
    }

    private static String[] concat(List<String> prefix, String... cmd) {
        List<String> all = new ArrayList<>(prefix);
        all.addAll(Arrays.asList(cmd));
        return all.toArray(String[]::new);
    }

    private static void sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + " failed: " + output.strip());
        }
    }

    private static String capture(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return output;
    }

    // ---------------------------------------------------------------------------------------------------------
    // proxies

    private Target startHaproxy() throws Exception {
        int httpPort = 20080;
        int bulkPort = 20081;
        Path cfg = out.resolve("haproxy.cfg");
        Files.writeString(cfg, LoadRuns.haproxyConfig(List.of(
                        "# written by CaptureLoadRun: plain TCP forwarding, one server, no health checks, reached through a",
                        "# nat OUTPUT REDIRECT of " + HAPROXY_VIP + " (the same capture as railyard's)"),
                o.proxyThreads, 4096, null, "0.0.0.0:" + httpPort, POD_IP + ":" + POD_HTTP, "0.0.0.0:" + bulkPort,
                POD_IP + ":" + POD_BULK));
        for (int[] ports : new int[][]{{SERVICE_HTTP, httpPort}, {SERVICE_BULK, bulkPort}}) {
            nodeSh("iptables-nft", "-t", "nat", "-A", "OUTPUT", "-d", HAPROXY_VIP + "/32", "-p", "tcp", "--dport",
                    Integer.toString(ports[0]), "-j", "REDIRECT", "--to-ports", Integer.toString(ports[1]));
        }
        List<String> cmd = List.of("ip", "netns", "exec", nodeNs, "haproxy", "-db", "-f", cfg.toString());
        Proc proc = Proc.start("haproxy", cmd, out, out.resolve("haproxy.log"), Map.of());
        Target t = new Target("haproxy", HAPROXY_VIP, SERVICE_HTTP, SERVICE_BULK, proc, -1, String.join(" ", cmd));
        awaitHttp(t, proc, 30);
        t.pid = processRunning(proc, "haproxy");
        return t;
    }

    private Target startUnderTest() throws Exception {
        Path manifests = LoadRuns.writeManifests(out, manifests());
        String command = o.command.replace("{manifests}", manifests.toString()).replace("{nodeIP}", NODE_IP)
                .replace("{threads}", Integer.toString(o.proxyThreads)).replace("{out}", out.toString());
        Proc proc = Proc.start(o.name, List.of("ip", "netns", "exec", nodeNs, "/bin/sh", "-c", command),
                Path.of("").toAbsolutePath(), out.resolve(o.name + ".log"), LoadRuns.underTestEnv(o.proxyThreads));
        Target t = new Target(o.name, RAILYARD_VIP, SERVICE_HTTP, SERVICE_BULK, proc, -1, command);
        awaitHttp(t, proc, o.startTimeout);
        t.pid = processRunning(proc, "java");
        return t;
    }

    static String manifests() {
        return LoadRuns.serviceManifests(
                "# written by CaptureLoadRun: one ClusterIP service, its endpoint the pod namespace's backends",
                RAILYARD_VIP, SERVICE_HTTP, SERVICE_BULK, POD_IP, "loadrun-node", POD_HTTP, POD_BULK);
    }

    /** The started process or its descendant whose executable is {@code exe} (ip netns exec, sh, the script). */
    private static long processRunning(Proc proc, String exe) throws IOException {
        List<ProcessHandle> candidates = new ArrayList<>();
        ProcessHandle.of(proc.pid()).ifPresent(candidates::add);
        ProcessHandle.of(proc.pid()).ifPresent(h -> h.descendants().forEach(candidates::add));
        for (ProcessHandle h : candidates) {
            try {
                Path target = Files.readSymbolicLink(Path.of("/proc", Long.toString(h.pid()), "exe"));
                if (target.getFileName().toString().equals(exe)) {
                    return h.pid();
                }
            } catch (IOException gone) {
                // next
            }
        }
        throw new IOException("no " + exe + " process under " + proc.name() + " (pid " + proc.pid() + ")");
    }

    private void awaitHttp(Target t, Proc proc, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        String url = "http://" + t.ip + ":" + t.httpPort + "/";
        while (System.nanoTime() < deadline) {
            if (!proc.alive()) {
                throw new IllegalStateException(proc.name() + " exited:\n" + proc.tail(30));
            }
            String code = capture(List.of("ip", "netns", "exec", nodeNs, "curl", "-s", "-o", "/dev/null", "-m", "2",
                    "-w", "%{http_code}", url));
            if (code.strip().equals("200")) {
                return;
            }
            Thread.sleep(300);
        }
        throw new IllegalStateException("no HTTP answer from " + url + " (" + t.name + ") within " + seconds + " s:\n"
                + proc.tail(30));
    }

    // ---------------------------------------------------------------------------------------------------------
    // load

    private Round measure(Target t, int round) throws Exception {
        Map<String, Double> threads0 = t.pid > 0 ? threadCpu(t.pid) : Map.of();
        double cpu0 = t.pid > 0 ? ProcFs.cpuSeconds(t.pid) : 0;
        long switches0 = t.pid > 0 ? contextSwitches(t.pid) : 0;
        double backendCpu0 = ProcFs.cpuSeconds(backend.pid());
        JsonObject wrk = runWrk(t, o.duration, "wrk-" + t.name + "-r" + round);
        double cpu = t.pid > 0 ? ProcFs.cpuSeconds(t.pid) - cpu0 : Double.NaN;
        long switches = t.pid > 0 ? contextSwitches(t.pid) - switches0 : 0;
        double backendCpu = ProcFs.cpuSeconds(backend.pid()) - backendCpu0;
        Map<String, Double> threads = new java.util.TreeMap<>();
        if (t.pid > 0) {
            threadCpu(t.pid).forEach((k, v) -> threads.put(k, v - threads0.getOrDefault(k, 0.0)));
        }
        return new Round(t, round, wrk, cpu, switches, backendCpu, ProcFs.loadAverage(), threads);
    }

    /**
     * CPU seconds of a process's threads, grouped by thread name without its trailing digits (event loops, C2 and C1
     * compiler threads, GC threads, ...): where a JVM's CPU time goes besides the relay.
     */
    static Map<String, Double> threadCpu(long pid) {
        Map<String, Double> groups = new java.util.TreeMap<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : tasks) {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
                    double cpu = (Long.parseLong(f[11]) + Long.parseLong(f[12])) / (double) ProcFs.CLOCK_TICKS;
                    groups.merge(comm.replaceAll("[-#0-9 ]+$", ""), cpu, Double::sum);
                } catch (IOException | RuntimeException threadGone) {
                    // ended meanwhile
                }
            }
        } catch (IOException e) {
            // process gone
        }
        return groups;
    }

    /** Voluntary + involuntary context switches of every thread of a process: how often it went to sleep or was preempted. */
    static long contextSwitches(long pid) {
        long total = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : tasks) {
                try {
                    for (String l : Files.readAllLines(task.resolve("status"))) {
                        if (l.startsWith("voluntary_ctxt_switches:") || l.startsWith("nonvoluntary_ctxt_switches:")) {
                            total += Long.parseLong(l.substring(l.indexOf(':') + 1).trim());
                        }
                    }
                } catch (IOException | RuntimeException threadGone) {
                    // a thread that ended meanwhile
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return total;
    }

    private JsonObject runWrk(Target t, int seconds, String logName) throws Exception {
        return LoadRuns.runWrk(List.of("ip", "netns", "exec", nodeNs), t.name, "http://" + t.ip + ":" + t.httpPort + "/",
                o.wrkThreads, o.connections, seconds, out, logName);
    }

    private JsonObject runIperf(Target t, int seconds, String logName) throws Exception {
        return LoadRuns.runIperf(List.of("ip", "netns", "exec", nodeNs), t.ip, t.bulkPort, seconds, out, logName);
    }

    /**
     * Syscalls per request (perf counts every syscall entry of the process's threads, cheaply) and, in a second
     * phase, which ones (strace -c -f, which slows the proxy down a lot: its req/s are not comparable).
     */
    private void profile() throws Exception {
        line("== profile: wrk %d s per proxy under perf stat, perf record and strace -c -f", o.profileSeconds);
        for (Target t : List.of(haproxy, underTest)) {
            Path perfOut = out.resolve("perf-stat-" + t.name + ".txt");
            Proc perf = Proc.start("perf", List.of("perf", "stat", "-e", "raw_syscalls:sys_enter", "-e", "context-switches",
                    "-e", "task-clock", "-p", Long.toString(t.pid), "-o", perfOut.toString()), out,
                    out.resolve("perf-" + t.name + ".log"), Map.of());
            Thread.sleep(500);
            JsonObject wrk = runWrk(t, o.profileSeconds, "wrk-perf-" + t.name);
            interrupt(perf);
            long requests = wrk.get("requests").getAsLong();
            long syscalls = perfCount(perfOut, "raw_syscalls:sys_enter");
            long switches = perfCount(perfOut, "context-switches");
            line("   %-10s %8d requests  %.2f syscalls/req  %.2f context switches/req  (%s)", t.name, requests,
                    syscalls / (double) requests, switches / (double) requests, perfOut.getFileName());

            Path perfData = out.resolve("perf-" + t.name + ".data");
            Proc record = Proc.start("perf-record", List.of("perf", "record", "-F", "999", "-p", Long.toString(t.pid), "-o",
                    perfData.toString()), out, out.resolve("perf-record-" + t.name + ".log"), Map.of());
            Thread.sleep(500);
            runWrk(t, o.profileSeconds, "wrk-perf-record-" + t.name);
            interrupt(record);
            if (t == underTest) {
                // names of JIT-compiled methods for perf (/tmp/perf-PID.map); a JVM only
                capture(List.of("jcmd", Long.toString(t.pid), "Compiler.perfmap"));
            }
            String dsos = capture(List.of("perf", "report", "-i", perfData.toString(), "--sort", "dso", "--stdio"));
            Files.writeString(out.resolve("perf-symbols-" + t.name + ".txt"),
                    capture(List.of("perf", "report", "-i", perfData.toString(), "--sort", "dso,sym", "--stdio")));
            Files.deleteIfExists(Path.of("/tmp/perf-" + t.pid + ".map")); // the JVM's perf map: used, not kept
            Files.writeString(out.resolve("perf-dso-" + t.name + ".txt"), dsos);
            StringBuilder top = new StringBuilder();
            for (String l : dsos.split("\n")) {
                if (!l.startsWith("#") && !l.isBlank() && top.length() < 600) {
                    top.append(l.strip()).append('\n');
                }
            }
            line("   %-10s samples by binary (perf record):%n%s", t.name, indent(top.toString()));

            Path straceOut = out.resolve("strace-" + t.name + ".txt");
            Proc strace = Proc.start("strace", List.of("strace", "-c", "-f", "-p", Long.toString(t.pid), "-o",
                    straceOut.toString()), out, out.resolve("strace-" + t.name + ".log"), Map.of());
            Thread.sleep(1000);
            JsonObject wrk2 = runWrk(t, o.profileSeconds, "wrk-strace-" + t.name);
            interrupt(strace);
            long requests2 = wrk2.get("requests").getAsLong();
            line("   %-10s under strace: %d requests; calls per request:%n%s", t.name, requests2,
                    indent(perRequest(Files.readString(straceOut), requests2)));
        }
    }

    private static void interrupt(Proc proc) throws Exception {
        new ProcessBuilder("kill", "-INT", Long.toString(proc.pid())).start().waitFor();
        proc.waitFor(15_000);
    }

    private static long perfCount(Path file, String event) throws IOException {
        for (String l : Files.readAllLines(file)) {
            String s = l.strip();
            if (s.contains(event)) {
                return Long.parseLong(s.split("\\s+")[0].replace(",", "").replace(".", ""));
            }
        }
        return -1;
    }

    /** strace -c's table with a calls-per-request column, the syscalls above 0.05 per request. */
    private static String perRequest(String table, long requests) {
        StringBuilder sb = new StringBuilder();
        for (String l : table.split("\n")) {
            String[] f = l.strip().split("\\s+");
            if (f.length >= 5 && f[0].matches("[0-9.]+") && !l.contains("total")) {
                long calls = Long.parseLong(f[3]); // % time, seconds, usecs/call, calls, [errors], syscall
                double per = calls / (double) requests;
                if (per >= 0.05) {
                    sb.append(String.format(Locale.ROOT, "%-20s %8.2f/req  (%s %% of traced time)%n", f[f.length - 1], per, f[0]));
                }
            } else if (l.contains("total")) {
                sb.append(String.format(Locale.ROOT, "%-20s %8.2f/req%n", "total", Long.parseLong(f[3]) / (double) requests));
            }
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------------------------------------------------
    // report

    private int report() throws IOException {
        line("%n== results: median of %d rounds [min-max]; load now %s", o.rounds, ProcFs.loadAverage());
        line("%-10s %-26s %-22s %-22s %-14s %-14s %-14s", "path", "req/s", "p50 ms", "p99 ms", "proxy CPU/req",
                "switches/req", "backend CPU/req");
        for (Target t : targets) {
            List<Round> rs = roundsOf(t);
            line("%-10s %-26s %-22s %-22s %-14s %-14s %-14s", t.name, range(rs.stream().mapToDouble(Round::rps).toArray(), "%.0f"),
                    range(rs.stream().mapToDouble(r -> r.percentile(50) / 1000.0).toArray(), "%.3f"),
                    range(rs.stream().mapToDouble(r -> r.percentile(99) / 1000.0).toArray(), "%.3f"),
                    t.pid > 0 ? String.format(Locale.ROOT, "%.1f µs", cpuPerRequest(rs) * 1e6) : "-",
                    t.pid > 0 ? String.format(Locale.ROOT, "%.2f", rs.stream().mapToLong(r -> r.switches).sum()
                            / (double) rs.stream().mapToLong(Round::requests).sum()) : "-",
                    String.format(Locale.ROOT, "%.1f µs", rs.stream().mapToDouble(r -> r.backendCpu).sum()
                            / rs.stream().mapToLong(Round::requests).sum() * 1e6));
        }
        for (Target t : List.of(haproxy, underTest)) {
            List<Round> rs = roundsOf(t);
            long requests = rs.stream().mapToLong(Round::requests).sum();
            Map<String, Double> total = new java.util.TreeMap<>();
            rs.forEach(r -> r.threads.forEach((k, v) -> total.merge(k, v, Double::sum)));
            StringBuilder sb = new StringBuilder();
            total.entrySet().stream().filter(e -> e.getValue() > 0).sorted((a, b) -> Double.compare(b.getValue(), a.getValue()))
                    .forEach(e -> sb.append(String.format(Locale.ROOT, "  %s %.1f", e.getKey(), e.getValue() / requests * 1e6)));
            line("%-10s CPU µs per request by thread:%s", t.name, sb);
        }
        List<Round> u = roundsOf(underTest);
        List<Round> h = roundsOf(haproxy);
        double[] rps = new double[u.size()];
        double[] p99 = new double[u.size()];
        double[] cpu = new double[u.size()];
        for (int i = 0; i < rps.length; i++) {
            rps[i] = u.get(i).rps() / h.get(i).rps();
            p99[i] = (double) u.get(i).percentile(99) / h.get(i).percentile(99);
            cpu[i] = u.get(i).cpuPerRequest() / h.get(i).cpuPerRequest();
        }
        double rpsMedian = median(rps);
        double p99Median = median(p99);
        double cpuAll = cpuPerRequest(u) / cpuPerRequest(h);
        boolean rpsMet = rpsMedian >= 1.1 && Arrays.stream(rps).allMatch(r -> r >= 1.0);
        boolean p99Met = p99Median <= 1.0;
        boolean cpuMet = cpuAll <= 0.9;
        line("%s/haproxy req/s: per round %s, median %.2fx   target median >= 1.1x and every round >= 1.0x: %s",
                underTest.name, twoDecimals(rps), rpsMedian, rpsMet ? "met" : "NOT met");
        line("%s/haproxy p99:   per round %s, median %.2fx   target <= 1.0x: %s", underTest.name, twoDecimals(p99), p99Median,
                p99Met ? "met" : "NOT met");
        line("%s/haproxy CPU per request: per round %s, all rounds %.2fx (%.1f vs %.1f µs)   target <= 0.9x: %s",
                underTest.name, twoDecimals(cpu), cpuAll, cpuPerRequest(u) * 1e6, cpuPerRequest(h) * 1e6, cpuMet ? "met" : "NOT met");
        boolean bulkMet = true;
        if (!bulks.isEmpty()) {
            Map<String, double[]> gbps = new LinkedHashMap<>();
            for (Target t : targets) {
                gbps.put(t.name, bulks.stream().filter(b -> b[0].equals(t.name)).mapToDouble(b -> Double.parseDouble(b[2])).toArray());
                double gb = bulks.stream().filter(b -> b[0].equals(t.name)).mapToDouble(b -> Double.parseDouble(b[3])).sum() / 1e9;
                double c = bulks.stream().filter(b -> b[0].equals(t.name)).mapToDouble(b -> Double.parseDouble(b[4])).sum();
                line("bulk %-10s %-26s Gbit/s%s", t.name, range(gbps.get(t.name), "%.2f"),
                        t.pid > 0 ? String.format(Locale.ROOT, ", proxy CPU %.2f s/GB", c / gb) : "");
            }
            double ratio = median(gbps.get(underTest.name)) / median(gbps.get("direct"));
            bulkMet = ratio >= 0.9;
            line("bulk %s/direct %.2fx (haproxy %.2fx)   target >= 0.9x: %s", underTest.name, ratio,
                    median(gbps.get(haproxy.name)) / median(gbps.get("direct")), bulkMet ? "met" : "NOT met");
        }
        int errors = rounds.stream().mapToInt(Round::errors).sum();
        if (errors > 0) {
            line("WARNING: wrk counted %d errors (see rounds.csv)", errors);
        }
        Files.writeString(out.resolve("summary.txt"), summary);
        writeCsv();
        List<LatencyPlot.Series> series = new ArrayList<>();
        for (Target t : targets) {
            List<Round> rs = roundsOf(t);
            Round medianRound = WrkPhase.closestToMedianRps(rs);
            for (Round r : rs) {
                series.add(new LatencyPlot.Series(t.name, r.round, r == medianRound, r.percentiles(), r.latencies()));
            }
        }
        LatencyPlot.write(series, out.resolve("latency.png"), String.format(Locale.ROOT,
                "ClusterIP via REDIRECT, pod behind a bridge: wrk -t%d -c%d -d%ds, %d rounds", o.wrkThreads, o.connections,
                o.duration, o.rounds));
        System.out.println("results in " + out);
        return errors > 0 ? 1 : 0;
    }

    private void writeCsv() throws IOException {
        StringBuilder csv = new StringBuilder("path,round,requests,duration_s,rps,p50_us,p90_us,p99_us,p999_us,max_us,errors,"
                + "proxy_cpu_s,proxy_cpu_us_per_req,switches,switches_per_req,backend_cpu_s,load\n");
        StringBuilder lat = new StringBuilder("path,round,median,percentile,latency_us\n");
        for (Round r : rounds) {
            csv.append(String.format(Locale.ROOT, "%s,%d,%d,%.3f,%.1f,%d,%d,%d,%d,%d,%d,%.2f,%.2f,%d,%.3f,%.2f,%s%n", r.target.name,
                    r.round, r.requests(), r.seconds(), r.rps(), r.percentile(50), r.percentile(90), r.percentile(99),
                    r.percentile(99.9), r.maxLatency(), r.errors(), r.proxyCpu,
                    r.cpuPerRequest() * 1e6, r.switches, r.switchesPerRequest(), r.backendCpu, r.load.replace(' ', '/')));
            r.appendLatencyRows(lat, r.target.name, false);
        }
        Files.writeString(out.resolve("rounds.csv"), csv);
        Files.writeString(out.resolve("latency.csv"), lat);
        StringBuilder bulk = new StringBuilder("path,round,gbit_per_s,bytes,proxy_cpu_s\n");
        for (String[] b : bulks) {
            bulk.append(String.join(",", b)).append('\n');
        }
        Files.writeString(out.resolve("bulk.csv"), bulk);
    }

    private List<Round> roundsOf(Target t) {
        return rounds.stream().filter(r -> r.target == t).toList();
    }

    private static double cpuPerRequest(List<Round> rs) {
        return rs.stream().mapToDouble(r -> r.proxyCpu).sum() / rs.stream().mapToLong(Round::requests).sum();
    }

    private void line(String format, Object... args) {
        String s = String.format(Locale.ROOT, format, args);
        System.out.println(s);
        summary.append(s).append('\n');
    }

    private static String indent(String text) {
        return ("      " + text.strip()).replace("\n", "\n      ");
    }

    // ---------------------------------------------------------------------------------------------------------

    /** One way to reach the backends from the node namespace and, for a proxy, the process that forwards. */
    static final class Target {
        final String name;
        final String ip;
        final int httpPort;
        final int bulkPort;
        final Proc proc;
        final String command;
        long pid;

        Target(String name, String ip, int httpPort, int bulkPort, Proc proc, long pid, String command) {
            this.name = name;
            this.ip = ip;
            this.httpPort = httpPort;
            this.bulkPort = bulkPort;
            this.proc = proc;
            this.pid = pid;
            this.command = command;
        }
    }

    /** One wrk phase of one path: wrk's report and the proxy's CPU time, per thread group, and context switches over it. */
    static final class Round extends WrkPhase {
        final Target target;
        final long switches;
        /** CPU seconds per thread group over the phase. */
        final Map<String, Double> threads;

        Round(Target target, int round, JsonObject wrk, double proxyCpu, long switches, double backendCpu, String load,
              Map<String, Double> threads) {
            super(round, wrk, proxyCpu, backendCpu, load);
            this.target = target;
            this.switches = switches;
            this.threads = threads;
        }

        double cpuPerRequest() {
            return proxyCpu / requests();
        }

        double switchesPerRequest() {
            return switches / (double) requests();
        }
    }

    static final class Options {
        String command = DEFAULT_COMMAND;
        String name = "railyard";
        int rounds = 6;
        int duration = 5;
        int warmup = 20;
        int wrkThreads = 2;
        int connections = 32;
        int bulkRounds = 3;
        int bulkSeconds = 4;
        int profileSeconds;
        int proxyThreads = Runtime.getRuntime().availableProcessors();
        int backendThreads = 2;
        int bodyBytes = 128;
        int startTimeout = 180;
        Path out = Path.of("benchmarks/target/userspace-results",
                "capture-" + DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC).format(Instant.now()));

        static Options parse(String[] args) {
            Options o = new Options();
            boolean help = !LoadRuns.parseOptions(args, (a, v) -> {
                switch (a) {
                    case "--under-test-cmd" -> o.command = v;
                    case "--under-test-name" -> o.name = v;
                    case "--rounds" -> o.rounds = positive(a, v);
                    case "--duration" -> o.duration = positive(a, v);
                    case "--warmup" -> o.warmup = nonNegative(a, v);
                    case "--wrk-threads" -> o.wrkThreads = positive(a, v);
                    case "--connections" -> o.connections = positive(a, v);
                    case "--bulk-rounds" -> o.bulkRounds = nonNegative(a, v);
                    case "--bulk-seconds" -> o.bulkSeconds = positive(a, v);
                    case "--profile-seconds" -> o.profileSeconds = nonNegative(a, v);
                    case "--proxy-threads" -> o.proxyThreads = positive(a, v);
                    case "--backend-threads" -> o.backendThreads = positive(a, v);
                    case "--body-bytes" -> o.bodyBytes = nonNegative(a, v);
                    case "--start-timeout" -> o.startTimeout = positive(a, v);
                    case "--out" -> o.out = Path.of(v);
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
            });
            if (help) {
                return null;
            }
            return o;
        }

        private static int positive(String option, String v) {
            int n = nonNegative(option, v);
            if (n == 0) {
                throw new IllegalArgumentException(option + " must be positive");
            }
            return n;
        }

        private static int nonNegative(String option, String v) {
            try {
                int n = Integer.parseInt(v);
                if (n < 0) {
                    throw new IllegalArgumentException(option + " must not be negative");
                }
                return n;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(option + ": not a number: " + v);
            }
        }
    }
}
