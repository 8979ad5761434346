package dev.railyard.proxy.conntrack;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Applies a {@link ConntrackConfig} to the node as kube-proxy's setupConntrack does: each sysctl under
 * net.netfilter is written only when its value differs, nf_conntrack_max first (with the module's hashsize at a
 * quarter of it, when /sys is writable). On the node itself the files under /proc/sys are written directly; behind
 * a command prefix (another network namespace, whose net.netfilter sysctls are its own) through {@code sysctl}.
 */
public final class ConntrackSysctls {
    private static final Logger LOG = LoggerFactory.getLogger(ConntrackSysctls.class);
    private static final Path HASHSIZE = Path.of("/sys/module/nf_conntrack/parameters/hashsize");

    private final List<String> commandPrefix;

    public ConntrackSysctls(List<String> commandPrefix) {
        this.commandPrefix = List.copyOf(commandPrefix);
    }

    /** The sysctls {@code config} sets on a node with {@code cpus} CPUs, in the order they are written. */
    public static Map<String, Integer> wanted(ConntrackConfig config, int cpus) {
        Map<String, Integer> values = new LinkedHashMap<>();
        int max = config.conntrackMax(cpus);
        if (max > 0) {
            values.put("nf_conntrack_max", max);
        }
        if (config.tcpEstablishedTimeout().getSeconds() > 0) {
            values.put("nf_conntrack_tcp_timeout_established", (int) config.tcpEstablishedTimeout().getSeconds());
        }
        if (config.tcpCloseWaitTimeout().getSeconds() > 0) {
            values.put("nf_conntrack_tcp_timeout_close_wait", (int) config.tcpCloseWaitTimeout().getSeconds());
        }
        if (config.tcpBeLiberal()) {
            values.put("nf_conntrack_tcp_be_liberal", 1);
        }
        if (config.udpTimeout().getSeconds() > 0) {
            values.put("nf_conntrack_udp_timeout", (int) config.udpTimeout().getSeconds());
        }
        if (config.udpStreamTimeout().getSeconds() > 0) {
            values.put("nf_conntrack_udp_timeout_stream", (int) config.udpStreamTimeout().getSeconds());
        }
        return values;
    }

    /**
     * Writes what differs; returns the sysctls changed.
     *
     * @throws IOException naming the sysctl that could not be read or written (kube-proxy does not start then)
     */
    public List<String> apply(ConntrackConfig config) throws IOException, InterruptedException {
        List<String> changed = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        for (Map.Entry<String, Integer> entry : wanted(config, Runtime.getRuntime().availableProcessors()).entrySet()) {
            String key = "net.netfilter." + entry.getKey();
            int value = entry.getValue();
            try {
                if (read(key) == value) {
                    continue;
                }
                write(key, value);
            } catch (IOException e) {
                failed.add(e.getMessage()); // one refused setting must not keep the others from being set
                continue;
            }
            changed.add(key + "=" + value);
            LOG.info("set {} to {}", key, value);
            if (entry.getKey().equals("nf_conntrack_max") && commandPrefix.isEmpty()) {
                // The kernel sizes the hash table once; kube-proxy resizes it to a quarter of the maximum.
                try {
                    Files.writeString(HASHSIZE, Integer.toString(value / 4), StandardCharsets.US_ASCII);
                } catch (IOException e) {
                    LOG.warn("cannot set the conntrack hashsize ({}): {}", HASHSIZE, e.getMessage());
                }
            }
        }
        if (!failed.isEmpty()) {
            throw new IOException(String.join("; ", failed) + (changed.isEmpty() ? "" : " (set: " + changed + ")"));
        }
        return changed;
    }

    /** The current value of one net.netfilter sysctl. */
    public int read(String key) throws IOException, InterruptedException {
        String text = commandPrefix.isEmpty() ? Files.readString(path(key), StandardCharsets.US_ASCII)
                : run(List.of("sysctl", "-n", key));
        try {
            return Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            throw new IOException(key + ": not a number: " + text.strip());
        }
    }

    private void write(String key, int value) throws IOException, InterruptedException {
        if (commandPrefix.isEmpty()) {
            try {
                Files.writeString(path(key), Integer.toString(value), StandardCharsets.US_ASCII);
            } catch (IOException e) {
                throw new IOException("cannot set " + key + " to " + value + ": " + e.getMessage(), e);
            }
        } else {
            run(List.of("sysctl", "-q", "-w", key + "=" + value));
        }
    }

    private static Path path(String key) {
        return Path.of("/proc/sys", key.replace('.', '/'));
    }

    private String run(List<String> command) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>(commandPrefix);
        full.addAll(command);
        ProcessBuilder builder = new ProcessBuilder(full).redirectErrorStream(true);
        builder.environment().merge("PATH", "/usr/sbin:/sbin", (a, b) -> a + ":" + b);
        Process process = builder.start();
        byte[] output = process.getInputStream().readAllBytes();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException(String.join(" ", full) + " did not finish within 10 s");
        }
        String text = new String(output, StandardCharsets.UTF_8);
        if (process.exitValue() != 0) {
            throw new IOException(String.join(" ", full) + " exited " + process.exitValue() + ": " + text.strip());
        }
        return text;
    }
}
