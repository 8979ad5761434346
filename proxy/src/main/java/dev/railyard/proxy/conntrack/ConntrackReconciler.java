package dev.railyard.proxy.conntrack;

import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * kube-proxy's UDP conntrack reconciler (pkg/proxy/conntrack/cleanup.go, CleanStaleEntries, 1.32+): after a sync,
 * list the family's UDP flows and delete every one whose original destination is a UDP service frontend
 * (cluster IP, load-balancer VIP or external IP with the service port, or any address with the node port) and
 * whose reply source is not a serving endpoint of that service. UDP has no connection to close, so without this a
 * client keeps sending to a removed endpoint, or into the nothing a service without endpoints had, for as long as
 * it keeps the flow alive. Services that dropped to zero serving endpoints are reconciled too (every flow to them
 * is stale), as kubernetes#139629 fixed upstream. Policies, topology and terminating state do not count: a
 * serving endpoint keeps its flows, as TCP connections keep theirs.
 *
 * <p>Uses the {@code conntrack} tool: one listing, then one deletion per distinct (frontend, reply source); each
 * runs behind the command prefix (another network namespace in tests). Not thread-safe; one per family.
 */
public final class ConntrackReconciler {
    private static final Logger LOG = LoggerFactory.getLogger(ConntrackReconciler.class);
    private static final Pattern DELETED = Pattern.compile("(\\d+) flow entries have been deleted");

    private final IpFamily family;
    private final List<String> commandPrefix;
    private final Duration timeout;

    public ConntrackReconciler(IpFamily family, List<String> commandPrefix, Duration timeout) {
        this.family = Objects.requireNonNull(family, "family");
        this.commandPrefix = List.copyOf(commandPrefix);
        this.timeout = Objects.requireNonNull(timeout, "timeout");
    }

    public IpFamily family() {
        return family;
    }

    /**
     * One reconcile against {@code state}, the state the last successful sync programmed.
     *
     * @return what was deleted; a failed listing or deletion is reported, never thrown
     */
    public Report reconcile(ProxyState state) throws InterruptedException {
        long start = System.nanoTime();
        List<Flow> flows;
        try {
            flows = Flow.parseAll(run(List.of("conntrack", "-L", "-f", familyWord(), "-p", "udp")));
        } catch (IOException e) {
            LOG.warn("{} conntrack reconcile: cannot list flows: {}", family.kubernetesName(), e.getMessage());
            return new Report(0, 0, 0, List.of(e.getMessage()), Duration.ofNanos(System.nanoTime() - start));
        }
        Set<List<String>> deletions = staleFilters(state, flows);
        int deleted = 0;
        List<String> errors = new ArrayList<>();
        for (List<String> filter : deletions) {
            List<String> command = new ArrayList<>(List.of("conntrack", "-D", "-f", familyWord(), "-p", "udp"));
            command.addAll(filter);
            try {
                String output = run(command);
                Matcher matcher = DELETED.matcher(output);
                deleted += matcher.find() ? Integer.parseInt(matcher.group(1)) : 0;
            } catch (IOException e) {
                errors.add(e.getMessage());
            }
        }
        if (!errors.isEmpty()) {
            LOG.warn("{} conntrack reconcile: {} of {} deletions failed, e.g. {}", family.kubernetesName(),
                    errors.size(), deletions.size(), errors.get(0));
        }
        return new Report(flows.size(), deletions.size(), deleted, errors, Duration.ofNanos(System.nanoTime() - start));
    }

    /**
     * The deletion filters ({@code --orig-dst A --orig-port-dst P --reply-src R} or {@code --orig-port-dst N
     * --reply-src R}) that remove the stale ones among {@code flows}; no side effects.
     */
    static Set<List<String>> staleFilters(ProxyState state, List<Flow> flows) {
        Map<String, Set<String>> byFrontend = new HashMap<>();
        Map<Integer, Set<String>> byNodePort = new HashMap<>();
        for (ProxyState.Entry entry : state.entries()) {
            ServicePort service = entry.service();
            if (service.protocol() != Protocol.UDP) {
                continue;
            }
            Set<String> serving = new HashSet<>();
            for (Endpoint endpoint : entry.endpoints()) {
                if (endpoint.serving()) {
                    serving.add(endpoint.ip());
                }
            }
            List<String> frontends = new ArrayList<>();
            frontends.add(service.clusterIp());
            frontends.addAll(service.loadBalancerIps());
            frontends.addAll(service.externalIps());
            for (String ip : frontends) {
                byFrontend.put(ip + "|" + service.port(), serving);
            }
            if (service.nodePort() != 0) {
                byNodePort.put(service.nodePort(), serving);
            }
        }
        Set<List<String>> filters = new LinkedHashSet<>();
        for (Flow flow : flows) {
            Set<String> serving = byFrontend.get(flow.origDst() + "|" + flow.origDstPort());
            if (serving != null && !serving.contains(flow.replySrc())) {
                filters.add(List.of("--orig-dst", flow.origDst(), "--orig-port-dst",
                        Integer.toString(flow.origDstPort()), "--reply-src", flow.replySrc()));
            }
            serving = byNodePort.get(flow.origDstPort());
            if (serving != null && !serving.contains(flow.replySrc())) {
                filters.add(List.of("--orig-port-dst", Integer.toString(flow.origDstPort()), "--reply-src",
                        flow.replySrc()));
            }
        }
        return filters;
    }

    private String familyWord() {
        return family == IpFamily.V6 ? "ipv6" : "ipv4";
    }

    /** Runs one conntrack command; "0 flow entries" (exit 1) is not an error. */
    private String run(List<String> command) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>(commandPrefix);
        full.addAll(command);
        File out = File.createTempFile("railyard-conntrack", ".out");
        Process process = null;
        try {
            ProcessBuilder builder = new ProcessBuilder(full).redirectOutput(ProcessBuilder.Redirect.to(out))
                    .redirectErrorStream(true);
            builder.environment().put("LC_ALL", "C");
            builder.environment().merge("PATH", "/usr/sbin:/sbin", (a, b) -> a + ":" + b);
            process = builder.start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IOException(String.join(" ", full) + " did not finish within " + timeout);
            }
            String output = Files.readString(out.toPath(), StandardCharsets.UTF_8);
            Matcher matcher = DELETED.matcher(output);
            boolean noneDeleted = matcher.find() && matcher.group(1).equals("0");
            if (process.exitValue() == 0 || (process.exitValue() == 1 && noneDeleted)) {
                return output;
            }
            throw new IOException(String.join(" ", full) + " exited " + process.exitValue() + ": " + output.strip());
        } finally {
            if (process != null && process.isAlive()) {
                process.destroyForcibly();
            }
            if (!out.delete()) {
                out.deleteOnExit();
            }
        }
    }

    /** One UDP flow as {@code conntrack -L} prints it: the original destination and the reply source. */
    record Flow(String origDst, int origDstPort, String replySrc) {
        /** Lines of {@code conntrack -L}; lines that are not UDP flows (the summary on stderr) are skipped. */
        static List<Flow> parseAll(String listing) {
            List<Flow> flows = new ArrayList<>();
            for (String line : listing.split("\n")) {
                Flow flow = parse(line);
                if (flow != null) {
                    flows.add(flow);
                }
            }
            return flows;
        }

        static Flow parse(String line) {
            String origDst = null;
            String replySrc = null;
            int dport = -1;
            int srcSeen = 0;
            boolean udp = false;
            for (String word : line.trim().split("\\s+")) {
                if (word.equals("udp")) {
                    udp = true;
                } else if (word.startsWith("src=")) {
                    srcSeen++;
                    if (srcSeen == 2) {
                        replySrc = word.substring(4);
                    }
                } else if (word.startsWith("dst=") && origDst == null) {
                    origDst = word.substring(4);
                } else if (word.startsWith("dport=") && dport < 0) {
                    try {
                        dport = Integer.parseInt(word.substring(6));
                    } catch (NumberFormatException e) {
                        return null;
                    }
                }
            }
            if (!udp || origDst == null || replySrc == null || dport < 0) {
                return null;
            }
            try {
                return new Flow(IpAddresses.canonical(IpAddresses.parse(origDst)), dport,
                        IpAddresses.canonical(IpAddresses.parse(replySrc)));
            } catch (IllegalArgumentException e) {
                return null;
            }
        }
    }

    /**
     * One reconcile.
     *
     * @param flows          UDP flows listed
     * @param deletions      deletion filters run
     * @param deletedEntries flows they deleted (kubeproxy_conntrack_reconciler_deleted_entries_total)
     * @param errors         one message per failed command
     * @param took           the whole reconcile (kubeproxy_conntrack_reconciler_sync_duration_seconds)
     */
    public record Report(int flows, int deletions, int deletedEntries, List<String> errors, Duration took) {
        public Report {
            errors = List.copyOf(errors);
        }
    }
}
