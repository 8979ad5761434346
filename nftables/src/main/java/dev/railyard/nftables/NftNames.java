package dev.railyard.nftables;

/**
 * What may stand in an nft script unquoted. Every object checks its names, comments and tokens here when it is
 * built, so a string that reached an object can never change what a script means: no name can end a command
 * ({@code ;}, a newline), open a block, start a comment or a quoted string.
 *
 * <p>nft also reads a bare keyword ({@code missing}, {@code counter}...) as that keyword, not as a name; names
 * built from cluster data always start with a prefix such as {@code service-}, so they never are one.
 */
public final class NftNames {
    /** NFT_NAME_MAXLEN is 256, with the terminating NUL. */
    private static final int MAX_NAME_LENGTH = 255;
    /** nft refuses longer comments ("comment too long, 128 characters maximum allowed"). */
    public static final int MAX_COMMENT_LENGTH = 128;

    private NftNames() {
    }

    /**
     * @return {@code name} if it is nft's identifier: a letter, '_' or '.', then letters, digits and
     *         {@code /-_.} (checked char by char: a full sync names some hundred thousand chains)
     */
    public static String requireIdentifier(String name, String what) {
        if (!isIdentifier(name)) {
            throw new IllegalArgumentException(what + " \"" + name + "\" is not a valid nftables name "
                    + "(a letter, '_' or '.', then letters, digits or /-_. ; at most 255 characters)");
        }
        return name;
    }

    private static boolean isIdentifier(String name) {
        if (name == null || name.isEmpty() || name.length() > MAX_NAME_LENGTH) {
            return false;
        }
        char first = name.charAt(0);
        if (!isLetter(first) && first != '_' && first != '.') {
            return false;
        }
        for (int i = 1; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!isLetter(c) && !(c >= '0' && c <= '9') && c != '/' && c != '-' && c != '_' && c != '.') {
                return false;
            }
        }
        return true;
    }

    private static boolean isLetter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    /** @return {@code comment} if it can be written between double quotes; null stays null */
    public static String requireComment(String comment) {
        if (comment == null) {
            return null;
        }
        if (comment.length() > MAX_COMMENT_LENGTH) {
            throw new IllegalArgumentException("comment \"" + comment + "\" is longer than "
                    + MAX_COMMENT_LENGTH + " characters");
        }
        for (int i = 0; i < comment.length(); i++) {
            char c = comment.charAt(i);
            if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
                throw new IllegalArgumentException("comment \"" + comment + "\" holds a character nft cannot "
                        + "quote (only printable ASCII without '\"' and '\\')");
            }
        }
        return comment;
    }

    /**
     * @return {@code text} if it holds no character that could end or escape the statement it is part of: no
     *         newline or other control character, ';', '#', '"' or '\'. Rule bodies and element keys and values
     *         are checked this way; their comments are separate fields.
     */
    public static String requireStatementText(String text, String what) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException(what + " is empty");
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c > 0x7e || c == ';' || c == '#' || c == '"' || c == '\\') {
                throw new IllegalArgumentException(what + " \"" + text + "\" holds '" + printable(c)
                        + "', which nft would not read as part of it");
            }
        }
        return text;
    }

    private static String printable(char c) {
        return c < 0x20 || c > 0x7e ? String.format("\\u%04x", (int) c) : String.valueOf(c);
    }
}
