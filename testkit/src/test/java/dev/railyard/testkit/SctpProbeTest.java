package dev.railyard.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * SCTP INITs sent by one agent arrive at another with the sender's address and the ports they were sent with,
 * over IPv4 and IPv6, whether or not the kernel has SCTP sockets (raw sockets carry them).
 */
@RequiresPrivileges(commands = "ip")
class SctpProbeTest {

    private static NetworkNamespace receiverNs;
    private static NetworkNamespace senderNs;
    private static AgentHandle receiver;
    private static AgentHandle sender;

    @BeforeAll
    static void setUp() {
        receiverNs = NetworkNamespace.create();
        senderNs = NetworkNamespace.create();
        VethLink.between(receiverNs, senderNs).names("eth-rcv", "eth-snd")
                .ipv4("10.78.0.1/24", "10.78.0.2/24").ipv6("fd78::1/64", "fd78::2/64").create();
        receiver = receiverNs.startAgent();
        sender = senderNs.startAgent();
        receiver.sctpListen();
    }

    @AfterAll
    static void tearDown() {
        if (senderNs != null) {
            senderNs.close();
        }
        if (receiverNs != null) {
            receiverNs.close();
        }
    }

    @Test
    void anInitArrivesWithItsSourceAndPortsOverBothFamilies() throws Exception {
        int sourcePort4 = sender.sctpInit("10.78.0.1", 3868);
        int sourcePort6 = sender.sctpInit("fd78::1", 2905);

        List<SctpInit> seen = awaitSeen(receiver, 2);

        assertThat(seen).containsExactlyInAnyOrder(new SctpInit("10.78.0.2", sourcePort4, 3868),
                new SctpInit("fd78::2", sourcePort6, 2905));
        assertThat(receiver.sctpSeen()).as("seen INITs are reported once").isEmpty();
    }

    /** The INITs seen, waiting (bounded) until {@code count} arrived. */
    static List<SctpInit> awaitSeen(AgentHandle agent, int count) throws InterruptedException {
        List<SctpInit> seen = new ArrayList<>(agent.sctpSeen());
        long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
        while (seen.size() < count && System.nanoTime() < deadline) {
            Thread.sleep(50);
            seen.addAll(agent.sctpSeen());
        }
        return seen;
    }
}
