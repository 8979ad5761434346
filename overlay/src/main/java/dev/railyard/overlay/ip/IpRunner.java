package dev.railyard.overlay.ip;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs iproute2 in the host's network namespace (or a named one, for tests and for daemons that
 * program a namespace other than their own). Changes go through {@code -batch} so that programming a
 * thousand peers costs one process, not a thousand.
 */
public final class IpRunner {
    private static final Pattern FAILED_LINE = Pattern.compile("Command failed -:(\\d+)");
    private static final long TIMEOUT_SECONDS = 30;

    private final String netns;

    /** @param netns a name from {@code ip netns list}, or null for the current namespace */
    public IpRunner(String netns) {
        this.netns = netns == null || netns.isBlank() ? null : netns;
    }

    public String netns() {
        return netns;
    }

    /** {@code ip -force -batch -}: every line runs even if an earlier one failed. */
    public BatchResult ipBatch(List<String> lines) {
        return batch("ip", lines);
    }

    /** {@code bridge -force -batch -}, for FDB entries, which {@code ip} cannot program. */
    public BatchResult bridgeBatch(List<String> lines) {
        return batch("bridge", lines);
    }

    private BatchResult batch(String tool, List<String> lines) {
        if (lines.isEmpty()) {
            return new BatchResult(lines, List.of());
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(tool);
        if (netns != null) {
            cmd.addAll(List.of("-n", netns));
        }
        cmd.addAll(List.of("-force", "-batch", "-"));
        Output out = exec(cmd, String.join("\n", lines) + "\n");
        List<BatchResult.Failure> failures = new ArrayList<>();
        String pending = null;
        for (String line : out.stderr.split("\n")) {
            Matcher m = FAILED_LINE.matcher(line);
            if (m.find()) {
                int n = Integer.parseInt(m.group(1));
                failures.add(new BatchResult.Failure(n, n >= 1 && n <= lines.size() ? lines.get(n - 1) : "?",
                        pending == null ? "failed" : pending));
                pending = null;
            } else if (!line.isBlank()) {
                pending = pending == null ? line.strip() : pending + "; " + line.strip();
            }
        }
        if (out.exitCode != 0 && failures.isEmpty()) {
            throw new IpException(tool + " -batch failed (exit " + out.exitCode + "): " + out.stderr.strip());
        }
        return new BatchResult(lines, failures);
    }

    /** Runs one iproute2 command (e.g. a query) and returns stdout, failing with stderr on error. */
    public String run(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(args[0]);
        if (netns != null && (args[0].equals("ip") || args[0].equals("bridge"))) {
            cmd.addAll(List.of("-n", netns));
            cmd.addAll(List.of(args).subList(1, args.length));
        } else {
            cmd.clear();
            cmd.addAll(inNamespace(List.of(args)));
        }
        Output out = exec(cmd, null);
        if (out.exitCode != 0) {
            throw new IpException(String.join(" ", cmd) + " failed (exit " + out.exitCode + "): " + out.stderr.strip());
        }
        return out.stdout;
    }

    /** Runs any command (e.g. iptables-restore) in this runner's namespace with optional stdin. */
    public Output exec(List<String> command, String stdin) {
        try {
            Process p = new ProcessBuilder(command).start();
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
            CompletableFuture<String> outF = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
            try (OutputStream in = p.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IpException(String.join(" ", command) + " did not finish within " + TIMEOUT_SECONDS + " s");
            }
            return new Output(p.exitValue(), outF.join(), err.join());
        } catch (IOException e) {
            throw new IpException("cannot run " + String.join(" ", command) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IpException("interrupted running " + String.join(" ", command), e);
        }
    }

    /** Prefixes a command with {@code ip netns exec NS} when this runner targets a named namespace. */
    public List<String> inNamespace(List<String> command) {
        if (netns == null) {
            return command;
        }
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", netns));
        cmd.addAll(command);
        return cmd;
    }

    private static String readAll(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    public record Output(int exitCode, String stdout, String stderr) {
    }
}
