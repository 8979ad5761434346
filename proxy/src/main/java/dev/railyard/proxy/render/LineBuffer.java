package dev.railyard.proxy.render;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * An iptables-restore line builder over one reusable byte array: words are appended with single spaces and a
 * line is closed with {@link #end()}. Everything written is ASCII (names are validated upstream), so characters
 * are stored as bytes without an encoder, and nothing is allocated once the array has grown to its working size.
 */
public final class LineBuffer {
    private byte[] bytes;
    private int length;
    private int lines;
    private boolean lineStart = true;
    private final boolean discarding;

    public LineBuffer(int initialCapacity) {
        this(initialCapacity, false);
    }

    private LineBuffer(int initialCapacity, boolean discarding) {
        this.bytes = new byte[Math.max(16, initialCapacity)];
        this.discarding = discarding;
    }

    /** A buffer that only counts lines: what a partial sync renders for services it does not rewrite. */
    public static LineBuffer discarding() {
        return new LineBuffer(64, true);
    }

    public void reset() {
        length = 0;
        lines = 0;
        lineStart = true;
    }

    /** Starts the next word. */
    public LineBuffer word(String word) {
        space();
        return raw(word);
    }

    /** Starts the next word as prefix + suffix, e.g. a chain prefix and its hash, without building a String. */
    public LineBuffer word(String prefix, String suffix) {
        space();
        raw(prefix);
        return raw(suffix);
    }

    public LineBuffer word(int number) {
        space();
        return number(number);
    }

    /** Appends to the current word. */
    public LineBuffer raw(String text) {
        if (discarding) {
            lineStart = false;
            return this;
        }
        int n = text.length();
        ensure(n);
        byte[] b = bytes;
        int at = length;
        for (int i = 0; i < n; i++) {
            b[at + i] = (byte) text.charAt(i);
        }
        length = at + n;
        lineStart = false;
        return this;
    }

    /** Appends a decimal number to the current word. */
    public LineBuffer number(int value) {
        if (discarding) {
            lineStart = false;
            return this;
        }
        if (value < 0) {
            raw("-");
            value = -value;
        }
        ensure(10);
        int digits = 1;
        for (int v = value; v >= 10; v /= 10) {
            digits++;
        }
        int at = length + digits;
        for (int i = 1; i <= digits; i++) {
            bytes[at - i] = (byte) ('0' + value % 10);
            value /= 10;
        }
        length = at;
        lineStart = false;
        return this;
    }

    /** Ends the line. */
    public void end() {
        if (!discarding) {
            ensure(1);
            bytes[length++] = '\n';
        }
        lines++;
        lineStart = true;
    }

    /** Writes ":CHAIN - [0:0]", the line that declares (and, with --noflush, flushes) a chain. */
    public void chainLine(String prefix, String suffix) {
        raw(":");
        raw(prefix);
        raw(suffix);
        raw(" - [0:0]");
        end();
    }

    public void chainLine(String chain) {
        chainLine(chain, "");
    }

    private void space() {
        if (!lineStart) {
            if (discarding) {
                return;
            }
            ensure(1);
            bytes[length++] = ' ';
        }
    }

    private void ensure(int extra) {
        if (length + extra > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + extra));
        }
    }

    public void append(LineBuffer other) {
        ensure(other.length);
        System.arraycopy(other.bytes, 0, bytes, length, other.length);
        length += other.length;
        lines += other.lines;
    }

    /** Appends bytes {@code [from, to)} of {@code source}, which hold {@code lineCount} whole lines. */
    public void append(byte[] source, int from, int to, int lineCount) {
        int count = to - from;
        ensure(count);
        System.arraycopy(source, from, bytes, length, count);
        length += count;
        lines += lineCount;
    }

    /**
     * Puts {@code head}'s content in front of this one's: joins a small head to a large body in the body's own
     * array, where appending both to a third buffer would hold the body twice.
     */
    public void prepend(LineBuffer head) {
        ensure(head.length);
        System.arraycopy(bytes, 0, bytes, head.length, length);
        System.arraycopy(head.bytes, 0, bytes, 0, head.length);
        length += head.length;
        lines += head.lines;
    }

    /** Lines ended so far (a discarding buffer counts them too). */
    public int lines() {
        return lines;
    }

    public int length() {
        return length;
    }

    /** The live backing array; valid up to {@link #length()} until the next write. */
    public byte[] array() {
        return bytes;
    }

    public byte[] toByteArray() {
        return Arrays.copyOf(bytes, length);
    }

    public void writeTo(OutputStream out) throws IOException {
        out.write(bytes, 0, length);
    }

    @Override
    public String toString() {
        return new String(bytes, 0, length, StandardCharsets.US_ASCII);
    }
}
