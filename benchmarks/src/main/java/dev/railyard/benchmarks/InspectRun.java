package dev.railyard.benchmarks;

import dev.railyard.proxy.inspect.Frontend;
import dev.railyard.proxy.inspect.LocalAddresses;
import dev.railyard.proxy.inspect.Origin;
import dev.railyard.proxy.inspect.Packet;
import dev.railyard.proxy.inspect.RulesetDiff;
import dev.railyard.proxy.inspect.ServiceRuleset;
import dev.railyard.proxy.inspect.Trace;
import dev.railyard.proxy.inspect.iptables.IptablesServiceRuleset;
import dev.railyard.proxy.inspect.nftables.NftablesServiceRuleset;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.render.IptablesRenderer;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.render.nftables.Layout;
import dev.railyard.proxy.render.nftables.NftablesRenderer;
import dev.railyard.testkit.CommandResult;
import dev.railyard.testkit.NetworkNamespace;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Bounded run: what {@code railyard trace} and {@code railyard diff} cost on a synthetic cluster
 * ({@link ClusterGenerator}), in process (no JVM start), for iptables mode and nftables mode in both layouts:
 * <ul>
 *   <li><b>read</b>: the rendered text (iptables-restore input, nft script) read into a ruleset ready to trace;
 *       as root, also nft's own listing of the script loaded into a network namespace ({@code nft list
 *       ruleset}, the input of {@code trace --nft-ruleset} and {@code --live});</li>
 *   <li><b>trace</b>: one packet with its whole path recorded, to a cluster IP (10 endpoints) and a node port
 *       (median of {@value #TRACES});</li>
 *   <li><b>diff</b>: {@link RulesetDiff#compare} of kube-proxy's nftables layout against the flat one, of the
 *       iptables mode against the flat layout, and (as root) of the listing against its script: every frontend,
 *       every probe.</li>
 * </ul>
 *
 * <pre>
 * [sudo] java -Xms2g -Xmx2g -cp 'benchmarks/target/benchmarks.jar:benchmarks/target/lib/*' \
 *      dev.railyard.benchmarks.InspectRun [sizes=1000,10000] [rounds=3] [listings=yes|no]
 * </pre>
 */
public final class InspectRun {
    static final int TRACES = 50;
    /** The machine may be shared: the main thread's CPU time is printed beside the wall time. */
    private static final java.lang.management.ThreadMXBean CPU = java.lang.management.ManagementFactory
            .getThreadMXBean();
    private static final Duration NFT_TIMEOUT = Duration.ofMinutes(10);

    private InspectRun() {
    }

    public static void main(String[] args) throws Exception {
        int[] sizes = args.length > 0 ? Arrays.stream(args[0].split(",")).mapToInt(Integer::parseInt).toArray()
                : new int[] {1000, 10000};
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        boolean root = "root".equals(System.getProperty("user.name"))
                && !(args.length > 2 && args[2].equals("listings=no"));
        System.out.printf("sizes %s, %d rounds%s%n", Arrays.toString(sizes), rounds,
                root ? "" : " (nft listings are not measured)");
        for (int size : sizes) {
            ClusterGenerator.Cluster cluster = ClusterGenerator.generate(size);
            System.out.printf("%n== %s%n", cluster.describe());
            ProxyState state = cluster.state();
            LocalAddresses local = LocalAddresses.of(List.of(ClusterGenerator.NODE_IP));
            // iptables mode with nftables mode's node-port addresses, so that the two modes can mean the same.
            String iptables = new IptablesRenderer(RenderConfig.builder(IpFamily.V4)
                    .nodeName(ClusterGenerator.NODE_NAME).nodeIps(List.of(ClusterGenerator.NODE_IP))
                    .clusterCidrs(List.of(ClusterGenerator.CLUSTER_CIDR)).nodePortAddresses(List.of("primary"))
                    .localhostNodePorts(false).build()).render(state).toString();
            Map<Layout, String> scripts = new LinkedHashMap<>();
            for (Layout layout : Layout.values()) {
                scripts.put(layout, NftablesRenderer.script(ClusterGenerator.nftablesRenderConfig(), layout, state)
                        .script());
            }
            Map<Layout, String> listings = root ? listings(scripts) : Map.of();
            for (int round = 1; round <= rounds; round++) {
                System.out.printf("-- round %d%n", round);
                ServiceRuleset ipt = timed("read iptables-restore input", () ->
                        IptablesServiceRuleset.fromText("iptables", "render", iptables, local));
                Map<Layout, ServiceRuleset> nft = new LinkedHashMap<>();
                for (Layout layout : Layout.values()) {
                    nft.put(layout, timed("read nft script, " + layout.flagValue() + " layout", () ->
                            NftablesServiceRuleset.fromText(layout.flagValue(), "render", scripts.get(layout), local)));
                }
                Map<Layout, ServiceRuleset> listed = new LinkedHashMap<>();
                for (Map.Entry<Layout, String> listing : listings.entrySet()) {
                    listed.put(listing.getKey(), timed("read nft list ruleset, " + listing.getKey().flagValue()
                            + " layout", () -> NftablesServiceRuleset.fromText("listing", "nft list ruleset",
                            listing.getValue(), local)));
                }
                Frontend clusterIp = firstOf(nft.get(Layout.KUBE_PROXY), Frontend.Kind.CLUSTER_IP);
                Packet toClusterIp = Packet.of("203.0.113.7", clusterIp.address(), clusterIp.port(),
                        clusterIp.protocol(), Origin.EXTERNAL);
                Frontend nodePort = firstOf(nft.get(Layout.KUBE_PROXY), Frontend.Kind.NODE_PORT);
                Packet toNodePort = Packet.of("203.0.113.7", ClusterGenerator.NODE_IP, nodePort.port(),
                        nodePort.protocol(), Origin.EXTERNAL);
                traces("iptables", ipt, toClusterIp, toNodePort);
                for (Map.Entry<Layout, ServiceRuleset> entry : nft.entrySet()) {
                    traces("nft " + entry.getKey().flagValue(), entry.getValue(), toClusterIp, toNodePort);
                }
                diff("kube-proxy layout vs flat layout", nft.get(Layout.KUBE_PROXY), nft.get(Layout.FLAT));
                diff("iptables vs flat layout", ipt, nft.get(Layout.FLAT));
                for (Map.Entry<Layout, ServiceRuleset> entry : listed.entrySet()) {
                    diff("nft list ruleset vs script, " + entry.getKey().flagValue() + " layout", entry.getValue(),
                            nft.get(entry.getKey()));
                }
            }
        }
    }

    /** Each script loaded into a fresh network namespace and listed by nft. */
    private static Map<Layout, String> listings(Map<Layout, String> scripts) {
        Map<Layout, String> listings = new LinkedHashMap<>();
        for (Map.Entry<Layout, String> script : scripts.entrySet()) {
            try (NetworkNamespace ns = NetworkNamespace.create()) {
                ns.exec(List.of("nft", "-f", "-"), NFT_TIMEOUT, script.getValue().getBytes(StandardCharsets.UTF_8))
                        .requireSuccess();
                CommandResult listing = ns.exec(List.of("nft", "list", "ruleset"), NFT_TIMEOUT, null).requireSuccess();
                listings.put(script.getKey(), listing.stdout());
                System.out.printf("nft list ruleset, %s layout: %,d bytes%n", script.getKey().flagValue(),
                        listing.stdout().length());
            }
        }
        return listings;
    }

    private static Frontend firstOf(ServiceRuleset rules, Frontend.Kind kind) {
        return rules.frontends().stream().filter(f -> f.kind() == kind).findFirst().orElseThrow();
    }

    private static void traces(String name, ServiceRuleset rules, Packet... packets) {
        for (Packet packet : packets) {
            long[] nanos = new long[TRACES];
            Trace trace = null;
            for (int i = 0; i < TRACES; i++) {
                long start = System.nanoTime();
                trace = rules.trace(packet);
                nanos[i] = System.nanoTime() - start;
            }
            Arrays.sort(nanos);
            System.out.printf("trace %-22s %-36s median %8.3f ms  (%d steps, %d outcomes, %s)%n", name,
                    packet.protocol().lowerCase() + " -> " + Packet.hostPort(packet.destination(), packet.port()),
                    nanos[TRACES / 2] / 1e6, trace.path().size(), trace.outcomes().size(), trace.verdicts().keySet());
        }
    }

    private static void diff(String name, ServiceRuleset a, ServiceRuleset b) {
        long start = System.nanoTime();
        long cpu = CPU.getCurrentThreadCpuTime();
        RulesetDiff.Report report = RulesetDiff.compare(a, b, new RulesetDiff.Settings(IpFamily.V4,
                ClusterGenerator.CLUSTER_CIDR));
        long nanos = System.nanoTime() - start;
        int probes = report.frontends().stream().mapToInt(RulesetDiff.FrontendComparison::probes).sum();
        System.out.printf("diff  %-44s %8.0f ms wall %8.0f ms cpu  (%,d frontends, %,d probes, %d differ)%n", name,
                nanos / 1e6, (CPU.getCurrentThreadCpuTime() - cpu) / 1e6, report.frontends().size(), probes,
                report.differing().size());
    }

    private interface Read<T> {
        T get() throws Exception;
    }

    private static <T> T timed(String what, Read<T> read) throws Exception {
        long start = System.nanoTime();
        long cpu = CPU.getCurrentThreadCpuTime();
        T value = read.get();
        System.out.printf("%-50s %8.0f ms wall %8.0f ms cpu%n", what, (System.nanoTime() - start) / 1e6,
                (CPU.getCurrentThreadCpuTime() - cpu) / 1e6);
        return value;
    }
}
