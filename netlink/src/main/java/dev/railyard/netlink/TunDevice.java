package dev.railyard.netlink;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.nio.charset.StandardCharsets;

/**
 * A TUN device (IP packets, no packet information header): {@code /dev/net/tun} opened non-blocking and attached
 * to an interface with TUNSETIFF, as flannel's ip.OpenTun does. Reads and writes move whole packets between the
 * kernel and memory the caller owns (e.g. a direct Netty buffer's address), so the packet path allocates nothing.
 * One thread may read while others write. The interface lives as long as the device is open.
 */
public final class TunDevice implements AutoCloseable {
    private static final short IFF_TUN = 0x0001;
    private static final short IFF_NO_PI = 0x1000;
    private static final int IFNAMSIZ = 16;
    private static final int IFREQ_SIZE = 40;
    private static final int EAGAIN = 11;

    private final int fd;
    private final String name;
    // struct pollfd {int fd; short events; short revents;}, for the reading thread only
    private final Memory pollFd = new Memory(8);
    private volatile boolean closed;

    private TunDevice(int fd, String name) {
        this.fd = fd;
        this.name = name;
        pollFd.setInt(0, fd);
        pollFd.setShort(4, LibC.POLLIN);
    }

    /**
     * Creates (or attaches to) the TUN interface {@code nameTemplate} in network namespace {@code netns} (null: the
     * process's own). A template with {@code %d} lets the kernel pick the first free number, e.g. {@code flannel%d}
     * becomes {@code flannel0}.
     */
    public static TunDevice open(String nameTemplate, String netns) {
        byte[] requested = nameTemplate.getBytes(StandardCharsets.US_ASCII);
        if (requested.length == 0 || requested.length >= IFNAMSIZ) {
            throw new IllegalArgumentException("interface name must have 1 to 15 characters: " + nameTemplate);
        }
        return NetworkNamespaces.callIn(netns, () -> {
            int fd;
            try {
                fd = LibC.open("/dev/net/tun", LibC.O_RDWR | LibC.O_NONBLOCK | LibC.O_CLOEXEC);
            } catch (LastErrorException e) {
                throw new NetlinkException("cannot open /dev/net/tun (is the tun module loaded?)", e.getErrorCode(), e);
            }
            try (Memory ifreq = new Memory(IFREQ_SIZE)) {
                ifreq.clear();
                ifreq.write(0, requested, 0, requested.length);
                ifreq.setShort(IFNAMSIZ, (short) (IFF_TUN | IFF_NO_PI));
                LibC.ioctl(fd, LibC.TUNSETIFF, ifreq);
                return new TunDevice(fd, ifreq.getString(0, StandardCharsets.US_ASCII.name()));
            } catch (LastErrorException e) {
                closeQuietly(fd);
                throw new NetlinkException("TUNSETIFF " + nameTemplate + " failed", e.getErrorCode(), e);
            }
        });
    }

    /** The interface name the kernel gave the device. */
    public String name() {
        return name;
    }

    /**
     * Reads one packet into {@code capacity} bytes at native address {@code address}: its length, or -1 when no
     * packet is waiting. A packet longer than {@code capacity} is cut short.
     */
    public int read(long address, int capacity) {
        try {
            return (int) LibC.read(fd, new Pointer(address), capacity);
        } catch (LastErrorException e) {
            if (e.getErrorCode() == EAGAIN) {
                return -1;
            }
            throw new NetlinkException("read from TUN device " + name + " failed", e.getErrorCode(), e);
        }
    }

    /** Writes one packet of {@code length} bytes at native address {@code address} to the kernel. */
    public void write(long address, int length) {
        try {
            LibC.write(fd, new Pointer(address), length);
        } catch (LastErrorException e) {
            if (e.getErrorCode() == EAGAIN) {
                return; // the device's queue is full: drop, as a full NIC queue would
            }
            throw new NetlinkException("write to TUN device " + name + " failed", e.getErrorCode(), e);
        }
    }

    /** Waits up to {@code timeoutMillis} for a packet to read; true when one is waiting. Reading thread only. */
    public boolean awaitReadable(int timeoutMillis) {
        if (closed) {
            return false;
        }
        pollFd.setShort(6, (short) 0);
        try {
            return LibC.poll(pollFd, 1, timeoutMillis) > 0;
        } catch (LastErrorException e) {
            if (e.getErrorCode() == 4) { // EINTR
                return false;
            }
            throw new NetlinkException("poll on TUN device " + name + " failed", e.getErrorCode(), e);
        }
    }

    /** Closes the device; the kernel removes the interface (and its routes). */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            closeQuietly(fd);
        }
    }

    private static void closeQuietly(int fd) {
        try {
            LibC.close(fd);
        } catch (LastErrorException ignored) {
            // the descriptor is gone either way
        }
    }
}
