package dev.railyard.netlink;

import java.nio.charset.StandardCharsets;

/** Checks of names and comments before they reach the kernel, so that errors name the object and field. */
final class Names {

    /** NFT_NAME_MAXLEN is 256 including the terminating NUL. */
    static final int MAX_NAME_BYTES = 255;

    private Names() {
    }

    static String check(String what, String name, String context) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException(context + ": " + what + " name is empty");
        }
        // A UTF-8 char is at most 3 bytes per UTF-16 unit, so short names need no encoding to be checked.
        if (name.length() * 3 > MAX_NAME_BYTES) {
            int bytes = name.getBytes(StandardCharsets.UTF_8).length;
            if (bytes > MAX_NAME_BYTES) {
                throw new IllegalArgumentException(context + ": " + what + " name is " + bytes
                        + " bytes, the kernel allows " + MAX_NAME_BYTES + ": " + name.substring(0, 40) + "...");
            }
        }
        if (name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException(context + ": " + what + " name contains a NUL character: " + name);
        }
        return name;
    }

    /** nft stores comments as udata of at most 128 bytes including the NUL; longer ones it refuses. */
    static String checkComment(String comment, String context) {
        if (comment == null) {
            return null;
        }
        if (comment.indexOf('\0') >= 0) {
            throw new IllegalArgumentException(context + ": comment contains a NUL character");
        }
        int bytes = comment.getBytes(StandardCharsets.UTF_8).length;
        if (bytes + 1 > NfConst.UDATA_COMMENT_MAXLEN) {
            throw new IllegalArgumentException(context + ": comment is " + bytes + " bytes, nft allows "
                    + (NfConst.UDATA_COMMENT_MAXLEN - 1));
        }
        return comment;
    }
}
