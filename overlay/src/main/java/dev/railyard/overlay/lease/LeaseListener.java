package dev.railyard.overlay.lease;

import java.util.List;

/**
 * Receives the lease set from a watch. {@link #reset} is called first and again whenever the watch
 * had to relist (e.g. after compaction), so implementations must treat it as the complete truth and
 * drop anything not in it. Calls are serialized.
 */
public interface LeaseListener {
    void reset(List<Lease> leases);

    void changed(List<LeaseEvent> events);
}
