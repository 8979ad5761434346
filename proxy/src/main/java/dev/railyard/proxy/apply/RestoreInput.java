package dev.railyard.proxy.apply;

import java.io.IOException;
import java.io.OutputStream;

/**
 * What iptables-restore reads on stdin. Written twice at most: once to the process, and once more to pick out
 * the lines an error names. A writer rather than an array, so that a ruleset held in pieces (tens of megabytes
 * on a large cluster) never has to be joined into one.
 */
@FunctionalInterface
public interface RestoreInput {

    void writeTo(OutputStream out) throws IOException;

    /** The first {@code length} bytes of {@code bytes}. */
    static RestoreInput of(byte[] bytes, int length) {
        if (length < 0 || length > bytes.length) {
            throw new IllegalArgumentException("length " + length + " outside buffer of " + bytes.length + " bytes");
        }
        return out -> out.write(bytes, 0, length);
    }
}
