package dev.railyard.benchmarks.userspace;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.source.ClusterSnapshot;
import dev.railyard.proxy.source.ManifestLoader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * What {@link ProxyLoadRun} (loopback) and {@link CaptureLoadRun} (namespaces) do alike: the wrk and iperf3
 * phases, HAProxy's configuration, the service manifest the proxy under test reads, and the figures' formatting.
 * A command {@code prefix} ({@code ip netns exec NS}, or none) says where a tool runs.
 */
final class LoadRuns {
    private static final String WRK_SCRIPT = "wrk-report.lua";
    private static final String WRK_REPORT = "RAILYARD_WRK ";

    private LoadRuns() {
    }

    /**
     * The options {@code parse} makes of {@code args}, or null after printing {@code help} for --help; options it
     * rejects (IllegalArgumentException) print the reason and the help and exit with status 2.
     */
    static <O> O optionsOrExit(String[] args, Function<String[], O> parse, String help) {
        O options;
        try {
            options = parse.apply(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println(help);
            System.exit(2);
            return null;
        }
        if (options == null) {
            System.out.println(help);
        }
        return options;
    }

    /**
     * Hands each {@code --option value} pair of {@code args} to {@code option}, in order; false, and no more pairs,
     * at --help or -h.
     */
    static boolean parseOptions(String[] args, BiConsumer<String, String> option) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--help") || a.equals("-h")) {
                return false;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("missing value for " + a);
            }
            option.accept(a, args[++i]);
        }
        return true;
    }

    /** Copies the wrk script that prints wrk's report as one JSON line into the results directory. */
    static void writeWrkScript(Path out) throws IOException {
        try (InputStream in = LoadRuns.class.getResourceAsStream(WRK_SCRIPT)) {
            Files.write(out.resolve(WRK_SCRIPT), in.readAllBytes());
        }
    }

    /** One wrk phase against {@code url} (keep-alive, 5 s timeout, latency histogram): wrk's report. */
    static JsonObject runWrk(List<String> prefix, String targetName, String url, int threads, int connections,
                             int seconds, Path out, String logName) throws Exception {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of("wrk", "-t" + threads, "-c" + connections, "-d" + seconds + "s", "--timeout", "5s",
                "--latency", "-s", out.resolve(WRK_SCRIPT).toString(), url));
        Proc wrk = Proc.start("wrk", cmd, out, out.resolve(logName + ".log"), Map.of());
        int exit = wrk.waitFor((seconds + 30) * 1000L);
        for (String line : wrk.output().split("\n")) {
            if (line.startsWith(WRK_REPORT)) {
                return JsonParser.parseString(line.substring(WRK_REPORT.length())).getAsJsonObject();
            }
        }
        throw new IllegalStateException("wrk against " + targetName + " exited " + exit + " without a report:\n" + wrk.tail(20));
    }

    /** One iperf3 phase (one stream, client sends, 1 s omitted): iperf3's JSON, or {@code {"error": ...}}. */
    static JsonObject runIperf(List<String> prefix, String host, int port, int seconds, Path out, String logName)
            throws Exception {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of("iperf3", "-c", host, "-p", Integer.toString(port), "-t", Integer.toString(seconds), "-O", "1",
                "-J"));
        Proc iperf = Proc.start("iperf3", cmd, out, out.resolve(logName + ".json"), Map.of());
        int exit = iperf.waitFor((seconds + 1 + 30) * 1000L);
        try {
            return JsonParser.parseString(iperf.output()).getAsJsonObject();
        } catch (RuntimeException e) {
            JsonObject error = new JsonObject();
            error.addProperty("error", "iperf3 exited " + exit + ": " + iperf.tail(5));
            return error;
        }
    }

    /**
     * HAProxy in {@code mode tcp}: an http and a bulk frontend, each forwarding to one server, no health checks.
     * {@code splice} adds {@code option splice-<splice>} (null: HAProxy copies through user space).
     */
    static String haproxyConfig(List<String> comments, int threads, int maxconn, String splice, String httpBind,
                                String httpServer, String bulkBind, String bulkServer) {
        List<String> lines = new ArrayList<>(comments);
        lines.addAll(List.of(
                "global",
                "    nbthread " + threads,
                "    maxconn " + maxconn,
                "defaults",
                "    mode tcp",
                "    maxconn " + maxconn,
                "    timeout connect 5s",
                "    timeout client 1h",
                "    timeout server 1h"));
        if (splice != null) {
            lines.add("    option splice-" + splice);
        }
        lines.addAll(List.of(
                "frontend http",
                "    bind " + httpBind,
                "    default_backend http",
                "backend http",
                "    server b1 " + httpServer,
                "frontend bulk",
                "    bind " + bulkBind,
                "    default_backend bulk",
                "backend bulk",
                "    server b1 " + bulkServer,
                ""));
        return String.join("\n", lines);
    }

    /**
     * One ClusterIP service in namespace bench with an http and a bulk port, and its EndpointSlice with one ready
     * endpoint ({@code nodeName} may be null).
     */
    static String serviceManifests(String comment, String clusterIp, int httpPort, int bulkPort, String endpointIp,
                                   String nodeName, int backendHttpPort, int backendBulkPort) {
        List<String> lines = new ArrayList<>(List.of(
                comment,
                "apiVersion: v1",
                "kind: Service",
                "metadata: {name: loadrun, namespace: bench}",
                "spec:",
                "  type: ClusterIP",
                "  clusterIP: " + clusterIp,
                "  clusterIPs: [" + clusterIp + "]",
                "  ipFamilies: [IPv4]",
                "  ports:",
                "  - {name: http, port: " + httpPort + ", protocol: TCP, targetPort: " + backendHttpPort + "}",
                "  - {name: bulk, port: " + bulkPort + ", protocol: TCP, targetPort: " + backendBulkPort + "}",
                "---",
                "apiVersion: discovery.k8s.io/v1",
                "kind: EndpointSlice",
                "metadata:",
                "  name: loadrun-1",
                "  namespace: bench",
                "  labels: {kubernetes.io/service-name: loadrun}",
                "addressType: IPv4",
                "endpoints:",
                "- addresses: [" + endpointIp + "]"));
        if (nodeName != null) {
            lines.add("  nodeName: " + nodeName);
        }
        lines.addAll(List.of(
                "  conditions: {ready: true, serving: true, terminating: false}",
                "ports:",
                "- {name: http, port: " + backendHttpPort + ", protocol: TCP}",
                "- {name: bulk, port: " + backendBulkPort + ", protocol: TCP}",
                ""));
        return String.join("\n", lines);
    }

    /**
     * Writes {@code yaml} as out/manifests/loadrun.yaml after checking that Railyard loads it as one service with two
     * ports of one endpoint each, so that a broken manifest fails here rather than as a proxy that never answers.
     */
    static Path writeManifests(Path out, String yaml) throws Exception {
        Path manifests = Files.createDirectories(out.resolve("manifests"));
        ClusterSnapshot snapshot = ManifestLoader.parse("loadrun.yaml", yaml);
        ProxyState state = snapshot.state(IpFamily.V4, "loadrun-node");
        if (!snapshot.problems().isEmpty() || state.entries().size() != 2
                || state.entries().stream().anyMatch(e -> e.endpoints().size() != 1)) {
            throw new IllegalStateException("the load run's own manifest does not load as intended: " + snapshot.problems());
        }
        Files.writeString(manifests.resolve("loadrun.yaml"), yaml);
        return manifests;
    }

    /**
     * The proxy under test's environment: as many event loops as HAProxy's nbthread. The count goes in
     * JAVA_TOOL_OPTIONS, not RAILYARD_JAVA_OPTS, because setting the latter replaces the launcher's own JVM flags
     * (collector, JIT) and the run would not measure what {@code ./railyard proxy} ships with.
     */
    static Map<String, String> underTestEnv(int proxyThreads) {
        Map<String, String> env = new HashMap<>();
        String inherited = System.getenv("JAVA_TOOL_OPTIONS");
        env.put("JAVA_TOOL_OPTIONS", (inherited == null ? "" : inherited + " ")
                + "-Drailyard.userspace.eventLoopThreads=" + proxyThreads);
        return env;
    }

    /** Our class path with absolute entries: the backend runs in the results directory. */
    static String absoluteClassPath() {
        return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .map(e -> Path.of(e).toAbsolutePath().toString())
                .collect(Collectors.joining(File.pathSeparator));
    }

    static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    static String firstLine(String s) {
        return s == null ? "?" : s.strip().split("\n")[0].strip();
    }

    static double median(double[] values) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** "median [min-max]", each in {@code format}; "-" for no values. */
    static String range(double[] values, String format) {
        if (values.length == 0) {
            return "-";
        }
        double min = Arrays.stream(values).min().getAsDouble();
        double max = Arrays.stream(values).max().getAsDouble();
        return String.format(Locale.ROOT, format + " [" + format + "-" + format + "]", median(values), min, max);
    }

    /** The values with two decimals, space-separated (per-round ratios). */
    static String twoDecimals(double[] values) {
        StringBuilder sb = new StringBuilder();
        for (double v : values) {
            sb.append(sb.length() == 0 ? "" : " ").append(String.format(Locale.ROOT, "%.2f", v));
        }
        return sb.toString();
    }
}
