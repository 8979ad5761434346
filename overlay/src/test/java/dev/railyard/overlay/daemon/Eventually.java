package dev.railyard.overlay.daemon;

import java.time.Duration;

/** Polls an assertion until it holds or the bound runs out; the last failure is rethrown. */
final class Eventually {
    private Eventually() {
    }

    static void eventually(Duration within, Runnable assertion) {
        long deadline = System.nanoTime() + within.toNanos();
        while (true) {
            try {
                assertion.run();
                return;
            } catch (AssertionError | RuntimeException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }
}
