package dev.railyard.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

@RequiresPrivileges
class SharedLinkTest {

    @Test
    void threeHostsOnOneSegmentReachEachOtherOverIpv4AndIpv6() {
        SharedLink lan = SharedLink.builder().hosts(3).ipv4Subnet("192.168.77.0/24").ipv6Subnet("fd77:1::/64").create();
        List<String> namespaces = new ArrayList<>();
        try {
            lan.hosts().forEach(h -> namespaces.add(h.namespace().name()));
            namespaces.add(lan.switchNamespace().name());
            assertThat(lan.hosts()).extracting(LinkEnd::ipv4).containsExactly("192.168.77.1", "192.168.77.2", "192.168.77.3");
            assertThat(lan.host(2).ipv6()).isEqualTo("fd77:1::3");

            List<AgentHandle> agents = new ArrayList<>();
            for (LinkEnd host : lan.hosts()) {
                AgentHandle agent = host.namespace().startAgent();
                agent.tcpServe(7000, host.namespace().name());
                agents.add(agent);
            }
            for (int from = 0; from < 3; from++) {
                for (int to = 0; to < 3; to++) {
                    if (from == to) {
                        continue;
                    }
                    ServerReply v4 = agents.get(from).tcpGet(lan.host(to).ipv4(), 7000, Duration.ofSeconds(3)).serverReply();
                    ServerReply v6 = agents.get(from).tcpGet(lan.host(to).ipv6(), 7000, Duration.ofSeconds(3)).serverReply();
                    assertThat(v4.serverName()).isEqualTo(lan.host(to).namespace().name());
                    assertThat(v4.clientIp()).isEqualTo(lan.host(from).ipv4());
                    assertThat(v6.clientIp()).isEqualTo(lan.host(from).ipv6());
                }
            }
        } finally {
            lan.close();
        }
        assertThat(namespaces).hasSize(4).noneMatch(NetworkNamespace::exists);
    }

    @Test
    void attachedNamespacesSurviveTheLink() {
        try (NetworkNamespace mine = NetworkNamespace.create()) {
            try (SharedLink lan = SharedLink.builder().hosts(1).create()) {
                LinkEnd attached = lan.attach(mine);
                assertThat(attached.ipv4()).isEqualTo("192.168.77.2");
                try (AgentHandle agent = mine.startAgent()) {
                    agent.tcpServe(7001, "mine");
                    try (AgentHandle other = lan.host(0).namespace().startAgent()) {
                        assertThat(other.tcpGet("192.168.77.2", 7001, Duration.ofSeconds(3)).serverReply().serverName()).isEqualTo("mine");
                    }
                }
            }
            assertThat(NetworkNamespace.exists(mine.name())).isTrue();
            assertThat(mine.execChecked("ip", "-o", "link").stdout()).doesNotContain("eth0");
        }
    }
}
