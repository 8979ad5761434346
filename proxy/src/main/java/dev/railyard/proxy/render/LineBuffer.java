package dev.railyard.proxy.render;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * An iptables-restore line builder: words are appended with single spaces and a line is closed with
 * {@link #end()}. Everything written is ASCII (names are validated upstream), so characters are stored as bytes
 * without an encoder.
 *
 * <p>The bytes live in segments that double up to {@link #MAX_SEGMENT} and then stay at that size, rather than in
 * one array that doubles: the nat rules of a 10,000-service cluster are 40 MB, and one growing array needed 64 MB
 * of capacity and, while growing, the old and the new array at once (96 MB) in a daemon that should fit in
 * 300 MB. Segments are kept for the next render after {@link #reset()}, so a render loop allocates nothing once
 * they have grown to their working size; {@link #release()} gives all but the first back when a caller knows the
 * next render will be small. Offsets ({@link #length()}, {@link #append(LineBuffer, int, int, int)},
 * {@link #copyOfRange}) count the bytes written, whatever segments hold them.
 */
public final class LineBuffer {
    /**
     * Big enough that a 40 MB ruleset is a couple of hundred segments; small enough that the unused tail is noise
     * and that G1 allocates a segment like any other array. G1 regions are at least 1 MB and an array of half a
     * region or more is "humongous": it takes regions of its own and can start a concurrent cycle. In a loop that
     * released the buffers before each partial render, 1 MiB segments gave a p50 of 7.4-11.1 ms under G1 against
     * 3.5-5.8 ms with these.
     */
    static final int MAX_SEGMENT = 256 << 10;

    /** Segments {@code [0, count)} hold the content; {@code [count, pooled)} are kept for reuse. */
    private byte[][] segments;
    /** Offset of each segment's first byte in the content. */
    private int[] starts;
    private int count;
    private int pooled;
    private byte[] current;
    private int position;
    private int lines;
    private boolean lineStart = true;
    private final boolean discarding;

    public LineBuffer(int initialCapacity) {
        this(initialCapacity, false);
    }

    private LineBuffer(int initialCapacity, boolean discarding) {
        this.discarding = discarding;
        this.segments = new byte[4][];
        this.starts = new int[4];
        this.current = new byte[Math.min(MAX_SEGMENT, Math.max(16, initialCapacity))];
        this.segments[0] = current;
        this.count = 1;
        this.pooled = 1;
    }

    /** A buffer that only counts lines: what a partial sync renders for services it does not rewrite. */
    public static LineBuffer discarding() {
        return new LineBuffer(64, true);
    }

    /** Empties the buffer and keeps its segments for what is written next. */
    public void reset() {
        count = 1;
        current = segments[0];
        position = 0;
        lines = 0;
        lineStart = true;
    }

    /** Empties the buffer and lets go of every segment but the first. */
    public void release() {
        reset();
        Arrays.fill(segments, 1, pooled, null);
        pooled = 1;
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
        byte[] b = current;
        int at = position;
        for (int i = 0; i < n; i++) {
            b[at + i] = (byte) text.charAt(i);
        }
        position = at + n;
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
        int digits = 1;
        for (int v = value; v >= 10; v /= 10) {
            digits++;
        }
        ensure(digits);
        int at = position + digits;
        for (int i = 1; i <= digits; i++) {
            current[at - i] = (byte) ('0' + value % 10);
            value /= 10;
        }
        position = at;
        lineStart = false;
        return this;
    }

    /** Ends the line. */
    public void end() {
        if (!discarding) {
            ensure(1);
            current[position++] = '\n';
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
            current[position++] = ' ';
        }
    }

    private void ensure(int extra) {
        if (position + extra > current.length) {
            nextSegment(extra);
        }
    }

    private void nextSegment(int needed) {
        if (count == segments.length) {
            segments = Arrays.copyOf(segments, count * 2);
            starts = Arrays.copyOf(starts, count * 2);
        }
        starts[count] = starts[count - 1] + position;
        if (count < pooled && segments[count].length >= needed) {
            current = segments[count];
        } else {
            current = new byte[Math.max(needed, Math.min(MAX_SEGMENT, current.length * 2))];
            segments[count] = current;
            pooled = Math.max(pooled, count + 1);
        }
        count++;
        position = 0;
    }

    /** Appends everything {@code other} holds. */
    public void append(LineBuffer other) {
        append(other, 0, other.length(), other.lines);
    }

    /** Appends bytes {@code [from, to)} of {@code source}, which hold {@code lineCount} whole lines. */
    public void append(LineBuffer source, int from, int to, int lineCount) {
        source.checkRange(from, to);
        for (int s = source.segmentAt(from); from < to; s++) {
            int segmentEnd = source.starts[s] + source.usedIn(s);
            int piece = Math.min(to, segmentEnd) - from;
            copyIn(source.segments[s], from - source.starts[s], piece);
            from += piece;
        }
        lines += lineCount;
    }

    /** Appends bytes {@code [from, to)} of {@code source}, which hold {@code lineCount} whole lines. */
    public void append(byte[] source, int from, int to, int lineCount) {
        copyIn(source, from, to - from);
        lines += lineCount;
    }

    private void copyIn(byte[] source, int from, int length) {
        while (length > 0) {
            if (position == current.length) {
                nextSegment(1);
            }
            int piece = Math.min(length, current.length - position);
            System.arraycopy(source, from, current, position, piece);
            position += piece;
            from += piece;
            length -= piece;
        }
    }

    /**
     * Puts {@code head}'s content in front of this one's: joins a small head to a large body without copying the
     * body, where appending both to a third buffer would hold the body twice. The head is copied into spare
     * segments of this buffer where it has them, so a render loop reaches a steady state without allocating.
     */
    public void prepend(LineBuffer head) {
        int headLength = head.length();
        if (headLength == 0) {
            return;
        }
        int pieces = (headLength + MAX_SEGMENT - 1) / MAX_SEGMENT;
        byte[][] front = new byte[pieces][];
        int spares = pooled;
        for (int p = 0; p < pieces; p++) {
            int size = Math.min(MAX_SEGMENT, headLength - p * MAX_SEGMENT);
            int spare = spares - 1;
            while (spare >= count && segments[spare].length < size) {
                spare--;
            }
            if (spare >= count) {
                front[p] = segments[spare];
                segments[spare] = segments[spares - 1];
                spares--;
            } else {
                front[p] = new byte[size];
            }
            head.copyInto(p * MAX_SEGMENT, size, front[p]);
        }
        int total = pieces + spares;
        byte[][] newSegments = new byte[Math.max(total, segments.length)][];
        int[] newStarts = new int[newSegments.length];
        for (int p = 0; p < pieces; p++) {
            newSegments[p] = front[p];
            newStarts[p] = p * MAX_SEGMENT;
        }
        System.arraycopy(segments, 0, newSegments, pieces, spares);
        for (int s = 0; s < count; s++) {
            newStarts[pieces + s] = starts[s] + headLength;
        }
        segments = newSegments;
        starts = newStarts;
        count += pieces;
        pooled = pieces + spares;
        lines += head.lines;
    }

    /** Copies {@code length} bytes from offset {@code from} into the start of {@code target}. */
    private void copyInto(int from, int length, byte[] target) {
        int at = 0;
        for (int s = segmentAt(from); at < length; s++) {
            int offset = from + at - starts[s];
            int piece = Math.min(length - at, usedIn(s) - offset);
            System.arraycopy(segments[s], offset, target, at, piece);
            at += piece;
        }
    }

    /** A copy of bytes {@code [from, to)}. */
    public byte[] copyOfRange(int from, int to) {
        checkRange(from, to);
        byte[] result = new byte[to - from];
        copyInto(from, result.length, result);
        return result;
    }

    /** Bytes in use in {@code segment}: up to where the next one starts, or {@link #position} in the last. */
    private int usedIn(int segment) {
        return segment == count - 1 ? position : starts[segment + 1] - starts[segment];
    }

    /** The segment holding offset {@code at}; the last one for the end offset. */
    private int segmentAt(int at) {
        int low = 0;
        int high = count - 1;
        while (low < high) {
            int mid = (low + high + 1) >>> 1;
            if (starts[mid] <= at) {
                low = mid;
            } else {
                high = mid - 1;
            }
        }
        // An offset right at a segment's end belongs to the next one when that one exists.
        while (low < count - 1 && at >= starts[low + 1]) {
            low++;
        }
        return low;
    }

    private void checkRange(int from, int to) {
        if (from < 0 || to < from || to > length()) {
            throw new IndexOutOfBoundsException("range [" + from + ", " + to + ") outside " + length() + " bytes");
        }
    }

    /** Segments held, in use or kept for reuse. */
    int heldSegments() {
        return pooled;
    }

    /** Lines ended so far (a discarding buffer counts them too). */
    public int lines() {
        return lines;
    }

    public int length() {
        return starts[count - 1] + position;
    }

    public byte[] toByteArray() {
        return copyOfRange(0, length());
    }

    public void writeTo(OutputStream out) throws IOException {
        for (int s = 0; s < count; s++) {
            out.write(segments[s], 0, usedIn(s));
        }
    }

    @Override
    public String toString() {
        return new String(toByteArray(), StandardCharsets.US_ASCII);
    }
}
