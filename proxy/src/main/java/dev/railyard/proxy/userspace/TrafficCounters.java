package dev.railyard.proxy.userspace;

import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ServicePortName;

import io.netty.channel.ChannelFutureListener;

import java.util.concurrent.atomic.LongAdder;

/**
 * The live counters behind {@link TrafficStats}. Updated from every event loop, so each is a LongAdder: an
 * uncontended add is one CAS on a per-thread cell, cheap enough for the per-read byte counts.
 */
final class TrafficCounters {
    final LongAdder connectionsOpened = new LongAdder();
    final LongAdder connectionsActive = new LongAdder();
    final LongAdder bytesIn = new LongAdder();
    final LongAdder bytesOut = new LongAdder();
    final LongAdder connectErrors = new LongAdder();
    final LongAdder rejected = new LongAdder();
    final LongAdder resets = new LongAdder();
    final LongAdder udpSessionsOpened = new LongAdder();
    final LongAdder udpSessionsActive = new LongAdder();
    final LongAdder udpDropped = new LongAdder();
    final LongAdder sourceRangeDenied = new LongAdder();
    /** Added to each accepted channel's close future: one listener per service, not one per connection. */
    final ChannelFutureListener connectionClosed = closed -> connectionsActive.decrement();

    TrafficStats snapshot(ServicePortName service, IpFamily family) {
        return new TrafficStats(service, family, connectionsOpened.sum(), connectionsActive.sum(), bytesIn.sum(),
                bytesOut.sum(), connectErrors.sum(), rejected.sum(), resets.sum(), udpSessionsOpened.sum(),
                udpSessionsActive.sum(), udpDropped.sum(), sourceRangeDenied.sum());
    }
}
