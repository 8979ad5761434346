package dev.railyard.testkit;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Closes whatever a test forgot to close (or could not, because the JVM is going down after a failure or a
 * Ctrl-C). try-with-resources is the normal path; this shutdown hook only exists so that a crashed test run
 * does not leave namespaces and processes behind on a developer's machine.
 */
final class LastResortCleanup {

    private static final Set<AutoCloseable> OPEN = new LinkedHashSet<>();
    private static boolean hookInstalled;

    private LastResortCleanup() {
    }

    static synchronized void register(AutoCloseable resource) {
        if (!hookInstalled) {
            Runtime.getRuntime().addShutdownHook(new Thread(LastResortCleanup::closeAll, "railyard-testkit-cleanup"));
            hookInstalled = true;
        }
        OPEN.add(resource);
    }

    static synchronized void unregister(AutoCloseable resource) {
        OPEN.remove(resource);
    }

    private static void closeAll() {
        List<AutoCloseable> open;
        synchronized (LastResortCleanup.class) {
            open = new ArrayList<>(OPEN);
        }
        // Newest first: processes and links are registered after the namespaces they live in.
        for (int i = open.size() - 1; i >= 0; i--) {
            try {
                open.get(i).close();
            } catch (Exception | Error e) {
                System.err.println("railyard-testkit: cleanup of " + open.get(i) + " failed: " + e);
            }
        }
    }
}
