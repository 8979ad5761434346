package dev.railyard.overlay.lease;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.config.NetworkConfig;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SubnetAllocatorTest {
    private static final NetworkConfig SMALL = NetworkConfig.parse("{\"Network\":\"10.5.0.0/24\",\"SubnetLen\":28,\"Backend\":{\"Type\":\"host-gw\"}}");
    private static final NetworkConfig HUGE = NetworkConfig.parse("{\"Network\":\"10.0.0.0/8\",\"Backend\":{\"Type\":\"host-gw\"}}");

    @Test
    void handsOutEverySubnetExactlyOnceThenReportsFull() {
        SubnetAllocator a = new SubnetAllocator(SMALL, new SplittableRandom(1));
        Set<Ip4Net> seen = new HashSet<>();
        for (int i = 0; i < SMALL.subnetCount(); i++) {
            Ip4Net s = a.pick().ipv4();
            assertThat(SMALL.isAllocatable(s)).isTrue();
            assertThat(seen.add(s)).as("duplicate %s", s).isTrue();
            a.markTaken(s);
        }
        assertThat(seen).hasSize(15).doesNotContain(Ip4Net.parse("10.5.0.0/28"));
        assertThatThrownBy(a::pick).isInstanceOf(NetworkFullException.class)
                .hasMessageContaining("network 10.5.0.0/24 (15 /28 subnets from 10.5.0.16 to 10.5.0.240) is full");
    }

    @Test
    void subnetsOutsideTheRangeDoNotCount() {
        SubnetAllocator a = new SubnetAllocator(SMALL, new SplittableRandom(2));
        a.markTaken(Ip4Net.parse("192.168.0.0/28"));
        a.markTaken(Ip4Net.parse("10.5.0.0/28"));
        a.markTaken(Ip4Net.parse("10.5.0.16/28"));
        a.markTaken(Ip4Net.parse("10.5.0.16/28"));
        assertThat(a.freeCount()).isEqualTo(14);
        assertThat(a.isFree(Ip4Net.parse("10.5.0.16/28"))).isFalse();
        assertThat(a.isFree(Ip4Net.parse("10.5.0.32/28"))).isTrue();
    }

    @Test
    void findsTheLastFreeSubnetOfAHugeNetwork() {
        SubnetAllocator a = new SubnetAllocator(HUGE, new SplittableRandom(3));
        for (long i = 0; i < HUGE.subnetCount(); i++) {
            if (i != 40_000) {
                a.markTaken(HUGE.subnetAt(i));
            }
        }
        assertThat(a.pick().ipv4()).isEqualTo(Ip4Net.parse("10.156.65.0/24"));
    }

    @Test
    void spreadsPicksOverAHugeNetwork() {
        SubnetAllocator a = new SubnetAllocator(HUGE, new SplittableRandom(4));
        Set<Ip4Net> picks = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            picks.add(a.pick().ipv4());
        }
        // without marking, random picks of 65535 rarely collide; lowest-free would return one subnet
        assertThat(picks.size()).isGreaterThan(950);
    }
}
