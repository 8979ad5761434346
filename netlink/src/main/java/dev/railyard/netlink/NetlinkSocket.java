package dev.railyard.netlink;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;

/**
 * An AF_NETLINK raw socket, optionally created inside a named network namespace ({@code /run/netns/NAME}).
 *
 * <p>Created with NETLINK_EXT_ACK (the kernel explains refusals in words and points at the offending attribute)
 * and NETLINK_CAP_ACK (error acks do not echo the whole request back, so 10,000 acks stay small). {@link #send}
 * writes one datagram with one {@code sendto}: the kernel processes an nf_tables batch only if BATCH_BEGIN and
 * BATCH_END arrive in the same datagram, so a batch is never split here; instead SO_SNDBUF is raised (with
 * SO_SNDBUFFORCE, which needs CAP_NET_ADMIN like nf_tables itself) to fit it.
 *
 * <p>Not thread-safe: one owner thread sends and receives (requests and their acks are matched by sequence
 * number on this one socket). Several sockets may be used from several threads. {@link #close()} may be called
 * from any thread once the owner is done.
 */
public final class NetlinkSocket implements AutoCloseable {

    /** The netlink protocol of nfnetlink, which carries nf_tables. */
    public static final int NETLINK_NETFILTER = 12;

    private static final Pattern NETNS_NAME = Pattern.compile("[A-Za-z0-9_.-]{1,255}");
    private static final int RECEIVE_BUFFER_BYTES = 1 << 20;
    private static final int SOCKADDR_NL_SIZE = 12;
    /** netlink_sendmsg refuses a datagram longer than sk_sndbuf - 32. */
    private static final int SEND_OVERHEAD = 32;
    private static final Duration DEFAULT_RECEIVE_TIMEOUT = Duration.ofSeconds(30);

    private final int fd;
    private final int portId;
    private final String namespace;
    private final ByteBuffer receiveBuffer;
    private final Pointer receivePointer;
    private final Memory intValue = new Memory(4);
    private final Memory kernelAddress;
    private long sendBufferBytes;
    private long receiveBufferBytes;
    private volatile boolean closed;

    private NetlinkSocket(int fd, String namespace) {
        this.fd = fd;
        this.namespace = namespace;
        this.kernelAddress = sockaddrNl(0);
        this.receiveBuffer = ByteBuffer.allocateDirect(RECEIVE_BUFFER_BYTES).order(ByteOrder.nativeOrder());
        this.receivePointer = Native.getDirectBufferPointer(receiveBuffer);
        try {
            setInt(LibC.SOL_NETLINK, LibC.NETLINK_EXT_ACK, 1, "NETLINK_EXT_ACK");
            setInt(LibC.SOL_NETLINK, LibC.NETLINK_CAP_ACK, 1, "NETLINK_CAP_ACK");
            Memory local = sockaddrNl(0);
            LibC.bind(fd, local, SOCKADDR_NL_SIZE);
            Memory length = new Memory(4);
            length.setInt(0, SOCKADDR_NL_SIZE);
            LibC.getsockname(fd, local, length);
            this.portId = local.getInt(4);
            setReceiveTimeout(DEFAULT_RECEIVE_TIMEOUT);
            this.sendBufferBytes = getInt(LibC.SOL_SOCKET, LibC.SO_SNDBUF);
            this.receiveBufferBytes = getInt(LibC.SOL_SOCKET, LibC.SO_RCVBUF);
        } catch (LastErrorException e) {
            closeQuietly(fd);
            throw new NetlinkException("cannot set up netlink socket" + where(), e.getErrorCode(), e);
        } catch (RuntimeException e) {
            closeQuietly(fd);
            throw e;
        }
    }

    /** Opens a socket in the calling process's network namespace. */
    public static NetlinkSocket open(int protocol) {
        return new NetlinkSocket(createSocket(protocol, null), null);
    }

    /**
     * Opens a socket inside the network namespace {@code /run/netns/NAME} (as {@code ip netns add NAME} makes). A
     * socket stays in the namespace it was created in, so only its creation happens there: on a short-lived
     * thread that enters the namespace with setns(CLONE_NEWNET) and ends right after, leaving every other
     * thread of the process where it was.
     */
    public static NetlinkSocket open(int protocol, String namespaceName) {
        if (namespaceName == null) {
            return open(protocol);
        }
        if (!NETNS_NAME.matcher(namespaceName).matches() || namespaceName.startsWith(".")) {
            throw new IllegalArgumentException("network namespace name must match " + NETNS_NAME
                    + " and not start with '.': " + namespaceName);
        }
        AtomicReference<Object> outcome = new AtomicReference<>();
        Thread opener = new Thread(() -> {
            try {
                outcome.set(createSocket(protocol, namespaceName));
            } catch (RuntimeException | Error e) {
                outcome.set(e);
            }
        }, "netlink-open-netns-" + namespaceName);
        opener.setDaemon(true);
        opener.start();
        try {
            opener.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NetlinkException("interrupted while opening a netlink socket in netns " + namespaceName, 0, e);
        }
        Object result = outcome.get();
        if (result instanceof Integer socketFd) {
            return new NetlinkSocket(socketFd, namespaceName);
        }
        if (result instanceof RuntimeException e) {
            throw e;
        }
        throw (Error) result;
    }

    /** Runs on the calling thread; with a namespace, that thread is switched into it and must end afterwards. */
    private static int createSocket(int protocol, String namespaceName) {
        if (namespaceName != null) {
            int nsFd;
            try {
                nsFd = LibC.open("/run/netns/" + namespaceName, LibC.O_RDONLY | LibC.O_CLOEXEC);
            } catch (LastErrorException e) {
                throw new NetlinkException("cannot open /run/netns/" + namespaceName, e.getErrorCode(), e);
            }
            try {
                LibC.setns(nsFd, LibC.CLONE_NEWNET);
            } catch (LastErrorException e) {
                throw new NetlinkException("cannot enter network namespace " + namespaceName, e.getErrorCode(), e);
            } finally {
                closeQuietly(nsFd);
            }
        }
        try {
            return LibC.socket(LibC.AF_NETLINK, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, protocol);
        } catch (LastErrorException e) {
            throw new NetlinkException("cannot create netlink socket (protocol " + protocol + ")"
                    + (namespaceName == null ? "" : " in netns " + namespaceName), e.getErrorCode(), e);
        }
    }

    /** The port id the kernel assigned at bind; replies carry it in nlmsg_pid. */
    public int portId() {
        return portId;
    }

    /** The network namespace name given at open, or null for the process's own. */
    public String namespace() {
        return namespace;
    }

    /**
     * Sends the bytes between position and limit of a direct buffer as one datagram to the kernel, first raising
     * SO_SNDBUF if the datagram would not fit. The buffer's position is left unchanged.
     */
    public void send(ByteBuffer datagram) {
        requireOpen();
        if (!datagram.isDirect()) {
            throw new IllegalArgumentException("netlink datagrams are sent from direct buffers");
        }
        int length = datagram.remaining();
        ensureSendBuffer(length + SEND_OVERHEAD);
        Pointer start = Native.getDirectBufferPointer(datagram).share(datagram.position());
        while (true) {
            try {
                long sent = LibC.sendto(fd, start, length, 0, kernelAddress, SOCKADDR_NL_SIZE);
                if (sent != length) {
                    throw new NetlinkException("short netlink send: " + sent + " of " + length + " bytes" + where(), 0);
                }
                return;
            } catch (LastErrorException e) {
                if (e.getErrorCode() != LibC.EINTR) {
                    throw new NetlinkException("cannot send " + length + " bytes on netlink" + where(), e.getErrorCode(), e);
                }
            }
        }
    }

    /**
     * Receives one datagram (one or more netlink messages) and returns a little-endian view of it that is valid
     * until the next receive. Blocks up to the receive timeout (30 s unless set); with {@code wait == false}
     * returns null at once when nothing is queued.
     */
    public ByteBuffer receive(boolean wait) {
        requireOpen();
        while (true) {
            try {
                long n = LibC.recv(fd, receivePointer, receiveBuffer.capacity(), (wait ? 0 : LibC.MSG_DONTWAIT) | LibC.MSG_TRUNC);
                if (n > receiveBuffer.capacity()) {
                    throw new NetlinkException("netlink datagram of " + n + " bytes exceeds the " + receiveBuffer.capacity()
                            + "-byte receive buffer" + where(), 0);
                }
                ByteBuffer view = receiveBuffer.duplicate().order(ByteOrder.nativeOrder());
                view.clear().limit((int) n);
                return view.slice().order(ByteOrder.nativeOrder());
            } catch (LastErrorException e) {
                int errno = e.getErrorCode();
                if (errno == LibC.EINTR) {
                    continue;
                }
                if (errno == LibC.EAGAIN) {
                    if (!wait) {
                        return null;
                    }
                    throw new NetlinkException("no netlink reply within the receive timeout" + where(), errno, e);
                }
                throw new NetlinkException("cannot receive on netlink" + where()
                        + (errno == LibC.ENOBUFS ? " (replies were dropped: the receive buffer overflowed)" : ""), errno, e);
            }
        }
    }

    /** Raises SO_RCVBUF (with SO_RCVBUFFORCE when allowed) so that {@code bytes} of queued replies fit. */
    public void ensureReceiveBuffer(long bytes) {
        requireOpen();
        if (bytes <= receiveBufferBytes) {
            return;
        }
        receiveBufferBytes = raise(LibC.SO_RCVBUF, LibC.SO_RCVBUFFORCE, bytes, "SO_RCVBUF");
    }

    /** Raises SO_SNDBUF (with SO_SNDBUFFORCE when allowed) so that a datagram of {@code bytes} can be sent. */
    public void ensureSendBuffer(long bytes) {
        requireOpen();
        if (bytes <= sendBufferBytes) {
            return;
        }
        sendBufferBytes = raise(LibC.SO_SNDBUF, LibC.SO_SNDBUFFORCE, bytes, "SO_SNDBUF");
    }

    public void setReceiveTimeout(Duration timeout) {
        requireOpen();
        Memory timeval = new Memory(16);
        timeval.setLong(0, timeout.toSeconds());
        timeval.setLong(8, timeout.toNanosPart() / 1000);
        try {
            LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVTIMEO, timeval, 16);
        } catch (LastErrorException e) {
            throw new NetlinkException("cannot set SO_RCVTIMEO" + where(), e.getErrorCode(), e);
        }
    }

    /** The kernel's current SO_SNDBUF and SO_RCVBUF (it reports twice what was asked, for its bookkeeping). */
    public long[] bufferSizes() {
        return new long[] {getInt(LibC.SOL_SOCKET, LibC.SO_SNDBUF), getInt(LibC.SOL_SOCKET, LibC.SO_RCVBUF)};
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            closeQuietly(fd);
        }
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        return "netlink socket fd " + fd + " port " + portId + where();
    }

    /** The kernel doubles the value it is given (and caps it at INT_MAX); ask for half of what is needed. */
    private long raise(int option, int forceOption, long bytes, String label) {
        int request = (int) Math.min(Integer.MAX_VALUE / 2, (bytes + 1) / 2 + 4096);
        try {
            setInt(LibC.SOL_SOCKET, forceOption, request, label + "FORCE");
        } catch (LastErrorException forceRefused) {
            try {
                setInt(LibC.SOL_SOCKET, option, request, label);
            } catch (LastErrorException e) {
                throw new NetlinkException("cannot set " + label + " to " + bytes + where(), e.getErrorCode(), e);
            }
        }
        long now = getInt(LibC.SOL_SOCKET, option);
        if (now < bytes) {
            throw new NetlinkException(label + " is " + now + " bytes but " + bytes + " are needed (without CAP_NET_ADMIN"
                    + " the limit is net.core." + (option == LibC.SO_SNDBUF ? "wmem_max" : "rmem_max") + ")" + where(), 0);
        }
        return now;
    }

    private void setInt(int level, int option, int value, String label) {
        synchronized (intValue) {
            intValue.setInt(0, value);
            LibC.setsockopt(fd, level, option, intValue, 4);
        }
    }

    private int getInt(int level, int option) {
        Memory length = new Memory(4);
        length.setInt(0, 4);
        synchronized (intValue) {
            try {
                LibC.getsockopt(fd, level, option, intValue, length);
            } catch (LastErrorException e) {
                throw new NetlinkException("cannot read socket option " + option + where(), e.getErrorCode(), e);
            }
            return intValue.getInt(0);
        }
    }

    private static Memory sockaddrNl(int pid) {
        Memory address = new Memory(SOCKADDR_NL_SIZE);
        address.clear();
        address.setShort(0, (short) LibC.AF_NETLINK);
        address.setInt(4, pid);
        return address;
    }

    private String where() {
        return namespace == null ? "" : " (netns " + namespace + ")";
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
    }

    private static void closeQuietly(int fd) {
        try {
            LibC.close(fd);
        } catch (LastErrorException ignored) {
            // Nothing useful to do: the descriptor is gone either way.
        }
    }
}
