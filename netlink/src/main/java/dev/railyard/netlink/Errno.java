package dev.railyard.netlink;

import java.util.Map;

/** Names the errno values nf_tables answers with, so that messages read "ENOENT (No such file or directory)". */
public final class Errno {

    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(1, "EPERM"), Map.entry(2, "ENOENT"), Map.entry(4, "EINTR"), Map.entry(7, "E2BIG"),
            Map.entry(9, "EBADF"), Map.entry(11, "EAGAIN"), Map.entry(12, "ENOMEM"), Map.entry(13, "EACCES"),
            Map.entry(16, "EBUSY"), Map.entry(17, "EEXIST"), Map.entry(22, "EINVAL"), Map.entry(23, "ENFILE"),
            Map.entry(24, "EMFILE"), Map.entry(28, "ENOSPC"), Map.entry(31, "EMLINK"), Map.entry(34, "ERANGE"),
            Map.entry(36, "ENAMETOOLONG"), Map.entry(40, "ELOOP"), Map.entry(61, "ENODATA"),
            Map.entry(75, "EOVERFLOW"), Map.entry(90, "EMSGSIZE"), Map.entry(93, "EPROTONOSUPPORT"),
            Map.entry(95, "EOPNOTSUPP"), Map.entry(97, "EAFNOSUPPORT"), Map.entry(105, "ENOBUFS"),
            Map.entry(110, "ETIMEDOUT"));

    private Errno() {
    }

    /** {@code "ENOENT (No such file or directory)"}; unknown values as {@code "errno 123 (...)"}. */
    public static String describe(int errno) {
        String text;
        try {
            text = LibC.strerror(errno);
        } catch (RuntimeException | LinkageError e) {
            text = null;
        }
        String name = NAMES.getOrDefault(errno, "errno " + errno);
        return text == null ? name : name + " (" + text + ")";
    }

    /** The symbolic name alone, e.g. {@code "ENOENT"}. */
    public static String name(int errno) {
        return NAMES.getOrDefault(errno, "errno " + errno);
    }
}
