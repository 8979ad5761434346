package dev.railyard.proxy.inspect;

/**
 * A ClientIP session-affinity check the packet met: a client with a recent entry would have been sent to
 * {@code target} instead of being balanced. Traces assume a new client (no entry) and report the check.
 *
 * @param list     the affinity list's name (iptables {@code -m recent --name}; nftables the set's name)
 * @param seconds  how long an entry lasts; 0 when the rule gives no limit
 * @param target   where a remembered client goes (the endpoint's chain)
 * @param endpoint the endpoint that chain DNATs to, when it can be read from the rules; null otherwise
 */
public record Affinity(String list, long seconds, String target, String endpoint) {
}
