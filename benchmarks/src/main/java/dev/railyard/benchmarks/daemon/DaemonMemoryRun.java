package dev.railyard.benchmarks.daemon;

import dev.railyard.benchmarks.ClusterGenerator;
import dev.railyard.testkit.NetworkNamespace;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.kubernetes.client.openapi.JSON;
import io.kubernetes.client.openapi.models.V1Endpoint;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1Service;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Bounded run of the real {@code railyard proxy} command in its own JVM, for its resident memory: writes a
 * {@link ClusterGenerator} cluster as manifests (one JSON List per namespace), starts
 * {@code railyard proxy --manifests DIR --iptables-min-sync-period 0s} inside a fresh network namespace with the
 * given JVM flags, and once its first full sync has succeeded reads VmRSS and VmHWM from /proc and the heap from
 * {@code jcmd GC.heap_info}; then replaces one endpoint at a time (rewriting one namespace's file) until each
 * change has been synced, and reads them again. The class histogram ({@code jcmd GC.class_histogram}) goes to
 * {@code OUT/histogram-*.txt}.
 *
 * <pre>
 * java -cp 'benchmarks/target/benchmarks.jar:benchmarks/target/lib/*' dev.railyard.benchmarks.daemon.DaemonMemoryRun \
 *      cli/target/railyard.jar|./railyard OUT [services=10000] [changes=30] [capSeconds=180]
 *      [jvm flags, ';'-separated] [mode=iptables-legacy|nftables]
 * </pre>
 * With the jar, the daemon runs in a JVM started here with the given flags. With the repository's launcher script
 * ({@code ./railyard}, any path not ending in .jar) it runs exactly as a user starts it: the script picks the JVM
 * and its flags ({@code RAILYARD_JAVA_OPTS} is removed from its environment), no flags may be given.
 * Mode iptables-legacy (the default) adds {@code --iptables-backend legacy} (the nft backend cannot do the first
 * full sync at this size, see docs/performance.md); mode nftables adds {@code --proxy-mode nftables} and nothing
 * else, so the daemon's default nftables layout and applier. With the launcher and 10,000 services the run says
 * whether issue 11's target (RSS at most 300 MB) was met. Needs root; the namespace and the daemon are removed
 * at the end, also when the run fails.
 */
public final class DaemonMemoryRun {
    private DaemonMemoryRun() {
    }

    public static void main(String[] args) throws Exception {
        Path jar = Path.of(args[0]);
        boolean launcher = !jar.getFileName().toString().endsWith(".jar");
        Path out = Path.of(args[1]);
        int size = args.length > 2 ? Integer.parseInt(args[2]) : 10_000;
        int changes = args.length > 3 ? Integer.parseInt(args[3]) : 30;
        Duration cap = Duration.ofSeconds(args.length > 4 ? Long.parseLong(args[4]) : 180);
        List<String> jvmFlags = args.length > 5 && !args[5].isBlank() ? Arrays.asList(args[5].split(";"))
                : launcher ? List.of() : List.of("-XX:MaxRAMPercentage=50");
        String mode = args.length > 6 ? args[6] : "iptables-legacy";
        List<String> modeFlags = switch (mode) {
            case "iptables-legacy" -> List.of("--iptables-backend", "legacy");
            case "nftables" -> List.of("--proxy-mode", "nftables");
            default -> throw new IllegalArgumentException("mode must be iptables-legacy or nftables, not " + mode);
        };
        if (launcher && !jvmFlags.isEmpty()) {
            throw new IllegalArgumentException("the launcher script picks the JVM flags; give none with " + jar);
        }
        Path manifests = out.resolve("manifests");
        Files.createDirectories(manifests);

        ClusterGenerator.Cluster cluster = ClusterGenerator.generate(size);
        ClusterObjects objects = ClusterObjects.of(cluster.state());
        Map<String, List<Object>> byNamespace = new LinkedHashMap<>();
        objects.services().forEach(s -> byNamespace.computeIfAbsent(s.getMetadata().getNamespace(),
                k -> new ArrayList<>()).add(s));
        objects.slices().forEach(s -> byNamespace.computeIfAbsent(s.getMetadata().getNamespace(),
                k -> new ArrayList<>()).add(s));
        long bytes = 0;
        for (Map.Entry<String, List<Object>> ns : byNamespace.entrySet()) {
            bytes += write(manifests, ns.getKey(), ns.getValue());
        }
        System.out.printf("%s; manifests: %d files, %,d bytes; %s; %s%n", cluster.describe(),
                byNamespace.size(), bytes, launcher ? "launched by " + jar + " (its own JVM flags)"
                        : "JVM flags " + jvmFlags, modeFlags);

        boolean ok;
        try (NetworkNamespace netns = NetworkNamespace.create()) {
            List<String> command = new ArrayList<>(netns.commandPrefix());
            if (launcher) {
                command.add(jar.toAbsolutePath().toString());
            } else {
                command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
                command.addAll(jvmFlags);
                command.addAll(List.of("-jar", jar.toString()));
            }
            command.addAll(List.of("proxy", "--manifests", manifests.toString(),
                    "--hostname-override", ClusterGenerator.NODE_NAME, "--node-ip", ClusterGenerator.NODE_IP,
                    "--cluster-cidr", ClusterGenerator.CLUSTER_CIDR, "--iptables-min-sync-period", "0s",
                    "--iptables-sync-period", "1h"));
            command.addAll(modeFlags);
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
            builder.environment().remove("RAILYARD_JAVA_OPTS");
            Process daemon = builder.start();
            BlockingQueue<String> syncs = new LinkedBlockingQueue<>();
            Thread reader = new Thread(() -> readLog(daemon, out.resolve("daemon.log"), syncs), "daemon log");
            reader.setDaemon(true);
            reader.start();
            try {
                ok = measure(daemon, syncs, byNamespace, manifests, changes, cap, out,
                        launcher && size == 10_000);
            } finally {
                daemon.destroy(); // SIGTERM: the daemon stops and leaves its rules; the namespace goes next
                if (!daemon.waitFor(20, TimeUnit.SECONDS)) {
                    daemon.destroyForcibly();
                }
            }
        }
        // Only here, after the daemon and the namespace are gone: System.exit would skip the cleanup above.
        System.exit(ok ? 0 : 1);
    }

    private static boolean measure(Process daemon, BlockingQueue<String> syncs, Map<String, List<Object>> byNamespace,
                                   Path manifests, int changes, Duration cap, Path out, boolean judge)
            throws Exception {
        long pid = javaPid(daemon);
        long started = System.nanoTime();
        String first = await(syncs, "sync=full", cap);
        if (first == null || !first.contains("result=ok")) {
            System.out.println("no successful full sync within " + cap.toSeconds() + " s: " + first);
            return false;
        }
        System.out.printf("first full sync after %.1f s: %s%n", (System.nanoTime() - started) / 1e9, first);
        long[] afterFull = report("after the first full sync", pid, out.resolve("histogram-full.txt"));

        SplittableRandom random = new SplittableRandom(11);
        List<String> namespaces = new ArrayList<>(byNamespace.keySet());
        for (int i = 0; i < changes; i++) {
            String ns = namespaces.get(random.nextInt(namespaces.size()));
            List<Object> items = byNamespace.get(ns);
            List<Integer> sliceAt = new ArrayList<>();
            for (int k = 0; k < items.size(); k++) {
                if (items.get(k) instanceof V1EndpointSlice) {
                    sliceAt.add(k);
                }
            }
            int at = sliceAt.get(random.nextInt(sliceAt.size()));
            V1EndpointSlice slice = (V1EndpointSlice) items.get(at);
            List<V1Endpoint> endpoints = new ArrayList<>(slice.getEndpoints());
            int e = random.nextInt(endpoints.size());
            endpoints.set(e, ClusterObjects.endpoint("10.246." + (i / 250) + "." + (i % 250 + 1),
                    endpoints.get(e).getNodeName(), true, true, false));
            items.set(at, new V1EndpointSlice().apiVersion(slice.getApiVersion()).kind(slice.getKind())
                    .addressType(slice.getAddressType()).metadata(slice.getMetadata())
                    .ports(slice.getPorts()).endpoints(endpoints));
            write(manifests, ns, items);
            String sync = await(syncs, "sync=partial", cap);
            if (sync == null || !sync.contains("result=ok")) {
                System.out.println("change " + i + " not synced: " + sync);
                return false;
            }
        }
        System.out.printf("%d changes synced one at a time%n", changes);
        long[] afterChanges = report("after " + changes + " changes", pid, out.resolve("histogram-changes.txt"));
        if (judge) {
            long rss = Math.max(afterFull[0], afterChanges[0]);
            long hwm = Math.max(afterFull[1], afterChanges[1]);
            // The target is in decimal megabytes; /proc counts kB of 1024 bytes.
            double rssMb = rss * 1024 / 1e6;
            double hwmMb = hwm * 1024 / 1e6;
            System.out.printf("issue 11 target, RSS <= 300 MB at 10,000 services as launched: VmRSS %d MiB = %.0f MB"
                            + " (%s), peak VmHWM %d MiB = %.0f MB (%s)%n", rss / 1024, rssMb,
                    rssMb <= 300 ? "met" : "missed", hwm / 1024, hwmMb, hwmMb <= 300 ? "met" : "missed");
        }
        return true;
    }

    private static long write(Path dir, String namespace, List<Object> items) throws IOException {
        StringBuilder json = new StringBuilder("{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[\n");
        for (int i = 0; i < items.size(); i++) {
            json.append(i == 0 ? "" : ",\n").append(withoutEmptyFields(JSON.getGson().toJsonTree(items.get(i))));
        }
        json.append("\n]}\n");
        // Written beside, then moved: the daemon's directory watch must never read half a file.
        Path tmp = dir.resolve("." + namespace + ".json.tmp");
        Files.writeString(tmp, json, StandardCharsets.UTF_8);
        Files.move(tmp, dir.resolve(namespace + ".json"), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
        return json.length();
    }

    /**
     * client-java writes every unset list and map as [] or {}; the API server and kubectl leave them out, and so
     * must the benchmark, or the source would hold 150,000 empty maps no real cluster has.
     */
    private static JsonElement withoutEmptyFields(JsonElement element) {
        if (element.isJsonObject()) {
            JsonObject result = new JsonObject();
            for (Map.Entry<String, JsonElement> field : element.getAsJsonObject().entrySet()) {
                JsonElement value = withoutEmptyFields(field.getValue());
                boolean empty = (value.isJsonObject() && value.getAsJsonObject().size() == 0)
                        || (value.isJsonArray() && value.getAsJsonArray().isEmpty());
                if (!empty) {
                    result.add(field.getKey(), value);
                }
            }
            return result;
        }
        if (element.isJsonArray()) {
            JsonArray result = new JsonArray();
            element.getAsJsonArray().forEach(item -> result.add(withoutEmptyFields(item)));
            return result;
        }
        return element;
    }

    private static void readLog(Process daemon, Path log, BlockingQueue<String> syncs) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(daemon.getInputStream(),
                StandardCharsets.UTF_8)); var file = Files.newBufferedWriter(log)) {
            for (String line; (line = in.readLine()) != null; ) {
                file.write(line);
                file.newLine();
                file.flush();
                if (line.contains(" sync=")) {
                    syncs.add(line);
                }
            }
        } catch (IOException e) {
            syncs.add("log read failed: " + e);
        }
    }

    private static String await(BlockingQueue<String> syncs, String kind, Duration cap) throws InterruptedException {
        long deadline = System.nanoTime() + cap.toNanos();
        while (true) {
            String line = syncs.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null || line.contains(kind) || line.contains("failed")) {
                return line;
            }
        }
    }

    /** The JVM's pid: the launcher script and {@code ip netns exec} exec it, but a shell may stay in between. */
    private static long javaPid(Process daemon) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline && daemon.isAlive()) {
            if (isJava(daemon.toHandle())) {
                return daemon.pid();
            }
            var child = daemon.descendants().filter(DaemonMemoryRun::isJava).findFirst();
            if (child.isPresent()) {
                return child.get().pid();
            }
            Thread.sleep(100);
        }
        return daemon.pid();
    }

    private static boolean isJava(ProcessHandle process) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(process.pid()), "comm")).strip().equals("java");
        } catch (IOException e) {
            return false;
        }
    }

    /** Prints VmRSS, VmHWM and the heap; returns VmRSS and VmHWM in kB. */
    private static long[] report(String when, long pid, Path histogram) throws Exception {
        Map<String, String> status = new LinkedHashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            String[] parts = line.split(":\\s+", 2);
            if (parts.length == 2 && (parts[0].equals("VmRSS") || parts[0].equals("VmHWM"))) {
                status.put(parts[0], parts[1].strip());
            }
        }
        String heap = jcmd(pid, "GC.heap_info");
        Files.writeString(histogram, jcmd(pid, "GC.class_histogram"));
        // "not enabled" unless the flags include -XX:NativeMemoryTracking=summary; then the JVM's own share of RSS.
        Files.writeString(histogram.resolveSibling(histogram.getFileName().toString()
                .replace("histogram", "native-memory")), jcmd(pid, "VM.native_memory summary"));
        System.out.printf("%s: VmRSS %s, VmHWM %s%n%s%n", when, status.get("VmRSS"), status.get("VmHWM"),
                heap.strip());
        return new long[] {kilobytes(status.get("VmRSS")), kilobytes(status.get("VmHWM"))};
    }

    /** "123456 kB" as 123456; -1 if unreadable. */
    private static long kilobytes(String value) {
        if (value == null || !value.endsWith(" kB")) {
            return -1;
        }
        return Long.parseLong(value.substring(0, value.length() - 3).strip());
    }

    private static String jcmd(long pid, String what) throws Exception {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Process process = new ProcessBuilder(jcmd.toString(), Long.toString(pid), what).redirectErrorStream(true)
                .start();
        String text = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        process.waitFor(60, TimeUnit.SECONDS);
        return text;
    }
}
