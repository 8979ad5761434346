package dev.railyard.netlink;

/**
 * A failure of the netlink socket itself (a syscall returned an error, the kernel's reply could not be read), as
 * opposed to the kernel refusing an operation, which {@link CommitResult} reports per operation.
 */
public class NetlinkException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int errno;

    public NetlinkException(String message, int errno) {
        super(errno == 0 ? message : message + ": " + Errno.describe(errno));
        this.errno = errno;
    }

    public NetlinkException(String message, int errno, Throwable cause) {
        super(errno == 0 ? message : message + ": " + Errno.describe(errno), cause);
        this.errno = errno;
    }

    /** The positive errno, or 0 when the failure was not a syscall error. */
    public int errno() {
        return errno;
    }
}
