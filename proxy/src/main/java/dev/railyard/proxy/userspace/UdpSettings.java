package dev.railyard.proxy.userspace;

import java.util.function.LongSupplier;

/** What every UDP listener of one proxier shares. */
record UdpSettings(Transport transport, long idleTimeoutNanos, int maxSessions, LongSupplier nanoTime) {
}
