package dev.railyard.netlink;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * The few libc calls Java 17 has no API for. Direct-mapped (static natives) because {@link NetlinkSocket} sends
 * and receives through them on every transaction; everything above the syscall is Java.
 */
final class LibC {

    static final int AF_NETLINK = 16;
    static final int SOCK_RAW = 3;
    static final int SOCK_CLOEXEC = 0x80000;
    static final int SOL_SOCKET = 1;
    static final int SO_SNDBUF = 7;
    static final int SO_RCVBUF = 8;
    static final int SO_RCVTIMEO = 20;
    static final int SO_SNDBUFFORCE = 32;
    static final int SO_RCVBUFFORCE = 33;
    static final int SOL_NETLINK = 270;
    static final int NETLINK_CAP_ACK = 10;
    static final int NETLINK_EXT_ACK = 11;
    static final int MSG_DONTWAIT = 0x40;
    static final int MSG_TRUNC = 0x20;
    static final int O_RDONLY = 0;
    static final int O_RDWR = 2;
    static final int O_NONBLOCK = 0x800;
    static final int O_CLOEXEC = 0x80000;
    static final int CLONE_NEWNET = 0x40000000;

    static final int EINTR = 4;
    static final int EAGAIN = 11;
    static final int ENOBUFS = 105;

    static {
        Native.register(LibC.class, "c");
    }

    private LibC() {
    }

    static native int socket(int domain, int type, int protocol) throws LastErrorException;

    static native int bind(int fd, Pointer addr, int addrlen) throws LastErrorException;

    static native int getsockname(int fd, Pointer addr, Pointer addrlen) throws LastErrorException;

    static native int setsockopt(int fd, int level, int name, Pointer value, int len) throws LastErrorException;

    static native int getsockopt(int fd, int level, int name, Pointer value, Pointer len) throws LastErrorException;

    static native long sendto(int fd, Pointer buf, long len, int flags, Pointer addr, int addrlen) throws LastErrorException;

    static native long recv(int fd, Pointer buf, long len, int flags) throws LastErrorException;

    static native int close(int fd) throws LastErrorException;

    static native int open(String path, int flags) throws LastErrorException;

    static native int setns(int fd, int nstype) throws LastErrorException;

    static native String strerror(int errno);

    // TUN devices (TunDevice): open /dev/net/tun, TUNSETIFF, then packets through read and write.

    static final long TUNSETIFF = 0x400454caL;
    static final short POLLIN = 0x1;

    static native int ioctl(int fd, long request, Pointer argument) throws LastErrorException;

    static native long read(int fd, Pointer buffer, long count) throws LastErrorException;

    static native long write(int fd, Pointer buffer, long count) throws LastErrorException;

    static native int poll(Pointer fds, long count, int timeoutMillis) throws LastErrorException;
}
