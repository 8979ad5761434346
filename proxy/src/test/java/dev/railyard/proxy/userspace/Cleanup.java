package dev.railyard.proxy.userspace;

import java.util.List;

/** The end of every userspace test: the proxier first, whose relays hold connections to the backends, then those. */
final class Cleanup {
    private Cleanup() {
    }

    static void close(UserspaceProxier proxier, List<AutoCloseable> closeAfter) throws Exception {
        if (proxier != null) {
            proxier.close();
        }
        for (AutoCloseable closeable : closeAfter) {
            closeable.close();
        }
    }
}
