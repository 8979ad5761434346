package dev.railyard.proxy.apply;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class RestoreErrorsTest {

    private static final byte[] INPUT = "*filter\n:A - [0:0]\n-A A -j ACCEPT\n-A A --bogus\n-A A -j DROP\nCOMMIT\n"
            .getBytes(StandardCharsets.UTF_8);

    @Test
    void findsTheLineInEveryFormIptablesRestoreUses() {
        assertThat(RestoreErrors.failedLine("iptables-restore: line 4 failed: No chain/target/match by that name."))
                .isEqualTo(OptionalInt.of(4));
        assertThat(RestoreErrors.failedLine("iptables-restore v1.8.9 (nf_tables): unknown option \"--bogus\"\n"
                + "Error occurred at line: 12\nTry `iptables-restore -h' for more information.")).isEqualTo(OptionalInt.of(12));
        assertThat(RestoreErrors.failedLine("iptables-restore: COMMIT expected at line 7")).isEqualTo(OptionalInt.of(7));
        assertThat(RestoreErrors.failedLine("Another app is currently holding the xtables lock.")).isEmpty();
        assertThat(RestoreErrors.failedLine("line 0 failed")).isEmpty();
    }

    @Test
    void extractsTheFailedLineWithItsNeighbours() {
        assertThat(RestoreErrors.extractLines(INPUT, INPUT.length, 4, 1)).containsExactly(
                new InputLine(3, "-A A -j ACCEPT"), new InputLine(4, "-A A --bogus"), new InputLine(5, "-A A -j DROP"));
    }

    @Test
    void clipsTheExcerptAtBothEndsOfTheInput() {
        assertThat(RestoreErrors.extractLines(INPUT, INPUT.length, 1, 1))
                .containsExactly(new InputLine(1, "*filter"), new InputLine(2, ":A - [0:0]"));
        assertThat(RestoreErrors.extractLines(INPUT, INPUT.length, 6, 1))
                .containsExactly(new InputLine(5, "-A A -j DROP"), new InputLine(6, "COMMIT"));
        assertThat(RestoreErrors.extractLines(INPUT, INPUT.length, 9, 1)).isEmpty();
        assertThat(RestoreErrors.extractLines(INPUT, INPUT.length, 0, 1)).isEmpty();
    }

    @Test
    void onlyLooksAtTheValidLengthOfTheBuffer() {
        byte[] buffer = "a\nb\nc\nleftover from a bigger render\n".getBytes(StandardCharsets.UTF_8);

        assertThat(RestoreErrors.extractLines(buffer, 5, 3, 1)).containsExactly(new InputLine(2, "b"), new InputLine(3, "c"));
    }

    @Test
    void findsLinesInInputWrittenInPiecesThatSplitLines() {
        RestoreInput inPieces = out -> {
            for (int i = 0; i < INPUT.length; i += 5) {
                out.write(INPUT, i, Math.min(5, INPUT.length - i));
            }
        };

        assertThat(RestoreErrors.extractLines(inPieces, 4, 1)).containsExactly(
                new InputLine(3, "-A A -j ACCEPT"), new InputLine(4, "-A A --bogus"), new InputLine(5, "-A A -j DROP"));
        assertThat(RestoreErrors.extractLines(out -> out.write("x\ny".getBytes(StandardCharsets.UTF_8)), 2, 0))
                .containsExactly(new InputLine(2, "y"));
    }
}
