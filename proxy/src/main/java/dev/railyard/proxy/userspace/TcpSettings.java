package dev.railyard.proxy.userspace;

import io.netty.channel.group.ChannelGroup;

/**
 * What every TCP connection of one proxier shares.
 *
 * @param connections every open proxied channel, both sides, so that closing the proxier closes them
 * @param tuning      buffer and socket settings of established relays
 */
record TcpSettings(Transport transport, int connectTimeoutMillis, int maxConnectAttempts,
                   ChannelGroup connections, RelayTuning tuning) {
}
