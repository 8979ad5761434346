package dev.railyard.proxy.daemon;

import dev.railyard.proxy.sync.SyncResult;
import dev.railyard.testkit.AgentHandle;

import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** Waiting, bounded, for what a daemon under test does on its own threads. */
final class Awaits {
    static final Duration WAIT = Duration.ofSeconds(30);

    private Awaits() {
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("timed out after " + WAIT + " waiting for: " + what);
    }

    /** Whether a TCP request to {@code ip:port} succeeds within the wait. */
    static boolean awaitOk(AgentHandle client, String ip, int port) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            if (client.tcpGet(ip, port, Duration.ofSeconds(2)).isOk()) {
                return true;
            }
            Thread.sleep(100);
        }
        return false;
    }

    /** What {@code ruleset} reads once no sync has happened for a while (busy syncs are 100 ms apart at most). */
    static String awaitQuiet(Supplier<String> ruleset, List<SyncResult> results) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            int count = results.size();
            String rules = ruleset.get();
            Thread.sleep(700);
            if (results.size() == count && ruleset.get().equals(rules)) {
                return rules;
            }
        }
        throw new AssertionError("syncs did not settle within " + WAIT);
    }

    static int indexOf(List<SyncResult> results, Predicate<SyncResult> condition) {
        for (int i = 0; i < results.size(); i++) {
            if (condition.test(results.get(i))) {
                return i;
            }
        }
        return -1;
    }
}
