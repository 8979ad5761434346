package dev.railyard.benchmarks.daemon;

import dev.railyard.testkit.CommandResult;
import dev.railyard.testkit.Commands;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** What a shared machine's figures need beside them: its size, versions, and how busy it was. */
final class MachineFacts {
    private MachineFacts() {
    }

    static String describe() {
        return String.join("\n",
                "date: " + Instant.now(),
                "cpus: " + Runtime.getRuntime().availableProcessors() + ", " + firstLine("/proc/meminfo"),
                "kernel: " + firstLine("/proc/sys/kernel/osrelease"),
                "java: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version")
                        + ", max heap " + Runtime.getRuntime().maxMemory() / (1 << 20) + " MB",
                "nft: " + version("nft", "--version") + "; iptables: " + version("iptables-legacy", "--version")
                        + ", " + version("iptables-nft", "--version"),
                "load average: " + loadAverages());
    }

    /** The one-minute load average. */
    static String load() {
        String all = loadAverages();
        return all.split(" ")[0];
    }

    private static String loadAverages() {
        String line = firstLine("/proc/loadavg");
        String[] parts = line.split(" ");
        return parts.length >= 4 ? parts[0] + " " + parts[1] + " " + parts[2] + " (running/threads " + parts[3] + ")"
                : line;
    }

    private static String firstLine(String file) {
        try {
            List<String> lines = Files.readAllLines(Path.of(file));
            return lines.isEmpty() ? "?" : lines.get(0).replaceAll("\\s+", " ").strip();
        } catch (IOException e) {
            return "?";
        }
    }

    private static String version(String... command) {
        CommandResult result = Commands.run(List.of(command), Duration.ofSeconds(10), null);
        return result.succeeded() ? result.stdout().strip() : "unavailable";
    }
}
