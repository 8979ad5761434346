package dev.railyard.proxy.inspect;

/**
 * An endpoint a service frontend sends new connections to, with the chance of being picked.
 *
 * @param address     address:port (IPv6 in brackets)
 * @param probability the chance a new connection goes there (the product of the random choices on its path)
 * @param masquerade  whether connections to it have their source rewritten to the node's address
 */
public record EndpointShare(String address, double probability, boolean masquerade) {
}
