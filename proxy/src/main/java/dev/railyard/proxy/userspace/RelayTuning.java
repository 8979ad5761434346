package dev.railyard.proxy.userspace;

/**
 * Socket and buffer settings of established TCP relays (applied once both sides are connected).
 *
 * @param recvBufferMax      largest read buffer of the adaptive allocator, in bytes (0: Netty's default, 64 KiB)
 * @param writeLowWaterMark  write buffer low water mark in bytes (0: Netty's default, 32 KiB)
 * @param writeHighWaterMark write buffer high water mark in bytes (0: Netty's default, 64 KiB)
 * @param socketBuffer       SO_SNDBUF and SO_RCVBUF in bytes (0: the kernel's autotuning)
 */
record RelayTuning(int recvBufferMax, int writeLowWaterMark, int writeHighWaterMark, int socketBuffer) {
    /**
     * Reads of up to 1 MiB (the adaptive allocator still starts at 2 KiB and grows only after full reads, so small
     * exchanges and idle connections keep small buffers) and 512 KiB / 1 MiB water marks. On loopback a bulk
     * transfer costs 0.43-0.46 s of proxy CPU per GB and reaches 0.93-0.99x direct, against 0.66 s and 0.76x
     * with 256 KiB reads and 0.96 s with Netty's defaults (64 KiB reads, 32 / 64 KiB water marks): fewer,
     * larger reads and writes per byte, and fewer spurious retransmits downstream. At most one read plus the
     * high water mark, about 2 MiB per direction, waits in the proxy before it stops reading the sender.
     */
    static final RelayTuning DEFAULT = new RelayTuning(1024 * 1024, 512 * 1024, 1024 * 1024, 0);
    /** Netty's defaults for everything. */
    static final RelayTuning NETTY_DEFAULTS = new RelayTuning(0, 0, 0, 0);

    /** Experiment knobs: {@code -Drailyard.userspace.recvBufferMax=...} etc. override the defaults. */
    static RelayTuning fromSystemProperties(RelayTuning defaults) {
        return new RelayTuning(
                Integer.getInteger("railyard.userspace.recvBufferMax", defaults.recvBufferMax()),
                Integer.getInteger("railyard.userspace.writeLowWaterMark", defaults.writeLowWaterMark()),
                Integer.getInteger("railyard.userspace.writeHighWaterMark", defaults.writeHighWaterMark()),
                Integer.getInteger("railyard.userspace.socketBuffer", defaults.socketBuffer()));
    }
}
