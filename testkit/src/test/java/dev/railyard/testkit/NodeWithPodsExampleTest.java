package dev.railyard.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The shape most proxy tests take: a "node" namespace that routes between "pod" namespaces, each pod
 * with a veth to the node and a default route through it. Also serves as the usage example of the kit.
 */
@RequiresPrivileges
class NodeWithPodsExampleTest {

    @Test
    void podsReachEachOtherThroughTheNodeWithTheirOwnSourceAddresses() {
        try (NetworkNamespace node = NetworkNamespace.create();
             NetworkNamespace pod1 = NetworkNamespace.create();
             NetworkNamespace pod2 = NetworkNamespace.create()) {
            node.sysctl("net.ipv4.ip_forward", "1");
            node.sysctl("net.ipv6.conf.all.forwarding", "1");
            VethLink link1 = VethLink.between(node, pod1).names("veth-pod1", "eth0")
                    .ipv4("10.244.1.1/24", "10.244.1.2/24").ipv6("fd00:244:1::1/64", "fd00:244:1::2/64").create();
            VethLink link2 = VethLink.between(node, pod2).names("veth-pod2", "eth0")
                    .ipv4("10.244.2.1/24", "10.244.2.2/24").ipv6("fd00:244:2::1/64", "fd00:244:2::2/64").create();
            link1.b().addRoute("default", link1.a().ipv4());
            link1.b().addRoute("default", link1.a().ipv6());
            link2.b().addRoute("default", link2.a().ipv4());
            link2.b().addRoute("default", link2.a().ipv6());

            try (AgentHandle server = pod2.startAgent(); AgentHandle client = pod1.startAgent()) {
                server.tcpServe(8080, "pod2");
                server.udpServe(5353, "pod2-udp");

                ProbeResult tcp = client.tcpGet("10.244.2.2", 8080, Duration.ofSeconds(3));
                ProbeResult tcp6 = client.tcpGet("fd00:244:2::2", 8080, Duration.ofSeconds(3));
                ProbeResult udp = client.udpGet("10.244.2.2", 5353, Duration.ofSeconds(3));

                assertThat(tcp.serverReply()).extracting(ServerReply::serverName, ServerReply::clientIp)
                        .containsExactly("pod2", "10.244.1.2");
                assertThat(tcp6.serverReply().clientIp()).isEqualTo("fd00:244:1::2");
                assertThat(udp.serverReply().clientIp()).isEqualTo("10.244.1.2");
            }

            node.sysctl("net.ipv4.ip_forward", "0");
            try (AgentHandle client = pod1.startAgent()) {
                // Without forwarding the node drops the packet and answers with ICMP, or stays silent.
                assertThat(client.tcpGet("10.244.2.2", 8080, Duration.ofMillis(700)).outcome())
                        .isIn(ProbeResult.Outcome.UNREACHABLE, ProbeResult.Outcome.TIMEOUT);
            }
        }
    }
}
