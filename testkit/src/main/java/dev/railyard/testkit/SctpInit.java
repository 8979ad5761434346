package dev.railyard.testkit;

/**
 * An SCTP INIT as an agent saw it arrive ({@link AgentHandle#sctpSeen}): the source address and port it came
 * from and the port it was sent to, after whatever NAT it met on the way.
 */
public record SctpInit(String sourceIp, int sourcePort, int destinationPort) {

    /** Parses the agent's {@code SRC_IP SRC_PORT DST_PORT}. */
    public static SctpInit parse(String text) {
        String[] words = text.strip().split(" ");
        if (words.length != 3) {
            throw new IllegalArgumentException("not an SCTP INIT record (SRC_IP SRC_PORT DST_PORT): '" + text + "'");
        }
        return new SctpInit(words[0], Integer.parseInt(words[1]), Integer.parseInt(words[2]));
    }
}
