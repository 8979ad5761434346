package dev.railyard.nftables.netlink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.railyard.netlink.DataType;
import dev.railyard.netlink.SetElement;
import dev.railyard.netlink.SetSpec;
import dev.railyard.netlink.Values;
import dev.railyard.netlink.Verdict;
import dev.railyard.nftables.Element;
import dev.railyard.nftables.NftMap;
import dev.railyard.nftables.NftSet;
import dev.railyard.nftables.netlink.SetTypes.ContainerType;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Set and map types and element tokens, and what is refused. (nft's reading of them: {@link GrammarKernelTest}.) */
class SetTypesTest {
    private static final ContainerType SERVICE_IPS = ContainerType.of(SetTypes.spec(
            NftMap.of("service-ips", "ipv4_addr . inet_proto . inet_service : verdict", null)));
    private static final ContainerType ENDPOINTS = ContainerType.of(SetTypes.spec(
            NftMap.typeOf("endpoints-x", "numgen random mod 1 : ip6 daddr . th dport", null)));

    @Test
    void typesFlagsTimeoutAndComment() {
        SetSpec affinity = SetTypes.spec(new NftSet("affinity-x", "ipv6_addr", List.of("dynamic", "timeout"), 600,
                "c"));
        assertThat(affinity.keyType()).isEqualTo(DataType.IPV6_ADDR);
        assertThat(affinity.flags()).containsExactlyInAnyOrder(SetSpec.Flag.DYNAMIC, SetSpec.Flag.TIMEOUT);
        assertThat(affinity.timeout()).isEqualTo(Duration.ofSeconds(600));
        assertThat(affinity.comment()).isEqualTo("c");
        assertThat(SERVICE_IPS.key()).containsExactly(DataType.IPV4_ADDR, DataType.INET_PROTO, DataType.INET_SERVICE);
        assertThat(SERVICE_IPS.verdictMap()).isTrue();
        assertThat(ENDPOINTS.key()).containsExactly(DataType.INTEGER);
        assertThat(ENDPOINTS.value()).containsExactly(DataType.IPV6_ADDR, DataType.INET_SERVICE);
    }

    @Test
    void elementsByTheirContainersTypes() {
        SetElement vmap = SetTypes.element(SERVICE_IPS,
                Element.ofMap("service-ips", List.of("10.0.0.1", "sctp", "3868"), "goto svc-x", "ns/x"), false);
        assertThat(vmap).isEqualTo(SetElement.of(Values.ipv4("10.0.0.1"), Values.inetProto(Values.SCTP),
                Values.inetService(3868)).withComment("ns/x").mapsTo(Verdict.goTo("svc-x")));
        SetElement data = SetTypes.element(ENDPOINTS,
                new Element("endpoints-x", true, List.of("7"), List.of("fd00::1", "8080"), null), false);
        assertThat(data).isEqualTo(SetElement.of(Values.u32Host(7)).mapsTo(Values.ipv6("fd00::1"),
                Values.inetService(8080)));
        SetElement key = SetTypes.element(SERVICE_IPS,
                Element.keyOf("service-ips", List.of("10.0.0.1", "udp", "53")), true);
        assertThat(key).isEqualTo(SetElement.of(Values.ipv4("10.0.0.1"), Values.inetProto(Values.UDP),
                Values.inetService(53)));
    }

    @Test
    void refusesTypesItDoesNotKnow() {
        assertThatThrownBy(() -> SetTypes.spec(NftSet.of("s", "ipv4_addr . mark", null)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("set s").hasMessageContaining("\"mark\"");
        assertThatThrownBy(() -> SetTypes.spec(new NftSet("s", "ipv4_addr", List.of("dynamic", "fast"), 0, null)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"fast\"");
        assertThatThrownBy(() -> SetTypes.spec(NftMap.typeOf("m", "numgen random mod 1 : ip daddr . tcp sport", null)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("map m").hasMessageContaining("\"tcp sport\"");
        assertThatThrownBy(() -> SetTypes.spec(NftMap.typeOf("m", "meta l4proto : ip daddr", null)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"meta l4proto\"");
        assertThatThrownBy(() -> SetTypes.spec(NftMap.of("m", "ipv4_addr : ether_addr", null)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"ether_addr\"");
    }

    @Test
    void refusesTokensThatAreNotOfTheirField() {
        assertThatThrownBy(() -> SetTypes.element(SERVICE_IPS,
                Element.ofMap("service-ips", List.of("10.0.0.1", "icmp", "80"), "goto x", null), false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("element { 10.0.0.1 . icmp . 80 } of map service-ips")
                .hasMessageContaining("\"icmp\" is not a inet_proto");
        assertThatThrownBy(() -> SetTypes.element(SERVICE_IPS,
                Element.ofMap("service-ips", List.of("10.0.0.1", "tcp", "65536"), "goto x", null), false))
                .hasMessageContaining("\"65536\"");
        assertThatThrownBy(() -> SetTypes.element(SERVICE_IPS,
                Element.ofMap("service-ips", List.of("10.0.0.1", "tcp"), "goto x", null), false))
                .hasMessageContaining("has 2 fields, the map has 3");
        assertThatThrownBy(() -> SetTypes.element(SERVICE_IPS,
                Element.ofMap("service-ips", List.of("10.0.0.1", "tcp", "80"), "continue", null), false))
                .hasMessageContaining("\"continue\" is not a verdict");
        assertThatThrownBy(() -> SetTypes.element(ENDPOINTS,
                new Element("endpoints-x", true, List.of("-1"), List.of("fd00::1", "80"), null), false))
                .hasMessageContaining("\"-1\" is not a integer");
        assertThatThrownBy(() -> SetTypes.element(ENDPOINTS,
                new Element("endpoints-x", true, List.of("1"), List.of("10.0.0.1", "80"), null), false))
                .hasMessageContaining("\"10.0.0.1\" is not a ipv6_addr");
        ContainerType interval = ContainerType.of(SetTypes.spec(new NftSet("cidrs", "ipv4_addr", List.of("interval"),
                0, null)));
        assertThatThrownBy(() -> SetTypes.element(interval, Element.ofSet("cidrs", List.of("10.0.0.0/8")), false))
                .hasMessageContaining("interval");
    }
}
