package dev.railyard.overlay.lease;

/** A change to one host's lease, as seen through the watch. Removal carries only the subnet. */
public record LeaseEvent(Type type, Lease lease) {
    public enum Type { ADDED, REMOVED }
}
