package dev.railyard.proxy.render;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LineBufferTest {

    @Test
    void wordsNumbersAndChainLinesFormIptablesRestoreLines() {
        LineBuffer buffer = new LineBuffer(16);
        buffer.word("-A").word("KUBE-SEP-", "ABCDEF").word("-m").word(-42).word(0).end();
        buffer.chainLine("KUBE-SVC-", "XYZ");

        assertThat(buffer).hasToString("-A KUBE-SEP-ABCDEF -m -42 0\n:KUBE-SVC-XYZ - [0:0]\n");
        assertThat(buffer.lines()).isEqualTo(2);
        assertThat(buffer.length()).isEqualTo(buffer.toString().length());
    }

    @Test
    void contentCrossingManySegmentsReadsBackAsWrittenFromEveryAccessor() throws IOException {
        LineBuffer buffer = new LineBuffer(16);
        StringBuilder expected = new StringBuilder();
        writeRandomLines(buffer, expected, new SplittableRandom(7), 3 * LineBuffer.MAX_SEGMENT);

        String text = expected.toString();
        assertThat(buffer.length()).isEqualTo(text.length());
        assertThat(buffer.toString()).isEqualTo(text);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        buffer.writeTo(out);
        assertThat(out.toString(StandardCharsets.US_ASCII)).isEqualTo(text);
        SplittableRandom random = new SplittableRandom(8);
        for (int i = 0; i < 200; i++) {
            int from = random.nextInt(text.length());
            int to = from + random.nextInt(Math.min(3 * LineBuffer.MAX_SEGMENT / 2, text.length() - from + 1));
            assertThat(new String(buffer.copyOfRange(from, to), StandardCharsets.US_ASCII))
                    .isEqualTo(text.substring(from, to));
        }
        assertThat(buffer.copyOfRange(text.length(), text.length())).isEmpty();
    }

    @Test
    void appendedRangesAndPrependedHeadKeepOrderAcrossSegments() {
        LineBuffer body = new LineBuffer(64);
        StringBuilder bodyText = new StringBuilder();
        writeRandomLines(body, bodyText, new SplittableRandom(1), 2 * LineBuffer.MAX_SEGMENT + 100);
        LineBuffer head = new LineBuffer(64);
        StringBuilder headText = new StringBuilder();
        writeRandomLines(head, headText, new SplittableRandom(2), LineBuffer.MAX_SEGMENT + 17);

        LineBuffer ranges = new LineBuffer(32);
        int from = LineBuffer.MAX_SEGMENT - 5;
        int to = 2 * LineBuffer.MAX_SEGMENT + 3;
        ranges.append(body, from, to, 0);
        ranges.append(body, 0, 10, 0);
        assertThat(ranges.toString()).isEqualTo(bodyText.substring(from, to) + bodyText.substring(0, 10));

        int bodyLines = body.lines();
        body.prepend(head);
        body.raw("COMMIT");
        body.end();
        String joined = headText + bodyText.toString() + "COMMIT\n";
        assertThat(body.toString()).isEqualTo(joined);
        assertThat(body.lines()).isEqualTo(head.lines() + bodyLines + 1);
        assertThat(new String(body.copyOfRange(headText.length() - 3, headText.length() + 3),
                StandardCharsets.US_ASCII)).isEqualTo(joined.substring(headText.length() - 3, headText.length() + 3));
    }

    @Test
    void resetReusesSegmentsAndReleaseDropsThemWithoutLosingNewContent() {
        LineBuffer buffer = new LineBuffer(16);
        for (int round = 0; round < 3; round++) {
            StringBuilder expected = new StringBuilder();
            writeRandomLines(buffer, expected, new SplittableRandom(round), LineBuffer.MAX_SEGMENT * (3 - round));
            assertThat(buffer.toString()).isEqualTo(expected.toString());
            if (round == 1) {
                buffer.release();
            } else {
                buffer.reset();
            }
            assertThat(buffer.length()).isZero();
            assertThat(buffer.lines()).isZero();
        }
    }

    @Test
    void aRenderLoopWithAPrependedHeadSettlesOnTheSegmentsItHas() {
        LineBuffer body = new LineBuffer(64);
        LineBuffer head = new LineBuffer(64);
        int[] held = new int[6];
        for (int round = 0; round < held.length; round++) {
            body.reset();
            head.reset();
            StringBuilder bodyText = new StringBuilder();
            StringBuilder headText = new StringBuilder();
            writeRandomLines(body, bodyText, new SplittableRandom(round), 3 * LineBuffer.MAX_SEGMENT);
            writeRandomLines(head, headText, new SplittableRandom(100 + round), LineBuffer.MAX_SEGMENT + 5000);

            body.prepend(head);

            assertThat(body.toString()).isEqualTo(headText.toString() + bodyText);
            held[round] = body.heldSegments();
        }
        assertThat(held[held.length - 1]).isEqualTo(held[2]);
        body.release();
        assertThat(body.heldSegments()).isEqualTo(1);
    }

    @Test
    void aDiscardingBufferCountsLinesAndHoldsNothing() {
        LineBuffer buffer = LineBuffer.discarding();
        buffer.word("-A").word("X").word(5).end();
        buffer.chainLine("KUBE-SEP-", "A");

        assertThat(buffer.lines()).isEqualTo(2);
        assertThat(buffer.length()).isZero();
    }

    @Test
    void rangesOutsideTheContentAreRefused() {
        LineBuffer buffer = new LineBuffer(16);
        buffer.word("abc").end();

        assertThatThrownBy(() -> buffer.copyOfRange(2, 5)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> new LineBuffer(16).append(buffer, 3, 2, 0))
                .isInstanceOf(IndexOutOfBoundsException.class);
    }

    private static void writeRandomLines(LineBuffer buffer, StringBuilder expected, SplittableRandom random,
                                         int bytes) {
        while (expected.length() < bytes) {
            int words = 1 + random.nextInt(12);
            for (int w = 0; w < words; w++) {
                String separator = w == 0 ? "" : " ";
                if (random.nextInt(4) == 0) {
                    int number = random.nextInt(200_000) - 100;
                    buffer.word(number);
                    expected.append(separator).append(number);
                } else {
                    String word = "w" + Long.toString(random.nextLong() & Long.MAX_VALUE, 36)
                            .repeat(1 + random.nextInt(3));
                    buffer.word(word);
                    expected.append(separator).append(word);
                }
            }
            buffer.end();
            expected.append('\n');
        }
    }
}
