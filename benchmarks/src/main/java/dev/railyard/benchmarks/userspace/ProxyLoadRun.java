package dev.railyard.benchmarks.userspace;

import static dev.railyard.benchmarks.userspace.LoadRuns.absoluteClassPath;
import static dev.railyard.benchmarks.userspace.LoadRuns.firstLine;
import static dev.railyard.benchmarks.userspace.LoadRuns.javaBin;
import static dev.railyard.benchmarks.userspace.LoadRuns.median;
import static dev.railyard.benchmarks.userspace.LoadRuns.range;
import static dev.railyard.benchmarks.userspace.LoadRuns.twoDecimals;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Bounded load run of the userspace proxy against HAProxy (issue 5): the same backends reached three ways —
 * directly, through HAProxy ({@code mode tcp}) and through the proxy under test (by default
 * {@code railyard proxy --proxy-mode userspace}, run as a separate process from a configurable command line) —
 * and, in one run:
 * <ol>
 *   <li>small HTTP/1.1 requests over keep-alive connections with wrk: requests per second and the latency
 *       distribution (p50, p99, ... from wrk's microsecond histogram), in interleaved rounds (the order rotates
 *       every round) so that machine noise hits all paths alike;</li>
 *   <li>bulk TCP throughput with iperf3, interleaved the same way;</li>
 *   <li>the CPU seconds per request of each proxy process (utime + stime from /proc/PID/stat, before and after
 *       each wrk phase) and, for context, of the backend;</li>
 *   <li>10,000 idle connections held through each proxy: heap used after a full GC ({@code jcmd GC.run},
 *       {@code GC.heap_info}; JVMs only), RSS and socket counts, then all closed and checked gone.</li>
 * </ol>
 * It prints a table with absolute figures and the ratios against the targets, and writes results.json,
 * rounds.csv, latency.csv, bulk.csv, idle.csv and latency.png into the output directory. Every process it starts
 * is stopped at the end, also on failure or Ctrl-C. Run it through {@code benchmarks/run-userspace-benchmarks.sh}
 * (which raises the open-files limit the idle run needs); {@code --help} lists the options.
 */
public final class ProxyLoadRun {
    static final String DEFAULT_COMMAND = "./railyard proxy --proxy-mode userspace --manifests {manifests}"
            + " --bind-address 127.0.0.1 --metrics-bind-address 127.0.0.1:0 --healthz-bind-address 127.0.0.1:0";

    private static final String HELP = String.join("\n",
            "usage: ProxyLoadRun [options]",
            "  --under-test-cmd CMD     command line of the proxy under test, run with sh -c in --workdir; placeholders",
            "                           {manifests} {clusterIP} {httpPort} {bulkPort} {backendHttp} {backendBulk} {threads} {out}",
            "                           (default: " + DEFAULT_COMMAND + ")",
            "  --under-test-name NAME   its label in the results (default railyard)",
            "  --standin haproxy        replace the proxy under test by a second HAProxy on the cluster IP, labelled",
            "                           standin-haproxy: validates the harness before the real proxy exists",
            "  --rounds N               interleaved rounds per measurement (default 3)",
            "  --duration S             seconds per wrk phase (default 15)",
            "  --warmup S               seconds of wrk warm-up per path before the rounds (default 10)",
            "  --wrk-threads N --connections N   wrk -t / -c (default 2 / 64)",
            "  --bulk-seconds S         seconds per iperf3 phase, after 1 omitted second (default 5; 0 skips bulk)",
            "  --only bulk              run the iperf3 phase only (no wrk warm-up or rounds, no idle connections)",
            "  --haproxy-splice MODE    add 'option splice-MODE' (auto, request, response) to HAProxy's configuration",
            "                           (default: none, i.e. HAProxy copies through user space)",
            "  --proxy-threads N        HAProxy nbthread and the proxy under test's {threads} / event loops (JAVA_TOOL_OPTIONS",
            "                           -Drailyard.userspace.eventLoopThreads; default: number of CPUs)",
            "  --backend-threads N      Netty event loops of the HTTP backend (default 2)",
            "  --body-bytes N           HTTP response body size (default 128)",
            "  --idle-connections N     idle connections held through each proxy (default 10000; 0 skips)",
            "  --cluster-ip IP          the service's cluster IP, where the proxy under test listens (default 127.0.0.50)",
            "  --haproxy-ip IP          where HAProxy listens (default 127.0.0.60)",
            "  --start-timeout S        how long the proxy under test may take to answer (default 180)",
            "  --workdir DIR            working directory of the proxy under test (default: current directory)",
            "  --out DIR                results directory (default benchmarks/target/userspace-results/<UTC time>)");

    private final Options o;
    private final Path out;
    private final List<Target> targets = new ArrayList<>();
    private final List<Round> rounds = new ArrayList<>();
    private final List<Bulk> bulks = new ArrayList<>();
    private final List<Idle> idles = new ArrayList<>();
    private final JsonObject machine = new JsonObject();
    private Proc backend;
    private Target underTest;
    private Target haproxy;
    /** Idle connections actually held through each proxy (the open-files limit may cap o.idleConnections). */
    private int idleHeld;

    private ProxyLoadRun(Options o) {
        this.o = o;
        this.out = o.out.toAbsolutePath();
    }

    public static void main(String[] args) throws Exception {
        Options o = LoadRuns.optionsOrExit(args, Options::parse, HELP);
        if (o == null) {
            return;
        }
        int status;
        try {
            status = new ProxyLoadRun(o).run();
        } finally {
            Proc.closeAll();
        }
        System.exit(status);
    }

    // ---------------------------------------------------------------------------------------------------------
    // the run

    private int run() throws Exception {
        Files.createDirectories(out);
        for (String tool : List.of("haproxy", "wrk", "iperf3", "jcmd")) {
            if (!onPath(tool)) {
                System.err.println(tool + " not found: apt-get install -y haproxy wrk iperf3 (jcmd: openjdk-17-jdk-headless)");
                return 2;
            }
        }
        recordMachine();
        // A proxy needs two descriptors per proxied connection. Children inherit our limit; where the hard limit
        // cannot be raised (a container without CAP_SYS_RESOURCE), hold as many as fit and extrapolate to the
        // requested number from the measured heap per connection.
        long fdLimit = ProcFs.openFilesLimit(ProcessHandle.current().pid());
        idleHeld = (int) Math.min(o.idleConnections, Math.max(0, (fdLimit - 300) / 2));
        machine.addProperty("open_files_limit", fdLimit);
        if (idleHeld < o.idleConnections) {
            System.out.printf("NOTE: open files limit %d (ulimit -n; raising it needs CAP_SYS_RESOURCE) lets a proxy hold at"
                    + " most %d connections: the idle run holds %d and extrapolates to %d%n", fdLimit, idleHeld, idleHeld,
                    o.idleConnections);
        }
        LoadRuns.writeWrkScript(out);

        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        InetAddress haproxyIp = InetAddress.getByName(o.haproxyIp);
        InetAddress clusterIp = InetAddress.getByName(o.clusterIp);
        int backendHttpPort = freePort(loopback);
        int backendBulkPort = freePort(loopback, backendHttpPort);
        int httpPort = freePort(List.of(haproxyIp, clusterIp), backendHttpPort, backendBulkPort);
        int bulkPort = freePort(List.of(haproxyIp, clusterIp), backendHttpPort, backendBulkPort, httpPort);

        // --- backends ----------------------------------------------------------------------------------------
        List<String> backendCmd = new ArrayList<>(List.of(javaBin(), "-Xms256m", "-Xmx256m", "-XX:+UseParallelGC",
                "-cp", absoluteClassPath(), HttpBackend.class.getName(), "127.0.0.1",
                Integer.toString(backendHttpPort), Integer.toString(o.backendThreads), Integer.toString(o.bodyBytes)));
        backend = Proc.start("backend", backendCmd, out, out.resolve("backend.log"), Map.of());
        Proc iperfServer = Proc.start("iperf3-server", List.of("iperf3", "-s", "-B", "127.0.0.1", "-p",
                Integer.toString(backendBulkPort)), out, out.resolve("iperf3-server.log"), Map.of());
        InetSocketAddress backendHttp = new InetSocketAddress(loopback, backendHttpPort);
        InetSocketAddress backendBulk = new InetSocketAddress(loopback, backendBulkPort);
        awaitHttp(backend, backendHttp, 60);
        awaitListener(iperfServer, backendBulk, 30);

        Target direct = new Target("direct", Kind.DIRECT, backendHttp, backendBulk, null, "(none)");
        targets.add(direct);

        // --- HAProxy -----------------------------------------------------------------------------------------
        haproxy = startHaproxy("haproxy", Kind.HAPROXY, haproxyIp, httpPort, bulkPort, backendHttp, backendBulk);
        targets.add(haproxy);

        // --- the proxy under test ----------------------------------------------------------------------------
        if (o.standin != null) {
            underTest = startHaproxy("standin-haproxy", Kind.UNDER_TEST, clusterIp, httpPort, bulkPort, backendHttp, backendBulk);
            underTest.standin = true;
        } else {
            underTest = startUnderTest(clusterIp, httpPort, bulkPort, backendHttp, backendBulk);
        }
        targets.add(underTest);
        for (Target t : targets) {
            if (t.pid > 0) {
                System.out.printf("%-16s http %s, bulk %s, pid %d (%d threads): %s%n", t.name, hostPort(t.http),
                        hostPort(t.bulk), t.pid, ProcFs.threads(t.pid), t.command);
            } else {
                System.out.printf("%-16s http %s, bulk %s%n", t.name, hostPort(t.http), hostPort(t.bulk));
            }
        }
        if (underTest.standin) {
            System.out.println("NOTE: the proxy under test is a STAND-IN (a second HAProxy), not Railyard");
        }

        // --- warm-up -----------------------------------------------------------------------------------------
        if (o.warmup > 0 && !o.bulkOnly) {
            System.out.printf("== warm-up: wrk %d s per path%n", o.warmup);
            for (Target t : targets) {
                runWrk(t, o.warmup, "warmup-" + t.name);
            }
        }

        // --- (a) + (c) wrk rounds ----------------------------------------------------------------------------
        if (!o.bulkOnly) {
            System.out.printf("== wrk -t%d -c%d -d%ds --latency, %d rounds, order rotating%n", o.wrkThreads, o.connections,
                    o.duration, o.rounds);
        }
        for (int r = 0; r < (o.bulkOnly ? 0 : o.rounds); r++) {
            for (int i = 0; i < targets.size(); i++) {
                Target t = targets.get((i + r) % targets.size());
                double proxyCpu0 = t.pid > 0 ? ProcFs.cpuSeconds(t.pid) : 0;
                double backendCpu0 = ProcFs.cpuSeconds(backend.pid());
                JsonObject wrk = runWrk(t, o.duration, "wrk-" + t.name + "-r" + (r + 1));
                double proxyCpu = t.pid > 0 ? ProcFs.cpuSeconds(t.pid) - proxyCpu0 : Double.NaN;
                double backendCpu = ProcFs.cpuSeconds(backend.pid()) - backendCpu0;
                Round round = new Round(t, r + 1, i + 1, wrk, proxyCpu, backendCpu, ProcFs.loadAverage());
                rounds.add(round);
                System.out.printf("   round %d.%d %-16s %9.0f req/s  p50 %7.3f ms  p99 %7.3f ms  errors %d  proxy CPU %s  load %s%n",
                        r + 1, i + 1, t.name, round.rps(), round.percentile(50) / 1000.0, round.percentile(99) / 1000.0,
                        round.errors(), Double.isNaN(proxyCpu) ? "-" : String.format(Locale.ROOT, "%.2f s", proxyCpu),
                        round.load);
            }
        }

        // --- (b) bulk ----------------------------------------------------------------------------------------
        if (o.bulkSeconds > 0) {
            System.out.printf("== iperf3 -t %d -O 1 (one stream, client sends), %d rounds, order rotating%n", o.bulkSeconds, o.rounds);
            for (Target t : targets) {
                runIperf(t, 2, "iperf-warmup-" + t.name); // warm-up, not recorded
            }
            for (int r = 0; r < o.rounds; r++) {
                for (int i = 0; i < targets.size(); i++) {
                    Target t = targets.get((i + r) % targets.size());
                    double cpu0 = t.pid > 0 ? ProcFs.cpuSeconds(t.pid) : 0;
                    JsonObject json = runIperf(t, o.bulkSeconds, "iperf-" + t.name + "-r" + (r + 1));
                    double cpu = t.pid > 0 ? ProcFs.cpuSeconds(t.pid) - cpu0 : Double.NaN;
                    Bulk b = Bulk.of(t, r + 1, json, cpu);
                    bulks.add(b);
                    System.out.printf("   round %d.%d %-16s %7.2f Gbit/s  retransmits %d  proxy CPU %s%s%n", r + 1, i + 1,
                            t.name, b.bitsPerSecond / 1e9, b.retransmits,
                            Double.isNaN(cpu) ? "-" : String.format(Locale.ROOT, "%.2f s", cpu), b.error == null ? "" : "  ERROR " + b.error);
                }
            }
        }

        // --- idle connections ------------------------------------------------------------------------------
        if (o.idleConnections > 0 && !o.bulkOnly) {
            System.out.printf("== %d idle connections through each proxy%n", idleHeld);
            for (Target t : List.of(haproxy, underTest)) {
                idles.add(idle(t));
            }
        }

        int status = report();
        if (backend.alive() && haproxy.proc.alive() && underTest.proc.alive()) {
            return status;
        }
        System.err.println("a process died during the run: see the logs in " + out);
        return 1;
    }

    private Target startHaproxy(String name, Kind kind, InetAddress ip, int httpPort, int bulkPort,
                                InetSocketAddress backendHttp, InetSocketAddress backendBulk) throws Exception {
        Path cfg = out.resolve(name + ".cfg");
        Files.writeString(cfg, LoadRuns.haproxyConfig(
                List.of("# written by ProxyLoadRun: plain TCP forwarding, one backend server, no health checks"),
                o.proxyThreads, Math.max(4096, idleHeld + 100), o.haproxySplice, ip.getHostAddress() + ":" + httpPort,
                hostPort(backendHttp), ip.getHostAddress() + ":" + bulkPort, hostPort(backendBulk)));
        List<String> cmd = List.of("haproxy", "-db", "-f", cfg.toString());
        Proc proc = Proc.start(name, cmd, out, out.resolve(name + ".log"), Map.of());
        Target t = new Target(name, kind, new InetSocketAddress(ip, httpPort), new InetSocketAddress(ip, bulkPort), proc,
                String.join(" ", cmd));
        t.pid = awaitListener(proc, t.http, 30);
        awaitHttp(proc, t.http, 30);
        return t;
    }

    private Target startUnderTest(InetAddress clusterIp, int httpPort, int bulkPort, InetSocketAddress backendHttp,
                                  InetSocketAddress backendBulk) throws Exception {
        Path manifests = LoadRuns.writeManifests(out,
                manifests(clusterIp.getHostAddress(), httpPort, bulkPort, backendHttp.getPort(), backendBulk.getPort()));

        Map<String, String> vars = new LinkedHashMap<>();
        vars.put("{manifests}", manifests.toAbsolutePath().toString());
        vars.put("{clusterIP}", clusterIp.getHostAddress());
        vars.put("{httpPort}", Integer.toString(httpPort));
        vars.put("{bulkPort}", Integer.toString(bulkPort));
        vars.put("{backendHttp}", hostPort(backendHttp));
        vars.put("{backendBulk}", hostPort(backendBulk));
        vars.put("{threads}", Integer.toString(o.proxyThreads));
        vars.put("{out}", out.toAbsolutePath().toString());
        String command = o.command;
        for (Map.Entry<String, String> v : vars.entrySet()) {
            command = command.replace(v.getKey(), v.getValue());
        }
        Proc proc = Proc.start(o.name, List.of("/bin/sh", "-c", command), o.workdir, out.resolve(o.name + ".log"),
                LoadRuns.underTestEnv(o.proxyThreads));
        Target t = new Target(o.name, Kind.UNDER_TEST, new InetSocketAddress(clusterIp, httpPort),
                new InetSocketAddress(clusterIp, bulkPort), proc, command);
        t.pid = awaitListener(proc, t.http, o.startTimeout);
        awaitListener(proc, t.bulk, 30);
        awaitHttp(proc, t.http, o.startTimeout);
        boolean ours = t.pid == proc.pid() || ProcessHandle.of(proc.pid()).map(h -> h.descendants()
                .anyMatch(d -> d.pid() == t.pid)).orElse(false);
        if (!ours) {
            throw new IllegalStateException(hostPort(t.http) + " is held by pid " + t.pid + ", not by the started command");
        }
        return t;
    }

    static String manifests(String clusterIp, int httpPort, int bulkPort, int backendHttpPort, int backendBulkPort) {
        return LoadRuns.serviceManifests(
                "# written by ProxyLoadRun: one service on a loopback cluster IP, its endpoint the load run's backends",
                clusterIp, httpPort, bulkPort, "127.0.0.1", null, backendHttpPort, backendBulkPort);
    }

    // ---------------------------------------------------------------------------------------------------------
    // wrk and iperf3

    private JsonObject runWrk(Target t, int seconds, String logName) throws Exception {
        return LoadRuns.runWrk(List.of(), t.name, "http://" + hostPort(t.http) + "/", o.wrkThreads, o.connections, seconds,
                out, logName);
    }

    private JsonObject runIperf(Target t, int seconds, String logName) throws Exception {
        return LoadRuns.runIperf(List.of(), t.bulk.getAddress().getHostAddress(), t.bulk.getPort(), seconds, out, logName);
    }

    // ---------------------------------------------------------------------------------------------------------
    // idle connections

    private Idle idle(Target t) throws Exception {
        Idle r = new Idle(t, o.idleConnections, idleHeld);
        long backendPid = backend.pid();
        r.proxySocketsBefore = ProcFs.sockets(t.pid);
        r.backendSocketsBefore = ProcFs.sockets(backendPid);
        r.heapBefore = heapUsedAfterGc(t.pid);
        r.rssBefore = ProcFs.rssBytes(t.pid);

        List<Socket> sockets = new ArrayList<>(o.idleConnections);
        long start = System.nanoTime();
        try {
            for (int i = 0; i < r.held; i++) {
                if (i == r.held / 2) { // half-way point: shows whether heap grows linearly with connections
                    awaitHeld(r, t.pid, backendPid, sockets.size());
                    r.halfOpened = sockets.size();
                    long pause = System.nanoTime();
                    r.heapHalf = heapUsedAfterGc(t.pid);
                    start += System.nanoTime() - pause; // the open time counts connecting only
                }
                Socket s = new Socket();
                try {
                    s.connect(t.http, 5000);
                } catch (IOException e) {
                    s.close();
                    r.failed++;
                    if (r.failed > 100) {
                        throw new IOException("more than 100 connections through " + t.name + " failed; last: " + e, e);
                    }
                    continue;
                }
                sockets.add(s);
            }
            r.openSeconds = (System.nanoTime() - start) / 1e9;
            r.opened = sockets.size();
            awaitHeld(r, t.pid, backendPid, r.opened);
            r.heapHeld = heapUsedAfterGc(t.pid);
            r.rssHeld = ProcFs.rssBytes(t.pid);
            // the connections work end to end: one request on a sample of them
            int step = Math.max(1, sockets.size() / 20);
            for (int i = 0; i < sockets.size(); i += step) {
                r.sampled++;
                if (httpGet(sockets.get(i))) {
                    r.sampleOk++;
                }
            }
        } finally {
            for (Socket s : sockets) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing
                }
            }
        }
        long closed = System.nanoTime();
        long deadline = closed + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            r.proxySocketsAfter = ProcFs.sockets(t.pid);
            r.backendSocketsAfter = ProcFs.sockets(backendPid);
            if (r.proxySocketsAfter <= r.proxySocketsBefore + 4 && r.backendSocketsAfter <= r.backendSocketsBefore + 4) {
                break;
            }
            Thread.sleep(250);
        }
        r.closeSeconds = (System.nanoTime() - closed) / 1e9;
        r.rssAfter = ProcFs.rssBytes(t.pid);
        System.out.printf("   %-16s opened %d in %.1f s (%d failed); proxy sockets %d -> %d -> %d, backend %d -> %d -> %d;"
                        + " heap after GC %s -> %s at %d -> %s at %d (%s/conn); RSS %s -> %s -> %s; %d/%d sampled connections answer%n",
                t.name, r.opened, r.openSeconds, r.failed, r.proxySocketsBefore, r.proxySocketsHeld, r.proxySocketsAfter,
                r.backendSocketsBefore, r.backendSocketsHeld, r.backendSocketsAfter, mb(r.heapBefore), mb(r.heapHalf),
                r.halfOpened, mb(r.heapHeld), r.opened,
                r.heapHeld < 0 ? "n/a" : String.format(Locale.ROOT, "%.0f B", r.heapPerConnection()),
                mb(r.rssBefore), mb(r.rssHeld), mb(r.rssAfter), r.sampleOk, r.sampled);
        return r;
    }

    /** Waits (up to 60 s) until the proxy has accepted {@code n} connections and connected each upstream. */
    private static void awaitHeld(Idle r, long pid, long backendPid, int n) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            r.proxySocketsHeld = ProcFs.sockets(pid);
            r.backendSocketsHeld = ProcFs.sockets(backendPid);
            if (r.proxySocketsHeld >= r.proxySocketsBefore + 2 * n && r.backendSocketsHeld >= r.backendSocketsBefore + n) {
                return;
            }
            Thread.sleep(250);
        }
    }

    private static boolean httpGet(Socket s) {
        try {
            s.setSoTimeout(5000);
            OutputStream os = s.getOutputStream();
            os.write("GET / HTTP/1.1\r\nHost: loadrun\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            os.flush();
            byte[] buf = new byte[4096];
            int n = s.getInputStream().read(buf);
            return n > 12 && new String(buf, 0, n, StandardCharsets.US_ASCII).startsWith("HTTP/1.1 200");
        } catch (IOException e) {
            return false;
        }
    }

    private static final Pattern HEAP_USED = Pattern.compile("total \\d+K, used (\\d+)K");
    private static final Pattern ZHEAP_USED = Pattern.compile("ZHeap\\s+used (\\d+)M");

    /** Heap used after {@code jcmd PID GC.run}, in bytes; -1 when the process is not a JVM (or jcmd fails). */
    static long heapUsedAfterGc(long pid) throws Exception {
        if (!isJvm(pid)) {
            return -1; // jcmd would spend its attach timeout on it
        }
        String gc = run(List.of("jcmd", Long.toString(pid), "GC.run"), 120);
        if (gc == null) {
            return -1;
        }
        String info = run(List.of("jcmd", Long.toString(pid), "GC.heap_info"), 60);
        if (info == null) {
            return -1;
        }
        long usedK = 0;
        boolean found = false;
        for (String line : info.split("\n")) {
            if (line.contains("Metaspace") || line.contains("class space")) {
                continue;
            }
            Matcher m = HEAP_USED.matcher(line);
            if (m.find()) {
                usedK += Long.parseLong(m.group(1));
                found = true;
            }
            Matcher z = ZHEAP_USED.matcher(line);
            if (z.find()) {
                usedK += Long.parseLong(z.group(1)) * 1024;
                found = true;
            }
        }
        return found ? usedK * 1024 : -1;
    }

    private static boolean isJvm(long pid) {
        try (java.util.stream.Stream<String> maps = Files.lines(Path.of("/proc", Long.toString(pid), "maps"))) {
            return maps.anyMatch(l -> l.endsWith("/libjvm.so"));
        } catch (IOException | java.io.UncheckedIOException e) {
            return false;
        }
    }

    /** Output of a short command, or null when it failed. */
    private static String run(List<String> cmd, int timeoutSeconds) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] bytes;
        try (InputStream in = p.getInputStream()) {
            bytes = in.readAllBytes();
        }
        if (!p.waitFor(timeoutSeconds, java.util.concurrent.TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return null;
        }
        String text = new String(bytes, StandardCharsets.UTF_8);
        return p.exitValue() == 0 && !text.contains("Exception") ? text : null;
    }

    // ---------------------------------------------------------------------------------------------------------
    // report

    private int report() throws IOException {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%n== results (median of %d rounds [min-max]); machine load %s%n", o.rounds,
                ProcFs.loadAverage()));
        if (underTest.standin) {
            sb.append("NOTE: '").append(underTest.name).append("' is a STAND-IN for the proxy under test (a second HAProxy),"
                    + " NOT Railyard: its figures only validate the harness.\n");
        }
        Map<Target, Summary> summaries = new LinkedHashMap<>();
        for (Target t : targets) {
            summaries.put(t, new Summary(t));
        }
        JsonObject ratios = new JsonObject();
        boolean rpsOk = true;
        boolean p99Ok = true;
        int errors = 0;
        if (!rounds.isEmpty()) { // not with --only bulk
            sb.append(String.format(Locale.ROOT, "%-16s %-26s %-22s %-22s %-12s %-14s %-12s%n", "path", "req/s", "p50 ms",
                    "p99 ms", "p99.9 ms", "proxy CPU/req", "backend CPU/req"));
            for (Target t : targets) {
                Summary s = summaries.get(t);
                sb.append(String.format(Locale.ROOT, "%-16s %-26s %-22s %-22s %-12s %-14s %-12s%n", t.name,
                        range(s.rps, "%.0f"), range(s.p50, "%.3f"), range(s.p99, "%.3f"), String.format(Locale.ROOT, "%.3f", median(s.p999)),
                        t.pid > 0 ? String.format(Locale.ROOT, "%.1f µs", s.proxyCpuPerRequest * 1e6) : "-",
                        String.format(Locale.ROOT, "%.1f µs", s.backendCpuPerRequest * 1e6)));
            }
            Summary u = summaries.get(underTest);
            Summary h = summaries.get(haproxy);
            Summary d = summaries.get(targets.get(0));
            double rpsRatio = median(u.rps) / median(h.rps);
            double p99Ratio = median(u.p99) / median(h.p99);
            double cpuRatio = u.proxyCpuPerRequest / h.proxyCpuPerRequest;
            double[] roundRps = pairedRatios(u.rps, h.rps);
            double[] roundP99 = pairedRatios(u.p99, h.p99);
            ratios.addProperty("rps_under_test_over_haproxy", rpsRatio);
            ratios.addProperty("p99_under_test_over_haproxy", p99Ratio);
            ratios.addProperty("cpu_per_request_under_test_over_haproxy", cpuRatio);
            ratios.addProperty("rps_haproxy_over_direct", median(h.rps) / median(d.rps));
            ratios.addProperty("rps_under_test_over_direct", median(u.rps) / median(d.rps));
            String rpsVerdict = verdict(rpsRatio >= 1.0, Arrays.stream(roundRps).map(r -> r >= 1.0 ? 1 : 0).toArray());
            String p99Verdict = verdict(p99Ratio <= 1.2, Arrays.stream(roundP99).map(r -> r <= 1.2 ? 1 : 0).toArray());
            rpsOk = rpsVerdict.equals("met");
            p99Ok = p99Verdict.equals("met");
            ratios.addProperty("rps_verdict", rpsVerdict);
            ratios.addProperty("p99_verdict", p99Verdict);
            ratios.addProperty("rps_ratio_median_of_rounds", median(roundRps));
            ratios.addProperty("p99_ratio_median_of_rounds", median(roundP99));
            sb.append(String.format(Locale.ROOT, "%s / haproxy req/s: %.2fx (per round %s, median %.2fx)   target >= 1.0x: %s%n",
                    underTest.name, rpsRatio, twoDecimals(roundRps), median(roundRps), rpsVerdict));
            sb.append(String.format(Locale.ROOT, "%s / haproxy p99:   %.2fx (per round %s, median %.2fx)   target <= 1.2x: %s%n",
                    underTest.name, p99Ratio, twoDecimals(roundP99), median(roundP99), p99Verdict));
            sb.append(String.format(Locale.ROOT, "%s / haproxy CPU per request: %.2fx (%.1f vs %.1f µs)%n", underTest.name,
                    cpuRatio, u.proxyCpuPerRequest * 1e6, h.proxyCpuPerRequest * 1e6));
            sb.append(String.format(Locale.ROOT, "through a proxy / direct req/s: haproxy %.2fx, %s %.2fx%n",
                    median(h.rps) / median(d.rps), underTest.name, median(u.rps) / median(d.rps)));
            errors = rounds.stream().mapToInt(Round::errors).sum();
            if (errors > 0) {
                sb.append("WARNING: wrk counted ").append(errors).append(" errors (see rounds.csv)\n");
            }
        }

        boolean bulkOk = true;
        if (!bulks.isEmpty()) {
            sb.append(String.format(Locale.ROOT, "%-16s %-28s %-16s%n", "bulk path", "Gbit/s", "proxy CPU/GB"));
            Map<Target, double[]> gbps = new LinkedHashMap<>();
            for (Target t : targets) {
                double[] g = bulks.stream().filter(b -> b.target == t).mapToDouble(b -> b.bitsPerSecond / 1e9).toArray();
                gbps.put(t, g);
                double cpu = bulks.stream().filter(b -> b.target == t).mapToDouble(b -> b.proxyCpu).sum();
                double gb = bulks.stream().filter(b -> b.target == t).mapToDouble(b -> b.bytes / 1e9).sum();
                sb.append(String.format(Locale.ROOT, "%-16s %-28s %-16s%n", t.name, range(g, "%.2f"),
                        t.pid > 0 ? String.format(Locale.ROOT, "%.2f s", cpu / gb) : "-"));
            }
            double uBulk = median(gbps.get(underTest)) / median(gbps.get(targets.get(0)));
            double hBulk = median(gbps.get(haproxy)) / median(gbps.get(targets.get(0)));
            bulkOk = uBulk >= 0.8;
            ratios.addProperty("bulk_under_test_over_direct", uBulk);
            ratios.addProperty("bulk_haproxy_over_direct", hBulk);
            ratios.addProperty("bulk_under_test_over_haproxy", median(gbps.get(underTest)) / median(gbps.get(haproxy)));
            sb.append(String.format(Locale.ROOT, "bulk / direct: %s %.2fx (target >= 0.8x: %s), haproxy %.2fx%n",
                    underTest.name, uBulk, bulkOk ? "met" : "NOT met", hBulk));
        }
        boolean memOk = true;
        for (Idle i : idles) {
            sb.append(String.format(Locale.ROOT, "%d idle connections through %s: heap after GC %s (%s before, %s at %d), RSS %s"
                            + " (%s before), %d/%d answered, all closed afterwards: %s%n", i.opened, i.target.name, mb(i.heapHeld),
                    mb(i.heapBefore), mb(i.heapHalf), i.halfOpened, mb(i.rssHeld), mb(i.rssBefore), i.sampleOk, i.sampled,
                    i.closedCleanly() ? "yes" : "NO"));
            if (i.target == underTest) {
                long heap = i.heapAtRequested();
                boolean extrapolated = i.opened < i.requested;
                memOk = heap >= 0 && heap <= 200L * 1024 * 1024 && i.opened + i.failed >= i.held && i.sampleOk == i.sampled;
                sb.append(String.format(Locale.ROOT, "   heap with %d idle connections%s: %s; target <= 200 MB: %s%n", i.requested,
                        extrapolated ? String.format(Locale.ROOT, " (extrapolated from %d at %.0f B/conn)", i.opened,
                                i.heapPerConnection()) : "", mb(heap), heap < 0 ? "n/a (not a JVM)" : memOk ? "met" : "NOT met"));
            }
        }
        String table = sb.toString();
        System.out.print(table);
        Files.writeString(out.resolve("summary.txt"), table);
        writeFiles(summaries, ratios, rpsOk && p99Ok && bulkOk && memOk);
        List<LatencyPlot.Series> series = new ArrayList<>();
        for (Target t : targets) {
            int medianRound = summaries.get(t).medianRound;
            for (Round r : rounds) {
                if (r.target == t) {
                    series.add(new LatencyPlot.Series(t.name, r.round, r.round == medianRound, r.percentiles(), r.latencies()));
                }
            }
        }
        String title = String.format(Locale.ROOT, "HTTP keep-alive latency: wrk -t%d -c%d -d%ds, %d rounds%s", o.wrkThreads,
                o.connections, o.duration, o.rounds, underTest.standin ? " (STAND-IN, not Railyard)" : "");
        if (!series.isEmpty()) {
            LatencyPlot.write(series, out.resolve("latency.png"), title);
        }
        System.out.println("results in " + out);
        return errors > 0 ? 1 : 0;
    }

    private void writeFiles(Map<Target, Summary> summaries, JsonObject ratios, boolean targetsMet) throws IOException {
        StringBuilder csv = new StringBuilder("path,round,order,requests,duration_s,rps,p50_us,p90_us,p99_us,p999_us,max_us,errors,"
                + "proxy_cpu_s,proxy_cpu_us_per_req,backend_cpu_s,load\n");
        StringBuilder lat = new StringBuilder("path,round,median,percentile,latency_us\n");
        for (Round r : rounds) {
            csv.append(String.format(Locale.ROOT, "%s,%d,%d,%d,%.3f,%.1f,%d,%d,%d,%d,%d,%d,%.2f,%.2f,%.2f,%s%n", r.target.name,
                    r.round, r.order, r.requests(), r.seconds(), r.rps(), r.percentile(50), r.percentile(90), r.percentile(99),
                    r.percentile(99.9), r.maxLatency(), r.errors(), r.proxyCpu,
                    r.proxyCpu / r.requests() * 1e6, r.backendCpu, r.load.replace(' ', '/')));
            r.appendLatencyRows(lat, r.target.name, r.round == summaries.get(r.target).medianRound);
        }
        Files.writeString(out.resolve("rounds.csv"), csv);
        Files.writeString(out.resolve("latency.csv"), lat);
        StringBuilder bulk = new StringBuilder("path,round,gbit_per_s,bytes,retransmits,proxy_cpu_s,error\n");
        for (Bulk b : bulks) {
            bulk.append(String.format(Locale.ROOT, "%s,%d,%.3f,%d,%d,%.2f,%s%n", b.target.name, b.round, b.bitsPerSecond / 1e9,
                    b.bytes, b.retransmits, b.proxyCpu, b.error == null ? "" : b.error.replace(',', ';').replace('\n', ' ')));
        }
        Files.writeString(out.resolve("bulk.csv"), bulk);
        StringBuilder idle = new StringBuilder("path,requested,held,opened,failed,open_s,half_opened,heap_half,heap_at_requested,proxy_sockets_before,proxy_sockets_held,"
                + "proxy_sockets_after,backend_sockets_before,backend_sockets_held,backend_sockets_after,heap_before,heap_held,"
                + "rss_before,rss_held,rss_after,sampled,sample_ok,close_s\n");
        for (Idle i : idles) {
            idle.append(String.format(Locale.ROOT, "%s,%d,%d,%d,%d,%.2f,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%.2f%n",
                    i.target.name, i.requested, i.held, i.opened, i.failed, i.openSeconds, i.halfOpened, i.heapHalf,
                    i.heapAtRequested(), i.proxySocketsBefore, i.proxySocketsHeld, i.proxySocketsAfter, i.backendSocketsBefore,
                    i.backendSocketsHeld, i.backendSocketsAfter, i.heapBefore, i.heapHeld, i.rssBefore, i.rssHeld, i.rssAfter,
                    i.sampled, i.sampleOk, i.closeSeconds));
        }
        Files.writeString(out.resolve("idle.csv"), idle);

        JsonObject json = new JsonObject();
        json.add("machine", machine);
        JsonObject opts = new JsonObject();
        opts.addProperty("rounds", o.rounds);
        opts.addProperty("wrk", String.format(Locale.ROOT, "wrk -t%d -c%d -d%ds --timeout 5s --latency", o.wrkThreads,
                o.connections, o.duration));
        opts.addProperty("warmup_s", o.warmup);
        opts.addProperty("bulk", "iperf3 -t " + o.bulkSeconds + " -O 1 -J");
        opts.addProperty("only_bulk", o.bulkOnly);
        opts.addProperty("haproxy_splice", o.haproxySplice == null ? "none" : o.haproxySplice);
        opts.addProperty("proxy_threads", o.proxyThreads);
        opts.addProperty("backend_threads", o.backendThreads);
        opts.addProperty("body_bytes", o.bodyBytes);
        opts.addProperty("idle_connections", o.idleConnections);
        json.add("options", opts);
        JsonArray paths = new JsonArray();
        for (Target t : targets) {
            JsonObject p = new JsonObject();
            Summary s = summaries.get(t);
            p.addProperty("name", t.name);
            p.addProperty("kind", t.kind.name().toLowerCase(Locale.ROOT));
            p.addProperty("standin", t.standin);
            p.addProperty("command", t.command);
            p.addProperty("http", hostPort(t.http));
            p.addProperty("bulk", hostPort(t.bulk));
            p.addProperty("rps_median", median(s.rps));
            p.addProperty("p50_ms_median", median(s.p50));
            p.addProperty("p99_ms_median", median(s.p99));
            p.addProperty("p999_ms_median", median(s.p999));
            p.addProperty("proxy_cpu_us_per_request", t.pid > 0 ? s.proxyCpuPerRequest * 1e6 : Double.NaN);
            p.addProperty("backend_cpu_us_per_request", s.backendCpuPerRequest * 1e6);
            p.addProperty("bulk_gbps_median", median(bulks.stream().filter(b -> b.target == t)
                    .mapToDouble(b -> b.bitsPerSecond / 1e9).toArray()));
            paths.add(p);
        }
        json.add("paths", paths);
        json.add("ratios", ratios);
        json.addProperty("targets_met", targetsMet);
        JsonArray roundsJson = new JsonArray();
        for (Round r : rounds) {
            JsonObject j = r.wrk.deepCopy();
            j.addProperty("path", r.target.name);
            j.addProperty("round", r.round);
            j.addProperty("proxy_cpu_s", r.proxyCpu);
            j.addProperty("backend_cpu_s", r.backendCpu);
            roundsJson.add(j);
        }
        json.add("wrk_rounds", roundsJson);
        Files.writeString(out.resolve("results.json"), new GsonBuilder().setPrettyPrinting()
                .serializeSpecialFloatingPointValues().create().toJson(json));
    }

    // ---------------------------------------------------------------------------------------------------------
    // helpers

    private void recordMachine() throws Exception {
        machine.addProperty("date", DateTimeFormatter.ISO_INSTANT.format(Instant.now()));
        machine.addProperty("nproc", Runtime.getRuntime().availableProcessors());
        machine.addProperty("kernel", System.getProperty("os.version"));
        machine.addProperty("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        String cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("?");
        machine.addProperty("cpu", cpu);
        machine.addProperty("haproxy", firstLine(run(List.of("haproxy", "-v"), 10)));
        machine.addProperty("wrk", firstLine(run(List.of("sh", "-c", "wrk -v 2>&1 | head -1; true"), 10)));
        machine.addProperty("iperf3", firstLine(run(List.of("iperf3", "--version"), 10)));
        machine.addProperty("load_before", ProcFs.loadAverage());
        for (String k : List.of("date", "nproc", "cpu", "kernel", "java", "haproxy", "wrk", "iperf3", "load_before")) {
            System.out.printf("%-12s %s%n", k + ":", machine.get(k).getAsString());
        }
    }

    private static long awaitListener(Proc proc, InetSocketAddress address, int seconds) throws Exception {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (!proc.alive()) {
                throw new IllegalStateException(proc.name() + " exited before listening on " + hostPort(address) + ":\n" + proc.tail(30));
            }
            OptionalLong owner = ProcFs.listenerOwner(address);
            if (owner.isPresent()) {
                return owner.getAsLong();
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException(proc.name() + " did not listen on " + hostPort(address) + " within " + seconds + " s:\n"
                + proc.tail(30));
    }

    private static void awaitHttp(Proc proc, InetSocketAddress address, int seconds) throws Exception {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (!proc.alive()) {
                throw new IllegalStateException(proc.name() + " exited:\n" + proc.tail(30));
            }
            try (Socket s = new Socket()) {
                s.connect(address, 1000);
                if (httpGet(s)) {
                    return;
                }
            } catch (IOException notYet) {
                // retry
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("no HTTP answer through " + proc.name() + " at " + hostPort(address) + " within "
                + seconds + " s:\n" + proc.tail(30));
    }

    private static int freePort(InetAddress address, int... avoid) throws IOException {
        return freePort(List.of(address), avoid);
    }

    /** A port below the ephemeral range (so outgoing connections cannot take it) that is free on every address. */
    private static int freePort(List<InetAddress> addresses, int... avoid) throws IOException {
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(20000, 30000);
            if (Arrays.stream(avoid).anyMatch(a -> a == port)) {
                continue;
            }
            boolean free = true;
            for (InetAddress a : addresses) {
                try (ServerSocket s = new ServerSocket()) {
                    s.bind(new InetSocketAddress(a, port));
                } catch (IOException taken) {
                    free = false;
                    break;
                }
            }
            if (free) {
                return port;
            }
        }
        throw new IOException("no free port in 20000-29999 on " + addresses);
    }

    private static boolean onPath(String tool) throws Exception {
        return run(List.of("sh", "-c", "command -v " + tool), 10) != null;
    }

    static String hostPort(InetSocketAddress a) {
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    private static String mb(long bytes) {
        return bytes < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f MB", bytes / 1048576.0);
    }

    /**
     * "met" / "NOT met" when the ratio of the medians and every round agree; "inconclusive" when the rounds fall on
     * both sides of the target (on a busy shared machine, run more --rounds).
     */
    private static String verdict(boolean medianMet, double[] roundMet) {
        boolean all = Arrays.stream(roundMet).allMatch(v -> v == 1);
        boolean none = Arrays.stream(roundMet).allMatch(v -> v == 0);
        if (medianMet && all) {
            return "met";
        }
        if (!medianMet && none) {
            return "NOT met";
        }
        return "inconclusive: rounds on both sides (" + (medianMet ? "met" : "not met") + " by the medians)";
    }

    private static double[] pairedRatios(double[] a, double[] b) {
        double[] r = new double[Math.min(a.length, b.length)];
        for (int i = 0; i < r.length; i++) {
            r[i] = a[i] / b[i];
        }
        return r;
    }

    // ---------------------------------------------------------------------------------------------------------
    // data

    enum Kind { DIRECT, HAPROXY, UNDER_TEST }

    /** One way to reach the backends: its addresses and, for a proxy, the process that forwards. */
    static final class Target {
        final String name;
        final Kind kind;
        final InetSocketAddress http;
        final InetSocketAddress bulk;
        final Proc proc;
        final String command;
        long pid = -1;
        boolean standin;

        Target(String name, Kind kind, InetSocketAddress http, InetSocketAddress bulk, Proc proc, String command) {
            this.name = name;
            this.kind = kind;
            this.http = http;
            this.bulk = bulk;
            this.proc = proc;
            this.command = command;
        }
    }

    /** One wrk phase of one path in the rounds, and where it stood in the round's rotating order. */
    static final class Round extends WrkPhase {
        final Target target;
        final int order;

        Round(Target target, int round, int order, JsonObject wrk, double proxyCpu, double backendCpu, String load) {
            super(round, wrk, proxyCpu, backendCpu, load);
            this.target = target;
            this.order = order;
        }
    }

    /** Per path over all rounds: values in round order, CPU per request over all rounds together. */
    final class Summary {
        final double[] rps;
        final double[] p50;
        final double[] p99;
        final double[] p999;
        final double proxyCpuPerRequest;
        final double backendCpuPerRequest;
        final int medianRound;

        Summary(Target t) {
            List<Round> rs = rounds.stream().filter(r -> r.target == t).toList();
            rps = rs.stream().mapToDouble(Round::rps).toArray();
            p50 = rs.stream().mapToDouble(r -> r.percentile(50) / 1000.0).toArray();
            p99 = rs.stream().mapToDouble(r -> r.percentile(99) / 1000.0).toArray();
            p999 = rs.stream().mapToDouble(r -> r.percentile(99.9) / 1000.0).toArray();
            long requests = rs.stream().mapToLong(Round::requests).sum();
            proxyCpuPerRequest = rs.stream().mapToDouble(r -> r.proxyCpu).sum() / requests;
            backendCpuPerRequest = rs.stream().mapToDouble(r -> r.backendCpu).sum() / requests;
            medianRound = rs.isEmpty() ? 0 : WrkPhase.closestToMedianRps(rs).round;
        }
    }

    static final class Bulk {
        Target target;
        int round;
        double bitsPerSecond = Double.NaN;
        long bytes;
        long retransmits;
        double proxyCpu;
        String error;

        static Bulk of(Target t, int round, JsonObject json, double proxyCpu) {
            Bulk b = new Bulk();
            b.target = t;
            b.round = round;
            b.proxyCpu = proxyCpu;
            if (json.has("error")) {
                b.error = json.get("error").getAsString();
            }
            try {
                JsonObject end = json.getAsJsonObject("end");
                JsonObject received = end.getAsJsonObject("sum_received");
                b.bitsPerSecond = received.get("bits_per_second").getAsDouble();
                b.bytes = received.get("bytes").getAsLong();
                JsonObject sent = end.getAsJsonObject("sum_sent");
                b.retransmits = sent.has("retransmits") ? sent.get("retransmits").getAsLong() : 0;
            } catch (RuntimeException e) {
                if (b.error == null) {
                    b.error = "no result in iperf3's JSON";
                }
            }
            return b;
        }
    }

    static final class Idle {
        final Target target;
        final int requested;
        final int held;
        int opened;
        int halfOpened;
        long heapHalf = -1;
        int failed;
        double openSeconds;
        double closeSeconds;
        int proxySocketsBefore;
        int proxySocketsHeld;
        int proxySocketsAfter;
        int backendSocketsBefore;
        int backendSocketsHeld;
        int backendSocketsAfter;
        long heapBefore;
        long heapHeld;
        long rssBefore;
        long rssHeld;
        long rssAfter;
        int sampled;
        int sampleOk;

        Idle(Target target, int requested, int held) {
            this.target = target;
            this.requested = requested;
            this.held = held;
        }

        /** Heap used with {@code requested} connections: measured, or extrapolated linearly when fewer were held. */
        long heapAtRequested() {
            if (heapHeld < 0 || opened == 0) {
                return -1;
            }
            return opened >= requested ? heapHeld : Math.round(heapBefore + requested * heapPerConnection());
        }

        double heapPerConnection() {
            return opened == 0 || heapHeld < 0 || heapBefore < 0 ? Double.NaN : (heapHeld - heapBefore) / (double) opened;
        }

        boolean closedCleanly() {
            return proxySocketsAfter <= proxySocketsBefore + 4 && backendSocketsAfter <= backendSocketsBefore + 4;
        }
    }

    static final class Options {
        String command = DEFAULT_COMMAND;
        String name = "railyard";
        String standin;
        int rounds = 3;
        int duration = 15;
        int warmup = 10;
        int wrkThreads = 2;
        int connections = 64;
        int bulkSeconds = 5;
        boolean bulkOnly;
        String haproxySplice;
        int proxyThreads = Runtime.getRuntime().availableProcessors();
        int backendThreads = 2;
        int bodyBytes = 128;
        int idleConnections = 10_000;
        String clusterIp = "127.0.0.50";
        String haproxyIp = "127.0.0.60";
        int startTimeout = 180;
        Path workdir = Path.of("").toAbsolutePath();
        Path out = Path.of("benchmarks/target/userspace-results",
                DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC).format(Instant.now()));

        /** null for --help. */
        static Options parse(String[] args) {
            Options o = new Options();
            boolean help = !LoadRuns.parseOptions(args, (a, v) -> {
                switch (a) {
                    case "--under-test-cmd" -> o.command = v;
                    case "--under-test-name" -> o.name = v;
                    case "--standin" -> {
                        if (!v.equals("haproxy")) {
                            throw new IllegalArgumentException("--standin: only haproxy");
                        }
                        o.standin = v;
                    }
                    case "--rounds" -> o.rounds = positive(a, v);
                    case "--duration" -> o.duration = positive(a, v);
                    case "--warmup" -> o.warmup = Integer.parseInt(v);
                    case "--wrk-threads" -> o.wrkThreads = positive(a, v);
                    case "--connections" -> o.connections = positive(a, v);
                    case "--bulk-seconds" -> o.bulkSeconds = Integer.parseInt(v);
                    case "--only" -> {
                        if (!v.equals("bulk")) {
                            throw new IllegalArgumentException("--only: only bulk");
                        }
                        o.bulkOnly = true;
                    }
                    case "--haproxy-splice" -> {
                        if (!List.of("auto", "request", "response").contains(v)) {
                            throw new IllegalArgumentException("--haproxy-splice: auto, request or response");
                        }
                        o.haproxySplice = v;
                    }
                    case "--proxy-threads" -> o.proxyThreads = positive(a, v);
                    case "--backend-threads" -> o.backendThreads = positive(a, v);
                    case "--body-bytes" -> o.bodyBytes = Integer.parseInt(v);
                    case "--idle-connections" -> o.idleConnections = Integer.parseInt(v);
                    case "--cluster-ip" -> o.clusterIp = loopback(a, v);
                    case "--haproxy-ip" -> o.haproxyIp = loopback(a, v);
                    case "--start-timeout" -> o.startTimeout = positive(a, v);
                    case "--workdir" -> o.workdir = Path.of(v).toAbsolutePath();
                    case "--out" -> o.out = Path.of(v);
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
            });
            if (help) {
                return null;
            }
            if (o.standin != null) {
                o.name = "standin-haproxy";
            }
            if (o.clusterIp.equals(o.haproxyIp)) {
                throw new IllegalArgumentException("--cluster-ip and --haproxy-ip must differ");
            }
            return o;
        }

        private static int positive(String option, String v) {
            int n = Integer.parseInt(v);
            if (n <= 0) {
                throw new IllegalArgumentException(option + " must be positive");
            }
            return n;
        }

        /** The load run only ever sends traffic to loopback. */
        private static String loopback(String option, String v) {
            if (!v.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}") || v.equals("127.0.0.1")) {
                throw new IllegalArgumentException(option + " must be a 127.0.0.0/8 address other than 127.0.0.1");
            }
            return v;
        }
    }
}
