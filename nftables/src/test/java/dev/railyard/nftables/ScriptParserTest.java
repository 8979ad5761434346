package dev.railyard.nftables;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ScriptParserTest {

    @Test
    void readsIpv6ElementsOfSetsAndMapsBack() {
        Transaction tx = new Transaction(Family.IP6, "t")
                .add(NftSet.of("cluster-ips", "ipv6_addr", null))
                .add(NftMap.of("service-ips", "ipv6_addr . inet_proto . inet_service : verdict", null))
                .add(Chain.named("svc"))
                .add(Element.ofSet("cluster-ips", List.of("fd00:96::10")))
                .add(Element.ofSet("cluster-ips", List.of("::1")))
                .add(Element.ofMap("service-ips", List.of("fd00:96::10", "tcp", "80"), "goto svc", null))
                .add(Element.ofMap("service-ips", List.of("2001:db8::1", "tcp", "443"), "drop", "ns/a:https"));

        Transaction parsed = ScriptParser.parse(tx.script(), Family.IP6, "t");

        assertThat(parsed.script()).isEqualTo(tx.script());
        assertThat(parsed.operations()).containsExactlyElementsOf(tx.operations());
    }
}
