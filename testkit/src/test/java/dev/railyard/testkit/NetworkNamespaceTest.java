package dev.railyard.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

@RequiresPrivileges
class NetworkNamespaceTest {

    @Test
    void createsAShortUniquelyNamedNamespaceWithLoopbackUp() {
        try (NetworkNamespace ns = NetworkNamespace.create(); NetworkNamespace other = NetworkNamespace.create()) {
            assertThat(ns.name()).matches("ry-[a-z0-9]{6}").hasSizeLessThanOrEqualTo(NetworkNamespace.MAX_NAME_LENGTH);
            assertThat(ns.name()).isNotEqualTo(other.name());
            assertThat(NetworkNamespace.exists(ns.name())).isTrue();
            assertThat(ns.execChecked("ip", "-o", "link", "show", "lo").stdout()).contains("UP");
            assertThat(ns.execChecked("ip", "-o", "link", "show").stdout().lines().count())
                    .as("a fresh namespace has only lo").isEqualTo(1);
        }
    }

    @Test
    void execReportsExitCodeAndExecCheckedThrowsWithStderr() {
        try (NetworkNamespace ns = NetworkNamespace.create()) {
            assertThat(ns.exec("sh", "-c", "exit 4").exitCode()).isEqualTo(4);

            assertThatThrownBy(() -> ns.execChecked("ip", "link", "show", "nonexistent0"))
                    .isInstanceOf(CommandFailedException.class)
                    .hasMessageContaining("nonexistent0")
                    .hasMessageContaining("does not exist");
        }
    }

    @Test
    void sysctlChangesOnlyTheNamespace() {
        String hostValue = Commands.runChecked("sysctl", "-n", "net.ipv4.conf.lo.forwarding").stdout().strip();
        String wanted = hostValue.equals("1") ? "0" : "1";
        try (NetworkNamespace ns = NetworkNamespace.create()) {
            ns.sysctl("net.ipv4.conf.lo.forwarding", wanted);

            assertThat(ns.sysctl("net.ipv4.conf.lo.forwarding")).isEqualTo(wanted);
            assertThat(Commands.runChecked("sysctl", "-n", "net.ipv4.conf.lo.forwarding").stdout().strip()).isEqualTo(hostValue);
        }
    }

    @Test
    void closeKillsProcessesAndDeletesTheNamespace() {
        NetworkNamespace ns = NetworkNamespace.create();
        NamespacedProcess sleeper;
        try {
            sleeper = ns.startProcess("sleep", "300");
            // A process the kit did not start itself: detached, so only "ip netns pids" can find it.
            ns.execChecked("sh", "-c", "setsid sleep 301 >/dev/null 2>&1 < /dev/null &");
            assertThat(sleeper.isAlive()).isTrue();
            assertThat(ns.pids()).contains(sleeper.pid()).hasSizeGreaterThanOrEqualTo(2);
        } finally {
            ns.close();
        }

        assertThat(sleeper.isAlive()).isFalse();
        assertThat(NetworkNamespace.exists(ns.name())).isFalse();
        assertThat(ns.pids()).isEmpty();
        assertThatThrownBy(() -> ns.exec("true")).isInstanceOf(IllegalStateException.class);
        ns.close(); // idempotent
    }

    @Test
    void startedProcessLogsItsOutput() throws InterruptedException {
        try (NetworkNamespace ns = NetworkNamespace.create();
             NamespacedProcess process = ns.startProcess("sh", "-c", "ip -o link show lo; echo to-stderr >&2; sleep 300")) {
            String log = "";
            for (int i = 0; i < 100 && !log.contains("to-stderr"); i++) {
                Thread.sleep(50);
                log = process.log();
            }
            assertThat(log).contains("lo:").contains("to-stderr");
        }
    }
}
