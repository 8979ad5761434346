package dev.railyard.benchmarks.userspace;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

/** What the load run reads about other processes from /proc: CPU time, RSS, sockets, the owner of a listener. */
final class ProcFs {
    /** USER_HZ; 100 on every Linux architecture the JDK runs on, checked against getconf where it exists. */
    static final long CLOCK_TICKS = clockTicks();

    private ProcFs() {
    }

    /** utime + stime of the whole process (all its threads), in seconds; resolution 1/CLK_TCK. */
    static double cpuSeconds(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        // comm (field 2) may contain spaces and parentheses: split after the last ')'
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        long utime = Long.parseLong(fields[11]); // field 14
        long stime = Long.parseLong(fields[12]); // field 15
        return (utime + stime) / (double) CLOCK_TICKS;
    }

    /** VmRSS in bytes, or -1. */
    static long rssBytes(long pid) {
        return statusKb(pid, "VmRSS:") * 1024;
    }

    static long threads(long pid) {
        return statusKb(pid, "Threads:");
    }

    private static long statusKb(long pid, String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith(key)) {
                    return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // process gone
        }
        return -1;
    }

    /** The number of open sockets of a process (file descriptors that link to socket:[inode]). */
    static int sockets(long pid) {
        int count = 0;
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : fds) {
                try {
                    if (Files.readSymbolicLink(fd).toString().startsWith("socket:")) {
                        count++;
                    }
                } catch (IOException closedMeanwhile) {
                    // skip
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return count;
    }

    /** The soft RLIMIT_NOFILE of a process, or -1. */
    static long openFilesLimit(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "limits"))) {
                if (line.startsWith("Max open files")) {
                    String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
                    return "unlimited".equals(soft) ? Long.MAX_VALUE : Long.parseLong(soft);
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        return -1;
    }

    /**
     * The process that holds the TCP (IPv4) listening socket bound to exactly {@code address}: the socket's inode
     * from /proc/net/tcp, then the process with a descriptor on it. This is how the harness finds the real proxy
     * process even when the configured command is a wrapper (a shell, the ./railyard script) that starts it.
     */
    static OptionalLong listenerOwner(InetSocketAddress address) throws IOException {
        // an AF_INET socket is in /proc/net/tcp; an AF_INET6 one bound to the IPv4-mapped address (as Netty's
        // epoll transport creates them) in /proc/net/tcp6
        String inode = listeningInode(Path.of("/proc/net/tcp"), hexAddress(address));
        if (inode == null) {
            inode = listeningInode(Path.of("/proc/net/tcp6"), "0000000000000000FFFF0000" + hexAddress(address));
        }
        if (inode == null) {
            return OptionalLong.empty();
        }
        String target = "socket:[" + inode + "]";
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().matches("\\d+"))) {
            for (Path proc : procs) {
                try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve("fd"))) {
                    for (Path fd : fds) {
                        try {
                            if (Files.readSymbolicLink(fd).toString().equals(target)) {
                                return OptionalLong.of(Long.parseLong(proc.getFileName().toString()));
                            }
                        } catch (IOException gone) {
                            // skip
                        }
                    }
                } catch (IOException gone) {
                    // process exited or not ours to read
                }
            }
        }
        return OptionalLong.empty();
    }

    private static String listeningInode(Path table, String local) throws IOException {
        if (!Files.exists(table)) {
            return null;
        }
        List<String> lines = Files.readAllLines(table);
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.trim().split("\\s+");
            if (f[1].equalsIgnoreCase(local) && "0A".equals(f[3])) {
                return f[9];
            }
        }
        return null;
    }

    private static String hexAddress(InetSocketAddress address) {
        if (!(address.getAddress() instanceof Inet4Address)) {
            throw new IllegalArgumentException("IPv4 only: " + address);
        }
        byte[] b = address.getAddress().getAddress();
        // /proc/net/tcp prints the address as a host-order (little-endian) 32-bit word
        return String.format("%02X%02X%02X%02X:%04X", b[3] & 0xff, b[2] & 0xff, b[1] & 0xff, b[0] & 0xff, address.getPort());
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "?";
        }
    }

    private static long clockTicks() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (p.waitFor() == 0) {
                return Long.parseLong(out);
            }
        } catch (IOException | RuntimeException e) {
            // default below
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 100;
    }
}
