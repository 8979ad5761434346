package dev.railyard.netlink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Key layouts, type ids and registers as nft computes them (ids checked against nft --debug=mnl output). */
class ValuesTest {

    @Test
    void concatenatedTypesCombineIdsAndPadFieldsLikeNft() {
        DataType serviceIps = DataType.concat(DataType.IPV4_ADDR, DataType.INET_PROTO, DataType.INET_SERVICE);
        assertThat(serviceIps.id()).isEqualTo(0x730d);
        assertThat(serviceIps.length()).isEqualTo(12);
        assertThat(DataType.concat(DataType.INET_PROTO, DataType.INET_SERVICE).id()).isEqualTo(0x30d);
        assertThat(DataType.concat(DataType.IPV4_ADDR, DataType.INET_SERVICE).id()).isEqualTo(0x1cd);
        assertThat(Values.concat(Values.ipv4("172.30.0.41"), Values.inetProto(6), Values.inetService(80)))
                .containsExactly(172, 30, 0, 41, 6, 0, 0, 0, 0, 80, 0, 0);
    }

    @Test
    void registersAreNamedThe128BitWayWhenAligned() {
        assertThat(Registers.forSlot(0)).isEqualTo(1);
        assertThat(Registers.forSlot(1)).isEqualTo(9);
        assertThat(Registers.forSlot(2)).isEqualTo(10);
        assertThat(Registers.forSlot(4)).isEqualTo(2);
        assertThat(Registers.forSlot(5)).isEqualTo(13);
    }

    @Test
    void addressesAreLiteralsOnly() {
        assertThat(Values.ipv4("10.180.0.1")).containsExactly(10, 180, 0, 1);
        assertThat(Values.ipv6("fd00::1")).hasSize(16);
        assertThatThrownBy(() -> Values.parseAddress("localhost")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Values.ipv4("10.1")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Values.ipv4("fd00::1")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Values.inetService(65536)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void prefixesRefuseHostBitsAndKnowTheirEnd() {
        assertThat(Prefix.parse("10.0.0.0/8").endExclusive()).containsExactly(11, 0, 0, 0);
        assertThat(Prefix.parse("255.0.0.0/8").endExclusive()).isNull();
        assertThat(Prefix.parse("203.0.113.0/25").mask()).containsExactly(255, 255, 255, 128);
        assertThatThrownBy(() -> Prefix.parse("10.0.0.1/8")).hasMessageContaining("host bits");
        assertThatThrownBy(() -> Prefix.parse("10.0.0.0/33")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void namedIntervalElementsAreStartEndPairsAfterAZeroEnd() {
        List<SetElement> elements = Intervals.forAdd(List.of(Prefix.parse("192.168.0.0/16"), Prefix.parse("10.0.0.0/8")));
        assertThat(elements).extracting(SetElement::intervalEnd).containsExactly(true, false, true, false, true);
        assertThat(elements.get(1).key()).containsExactly(10, 0, 0, 0);
        assertThat(elements.get(4).key()).containsExactly(192, 169, 0, 0);
        assertThat(Intervals.forDelete(List.of(Prefix.parse("10.0.0.0/8")))).hasSize(2);
        assertThatThrownBy(() -> Intervals.forAdd(List.of(Prefix.parse("10.0.0.0/8"), Prefix.parse("10.1.0.0/16"))))
                .hasMessageContaining("overlap");
        assertThat(Intervals.merged(List.of(Prefix.parse("10.0.0.0/8"), Prefix.parse("11.0.0.0/8")))).hasSize(3);
    }

    @Test
    void namesAndCommentsAreCheckedBeforeTheyReachTheKernel() {
        NfTablesBatch batch = new NfTablesBatch();
        assertThatThrownBy(() -> batch.addChain(Family.IP, "t", "x".repeat(256), null)).hasMessageContaining("chain");
        assertThatThrownBy(() -> batch.addTable(Family.IP, "t", "c".repeat(128))).hasMessageContaining("comment");
        assertThatThrownBy(() -> batch.addChain(Family.IP, "t", "a\0b", null)).hasMessageContaining("NUL");
        assertThat(batch.isEmpty()).isTrue();
    }
}
