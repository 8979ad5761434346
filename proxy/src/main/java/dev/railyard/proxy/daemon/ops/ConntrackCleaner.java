package dev.railyard.proxy.daemon.ops;

import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;
import dev.railyard.proxy.sync.StaleUdpEndpoint;
import dev.railyard.proxy.sync.SyncResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
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
 * Deletes stale UDP conntrack entries after a sync, with the {@code conntrack} tool. UDP has no connection to
 * close, so without this a client keeps sending to a removed endpoint (or into the REJECT that answered while the
 * service had none) for as long as it keeps the flow alive.
 *
 * <p>What is deleted follows kube-proxy's pkg/proxy/conntrack/cleanup.go: flows to a service frontend
 * (cluster IP, external IPs, load-balancer IPs, each with the service port; or any address with the node port)
 * whose reply source is an endpoint that stopped serving. Matching the reply source ({@code --reply-src}), as
 * current kube-proxy does, rather than {@code --dst-nat}: the latter relies on the DNAT status bit, the former
 * on the tuple itself. UDP ports that got their first serving endpoint have every flow to their frontends
 * flushed: those were created while the port rejected traffic and would otherwise keep black-holing it.
 *
 * <p>kube-proxy reconciles the whole table against the state; this cleaner acts on the changes a sync reports,
 * which costs one {@code conntrack -D} per frontend and stale endpoint instead of listing the table.
 * {@link BackgroundConntrackCleanup} runs it off the sync thread; one cleaner per family, since it remembers the
 * service ports of the state it last cleaned after.
 */
public final class ConntrackCleaner {
    private static final Logger LOG = LoggerFactory.getLogger(ConntrackCleaner.class);
    private static final Pattern DELETED = Pattern.compile("(\\d+) flow entries have been deleted");

    private final List<String> commandPrefix;
    private final Duration timeout;
    /**
     * The previous clean's state: a deleted service's stale endpoints still need its frontends. Kept whole rather
     * than as a map of its ports: the state is immutable and shares its service ports with the next one, and a
     * clean looks up only the few ports its sync reported.
     */
    private ProxyState previousState;

    /**
     * @param commandPrefix prepended to every conntrack command, e.g. {@code ip netns exec NS}; empty for none
     * @param timeout       how long one conntrack run may take before it is killed
     */
    public ConntrackCleaner(List<String> commandPrefix, Duration timeout) {
        this.commandPrefix = List.copyOf(commandPrefix);
        this.timeout = Objects.requireNonNull(timeout, "timeout");
    }

    public ConntrackCleaner() {
        this(List.of(), Duration.ofSeconds(10));
    }

    /**
     * Cleans up after one successful sync.
     *
     * @param result the sync; failed and skipped ones carry nothing to clean and are ignored
     * @param state  the state that sync programmed (for the frontends of the reported service ports)
     */
    public Report clean(SyncResult result, ProxyState state) {
        if (!result.succeeded()) {
            return new Report(0, 0, List.of());
        }
        return clean(result.family(), result.goneUdpEndpoints(), result.newlyActiveUdpPorts(), state);
    }

    /**
     * Cleans up after one or more successful syncs of {@code family}: the UDP endpoints they reported gone, the
     * UDP ports that got their first serving endpoint, and {@code state}, the last of them.
     */
    public synchronized Report clean(IpFamily family, Collection<StaleUdpEndpoint> goneUdpEndpoints,
                                     Collection<ServicePortName> newlyActiveUdpPorts, ProxyState state) {
        Set<ServicePortName> reported = new HashSet<>(newlyActiveUdpPorts);
        for (StaleUdpEndpoint stale : goneUdpEndpoints) {
            reported.add(stale.servicePort());
        }
        Map<ServicePortName, ServicePort> current = portsNamed(reported, state);
        reported.removeAll(current.keySet());
        Map<ServicePortName, ServicePort> previous = portsNamed(reported, previousState);
        previousState = state;
        List<List<String>> commands = commands(family, goneUdpEndpoints, newlyActiveUdpPorts, current, previous);
        int deleted = 0;
        List<String> errors = new ArrayList<>();
        for (List<String> command : commands) {
            try {
                deleted += run(command);
            } catch (ConntrackException e) {
                LOG.warn("conntrack cleanup failed: {}", e.getMessage());
                errors.add(e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                errors.add("interrupted");
                break;
            }
        }
        return new Report(commands.size(), deleted, errors);
    }

    /** The conntrack commands (without prefix) a sync result calls for, without a previous state; no side effects. */
    static List<List<String>> commands(SyncResult result, Map<ServicePortName, ServicePort> current) {
        return commands(result.family(), result.goneUdpEndpoints(), result.newlyActiveUdpPorts(), current, Map.of());
    }

    /** The service ports of {@code state} (null: none) whose names are in {@code names}. */
    private static Map<ServicePortName, ServicePort> portsNamed(Set<ServicePortName> names, ProxyState state) {
        if (names.isEmpty() || state == null) {
            return Map.of();
        }
        Map<ServicePortName, ServicePort> ports = new HashMap<>();
        for (ProxyState.Entry entry : state.entries()) {
            if (names.contains(entry.service().name())) {
                ports.put(entry.service().name(), entry.service());
            }
        }
        return ports;
    }

    /**
     * @param current  the reported ports' frontends in the state just programmed
     * @param previous the frontends of reported ports that are gone from it, from the state before
     */
    private static List<List<String>> commands(IpFamily ipFamily, Collection<StaleUdpEndpoint> goneUdpEndpoints,
                                               Collection<ServicePortName> newlyActiveUdpPorts,
                                               Map<ServicePortName, ServicePort> current,
                                               Map<ServicePortName, ServicePort> previous) {
        String family = ipFamily == IpFamily.V6 ? "ipv6" : "ipv4";
        Set<List<String>> commands = new LinkedHashSet<>(); // an endpoint gone from two ports of one IP: once
        for (StaleUdpEndpoint stale : goneUdpEndpoints) {
            ServicePort port = current.getOrDefault(stale.servicePort(), previous.get(stale.servicePort()));
            if (port == null) {
                LOG.debug("no frontend known for {}, not cleaning {}", stale.servicePort(), stale);
                continue;
            }
            String endpointIp = stale.endpoint().ip();
            for (String frontend : frontends(port)) {
                commands.add(List.of("conntrack", "-D", "-f", family, "-p", "udp", "--orig-dst", frontend,
                        "--orig-port-dst", Integer.toString(port.port()), "--reply-src", endpointIp));
            }
            if (port.nodePort() != 0) {
                commands.add(List.of("conntrack", "-D", "-f", family, "-p", "udp", "--orig-port-dst",
                        Integer.toString(port.nodePort()), "--reply-src", endpointIp));
            }
        }
        for (ServicePortName name : newlyActiveUdpPorts) {
            ServicePort port = current.get(name);
            if (port == null) {
                continue; // gone again: nothing routes to it, nothing to unblock
            }
            for (String frontend : frontends(port)) {
                commands.add(List.of("conntrack", "-D", "-f", family, "-p", "udp", "--orig-dst", frontend,
                        "--orig-port-dst", Integer.toString(port.port())));
            }
            if (port.nodePort() != 0) {
                commands.add(List.of("conntrack", "-D", "-f", family, "-p", "udp", "--orig-port-dst",
                        Integer.toString(port.nodePort())));
            }
        }
        return List.copyOf(commands);
    }

    private static List<String> frontends(ServicePort port) {
        Set<String> ips = new LinkedHashSet<>();
        if (!port.clusterIp().isEmpty() && !"None".equals(port.clusterIp())) {
            ips.add(port.clusterIp());
        }
        ips.addAll(port.externalIps());
        ips.addAll(port.loadBalancerIps());
        return List.copyOf(ips);
    }

    /** Runs one deletion; returns how many entries it deleted. "0 flow entries" (exit 1) is not an error. */
    private int run(List<String> command) throws ConntrackException, InterruptedException {
        List<String> full = new ArrayList<>(commandPrefix);
        full.addAll(command);
        File out = null;
        Process process = null;
        try {
            out = File.createTempFile("railyard-conntrack", ".out");
            ProcessBuilder builder = new ProcessBuilder(full).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.to(out));
            builder.environment().put("LC_ALL", "C"); // the message is parsed
            builder.environment().merge("PATH", "/usr/sbin:/sbin", (a, b) -> a + ":" + b);
            process = builder.start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new ConntrackException(String.join(" ", full) + " did not finish within " + timeout);
            }
            String output = Files.readString(out.toPath(), StandardCharsets.UTF_8);
            Matcher matcher = DELETED.matcher(output);
            int deleted = matcher.find() ? Integer.parseInt(matcher.group(1)) : -1;
            if (process.exitValue() == 0 || (process.exitValue() == 1 && deleted == 0)) {
                return Math.max(deleted, 0);
            }
            throw new ConntrackException(String.join(" ", full) + " exited " + process.exitValue() + ": "
                    + output.strip());
        } catch (IOException e) {
            throw new ConntrackException("cannot run " + String.join(" ", full) + ": " + e.getMessage());
        } finally {
            if (process != null && process.isAlive()) {
                process.destroyForcibly();
            }
            if (out != null && !out.delete()) {
                out.deleteOnExit();
            }
        }
    }

    /**
     * What one clean did.
     *
     * @param commands       conntrack deletions run
     * @param deletedEntries flow entries they deleted
     * @param errors         one message per failed deletion; empty when all worked
     */
    public record Report(int commands, int deletedEntries, List<String> errors) {
        public Report {
            errors = List.copyOf(errors);
        }
    }

    private static final class ConntrackException extends Exception {
        ConntrackException(String message) {
            super(message);
        }
    }
}
