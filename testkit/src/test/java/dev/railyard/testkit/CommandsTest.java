package dev.railyard.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class CommandsTest {

    @Test
    void capturesExitCodeStdoutAndStderrSeparately() {
        CommandResult result = Commands.run("sh", "-c", "echo out; echo err >&2; exit 3");

        assertThat(result.exitCode()).isEqualTo(3);
        assertThat(result.stdout()).isEqualTo("out\n");
        assertThat(result.stderr()).isEqualTo("err\n");
        assertThat(result.succeeded()).isFalse();
    }

    @Test
    void feedsStdin() {
        byte[] input = "line one\nline two\n".getBytes(StandardCharsets.UTF_8);

        CommandResult result = Commands.run(List.of("wc", "-l"), Duration.ofSeconds(10), input);

        assertThat(result.stdout().strip()).isEqualTo("2");
    }

    @Test
    void largeOutputOnBothStreamsDoesNotDeadlock() {
        CommandResult result = Commands.run(Duration.ofSeconds(20), "sh", "-c",
                "head -c 300000 /dev/zero | tr '\\0' a; head -c 300000 /dev/zero | tr '\\0' b >&2");

        assertThat(result.stdout()).hasSize(300000);
        assertThat(result.stderr()).hasSize(300000);
    }

    @Test
    void requireSuccessThrowsWithCommandAndStderr() {
        CommandResult result = Commands.run("sh", "-c", "echo 'no such thing' >&2; exit 1");

        assertThatThrownBy(result::requireSuccess)
                .isInstanceOf(CommandFailedException.class)
                .hasMessageContaining("exit code 1")
                .hasMessageContaining("sh -c")
                .hasMessageContaining("no such thing");
    }

    @Test
    void killsACommandThatOutlivesItsTimeout() {
        long start = System.nanoTime();

        assertThatThrownBy(() -> Commands.run(Duration.ofMillis(300), "sh", "-c", "echo started; exec sleep 30"))
                .isInstanceOfSatisfying(CommandTimeoutException.class, e -> {
                    assertThat(e.getMessage()).contains("300 ms").contains("sleep 30");
                    assertThat(e.result().stdout()).isEqualTo("started\n");
                });

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        assertThat(ProcessHandle.allProcesses().anyMatch(p -> p.info().commandLine().orElse("").contains("sleep 30")
                && p.parent().map(pp -> pp.pid() == ProcessHandle.current().pid()).orElse(false))).isFalse();
    }

    @Test
    void locatesCommandsAndExplainsMissingOnes() {
        assertThat(Commands.locate("sh")).isPresent();
        assertThat(Commands.locate("railyard-no-such-command")).isEmpty();
        assertThatThrownBy(() -> Commands.run("railyard-no-such-command"))
                .hasMessageContaining("railyard-no-such-command")
                .hasMessageContaining("not found");
    }
}
