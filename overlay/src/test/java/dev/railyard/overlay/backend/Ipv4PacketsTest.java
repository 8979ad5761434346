package dev.railyard.overlay.backend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.overlay.config.Ip4Net;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class Ipv4PacketsTest {

    private static ByteBuf packet(int ttl, int protocol, int fragmentOffset, int src, int dst, int payload) {
        ByteBuf b = Unpooled.buffer();
        b.writeByte(0x45).writeByte(0).writeShort(20 + payload).writeShort(0x1234).writeShort(fragmentOffset)
                .writeByte(ttl).writeByte(protocol).writeShort(0).writeInt(src).writeInt(dst);
        b.setShort(10, Ipv4Packets.checksum(b, 0, 20));
        for (int i = 0; i < payload; i++) {
            b.writeByte(i);
        }
        return b;
    }

    @Test
    void ttlDecrementKeepsTheHeaderChecksumValid() {
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 10_000; i++) {
            int ttl = 2 + random.nextInt(254);
            ByteBuf b = packet(ttl, 6, 0, random.nextInt(), random.nextInt(), 8);
            assertThat(Ipv4Packets.decrementTtl(b, 0)).isTrue();
            assertThat((int) b.getUnsignedByte(8)).isEqualTo(ttl - 1);
            // a header with a valid checksum sums to zero
            assertThat(Ipv4Packets.checksum(b, 0, 20)).as("ttl %d", ttl).isZero();
        }
        assertThat(Ipv4Packets.decrementTtl(packet(1, 6, 0, 1, 2, 0), 0)).as("TTL runs out").isFalse();
    }

    @Test
    void netUnreachableQuotesTheOffenderAsFlannelsProxyDoes() {
        int pod = Ip4Net.parseAddress("10.5.1.2");
        int tun = Ip4Net.parseAddress("10.5.1.0");
        ByteBuf offender = packet(64, 17, 0, pod, Ip4Net.parseAddress("10.5.9.9"), 30);
        ByteBuf out = Unpooled.buffer(128);
        assertThat(Ipv4Packets.netUnreachable(offender, 0, offender.readableBytes(), tun, out)).isTrue();
        assertThat(out.readableBytes()).isEqualTo(20 + 8 + 28);
        assertThat(Ipv4Packets.checksum(out, 0, 20)).isZero();
        assertThat(Ipv4Packets.checksum(out, 20, out.readableBytes() - 20)).isZero();
        assertThat((int) out.getUnsignedByte(9)).isEqualTo(1); // ICMP
        assertThat(out.getInt(12)).isEqualTo(tun);
        assertThat(out.getInt(16)).isEqualTo(pod);
        assertThat((int) out.getUnsignedByte(20)).isEqualTo(3); // destination unreachable
        assertThat((int) out.getUnsignedByte(21)).isEqualTo(0); // network
        assertThat(out.slice(28, 28)).isEqualTo(offender.slice(0, 28));
        // never about ICMP, never about a later fragment
        assertThat(Ipv4Packets.netUnreachable(packet(64, 1, 0, pod, 5, 8), 0, 28, tun, out)).isFalse();
        assertThat(Ipv4Packets.netUnreachable(packet(64, 17, 0x2001, pod, 5, 8), 0, 28, tun, out)).isFalse();
    }

    @Test
    void routesFindTheLongestPrefixAndKnowTheirPeers() {
        InetSocketAddress a = new InetSocketAddress("192.168.1.1", 8285);
        InetSocketAddress b = new InetSocketAddress("192.168.1.2", 8285);
        UdpRoutes routes = new UdpRoutes(Map.of(Ip4Net.parse("10.5.0.0/16"), a, Ip4Net.parse("10.5.7.0/24"), b));
        assertThat(routes.nextHop(Ip4Net.parseAddress("10.5.7.9"))).isEqualTo(b);
        assertThat(routes.nextHop(Ip4Net.parseAddress("10.5.8.9"))).isEqualTo(a);
        assertThat(routes.nextHop(Ip4Net.parseAddress("10.6.0.1"))).isNull();
        assertThat(routes.isPeer(Ip4Net.parseAddress("192.168.1.2"))).isTrue();
        assertThat(routes.isPeer(Ip4Net.parseAddress("192.168.1.3"))).isFalse();
        assertThat(UdpRoutes.EMPTY.nextHop(1)).isNull();
        assertThat(UdpRoutes.EMPTY.isPeer(1)).isFalse();
    }
}
