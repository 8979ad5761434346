package dev.railyard.proxy.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.testkit.NetworkNamespace;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Counts packets to chosen destinations just before and just after a priority of a netfilter hook, in a table of
 * its own ({@code table inet observer}) that only counts and never decides. A packet counted before but not after
 * was dropped by a chain at a priority in between, which is how a test tells the proxy's drop from any other
 * reason a connection times out (nft rules have no counters of their own unless the ruleset asks for them).
 */
final class PacketCounters {
    static final String TABLE = "observer";
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final Pattern COUNTER = Pattern.compile("counter packets (\\d+) bytes \\d+ comment \"([^\"]+)\"");

    /** A place to count: a hook and two priorities around the one under watch. */
    record Window(String hook, int before, int after) {
        String chainBefore() {
            return hook + "-before";
        }

        String chainAfter() {
            return hook + "-after";
        }
    }

    /** A TCP destination to count packets to. */
    record Destination(String ip, int port) {
        String key() {
            return ip + "." + port;
        }

        String match() {
            return (ip.contains(":") ? "ip6" : "ip") + " daddr " + ip + " tcp dport " + port;
        }
    }

    /** Packets that reached each side of a window. */
    record Counts(long before, long after) {
    }

    private final NetworkNamespace namespace;

    private PacketCounters(NetworkNamespace namespace) {
        this.namespace = namespace;
    }

    /** Adds the observer table to {@code namespace}, counting every destination at both sides of every window. */
    static PacketCounters install(NetworkNamespace namespace, List<Window> windows, List<Destination> destinations) {
        StringBuilder script = new StringBuilder("add table inet " + TABLE + "\n");
        for (Window window : windows) {
            chain(script, window.chainBefore(), window.hook(), window.before(), destinations);
            chain(script, window.chainAfter(), window.hook(), window.after(), destinations);
        }
        namespace.exec(List.of("nft", "-f", "-"), TIMEOUT, script.toString().getBytes(StandardCharsets.UTF_8))
                .requireSuccess();
        return new PacketCounters(namespace);
    }

    private static void chain(StringBuilder script, String name, String hook, int priority,
                              List<Destination> destinations) {
        script.append("add chain inet " + TABLE + " " + name + " { type filter hook " + hook + " priority "
                + priority + " ; }\n");
        for (Destination destination : destinations) {
            script.append("add rule inet " + TABLE + " " + name + " " + destination.match() + " counter comment \""
                    + destination.key() + "\"\n");
        }
    }

    Counts counts(Window window, Destination destination) {
        return new Counts(packets(window.chainBefore(), destination), packets(window.chainAfter(), destination));
    }

    /**
     * Runs {@code probe} and checks that the packets it sent to {@code destination} reached the hook before the
     * window but none got past it.
     */
    void assertDroppedWithin(Window window, Destination destination, Runnable probe) {
        Counts start = counts(window, destination);
        probe.run();
        Counts end = counts(window, destination);
        assertThat(end.before()).as("packets to %s seen at %s priority %d", destination, window.hook(),
                window.before()).isGreaterThan(start.before());
        assertThat(end.after()).as("packets to %s that got past %s priority %d", destination, window.hook(),
                window.after()).isEqualTo(start.after());
    }

    private long packets(String chain, Destination destination) {
        String listing = namespace.exec(List.of("nft", "list", "chain", "inet", TABLE, chain), TIMEOUT, null)
                .requireSuccess().stdout();
        Matcher matcher = COUNTER.matcher(listing);
        while (matcher.find()) {
            if (matcher.group(2).equals(destination.key())) {
                return Long.parseLong(matcher.group(1));
            }
        }
        throw new AssertionError("no counter for " + destination + " in chain " + chain + ":\n" + listing);
    }
}
