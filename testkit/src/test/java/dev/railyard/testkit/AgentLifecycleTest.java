package dev.railyard.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

@RequiresPrivileges
class AgentLifecycleTest {

    @Test
    void agentAnswersAndDiesWithItsNamespace() {
        NetworkNamespace ns = NetworkNamespace.create();
        AgentHandle agent;
        try {
            agent = ns.startAgent();
            assertThat(agent.send("ping")).isEqualTo("pong");
            assertThat(agent.send("frobnicate")).startsWith("error unknown command");
            assertThat(agent.send("tcp-get 127.0.0.1 notaport 100")).startsWith("error bad arguments");
            int port = agent.tcpServe(0, "self");
            assertThat(agent.tcpGet("127.0.0.1", port, Duration.ofSeconds(2)).serverReply().clientIp()).isEqualTo("127.0.0.1");
            assertThat(agent.tcpGet("::1", port, Duration.ofSeconds(2)).serverReply().clientIp()).isEqualTo("::1");
            assertThat(ns.pids()).contains(agent.process().pid());
        } finally {
            ns.close();
        }

        assertThat(agent.process().isAlive()).isFalse();
        assertThat(NetworkNamespace.exists(ns.name())).isFalse();
    }

    @Test
    void closingTheHandleStopsOnlyTheAgent() {
        try (NetworkNamespace ns = NetworkNamespace.create()) {
            AgentHandle agent = ns.startAgent();
            long pid = agent.process().pid();

            agent.close();

            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
            assertThat(NetworkNamespace.exists(ns.name())).isTrue();
        }
    }
}
