package dev.railyard.overlay.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.netlink.NetworkNamespaces;
import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.backend.UdpBackend;
import dev.railyard.overlay.etcd.EtcdCluster;
import dev.railyard.overlay.etcd.RequiresEtcd;
import dev.railyard.overlay.lease.EtcdSubnetManager;
import dev.railyard.overlay.lease.Lease;
import dev.railyard.overlay.lease.LeaseAttrs;
import dev.railyard.testkit.ProbeResult;
import dev.railyard.testkit.RequiresPrivileges;
import dev.railyard.overlay.backend.Ipv4PacketsAccess;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The udp backend against a peer that speaks flannel's wire format by hand (a bare IPv4 packet as the payload of a
 * datagram to port 8285), as flanneld's proxy does: packets in both directions, TTLs decremented, datagrams from
 * strangers dropped, ICMP net unreachable for a subnet no peer holds, and flannel0 re-created when deleted.
 */
@RequiresEtcd
@RequiresPrivileges(commands = {"ip", "bridge", "sysctl"})
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class UdpBackendTest {
    private static EtcdCluster etcd;

    @BeforeAll
    static void start() throws Exception {
        etcd = EtcdCluster.start(1);
    }

    @AfterAll
    static void stop() {
        if (etcd != null) {
            etcd.close();
        }
    }

    /** A UDP socket inside a host namespace, for speaking flannel's wire format by hand. */
    private static DatagramSocket socketIn(String netns, String address, int port) {
        return NetworkNamespaces.callIn(netns, () -> {
            try {
                DatagramSocket s = new DatagramSocket(new InetSocketAddress(address, port));
                s.setSoTimeout(3000);
                return s;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** An IPv4 header (valid checksum) and a UDP header without checksum, around {@code payload}. */
    private static byte[] ipv4Udp(int src, int sport, int dst, int dport, int ttl, byte[] payload) {
        ByteBuf b = Unpooled.buffer();
        b.writeByte(0x45).writeByte(0).writeShort(28 + payload.length).writeShort(7).writeShort(0)
                .writeByte(ttl).writeByte(17).writeShort(0).writeInt(src).writeInt(dst);
        b.setShort(10, Ipv4PacketsAccess.checksum(b, 0, 20));
        b.writeShort(sport).writeShort(dport).writeShort(8 + payload.length).writeShort(0).writeBytes(payload);
        byte[] bytes = new byte[b.readableBytes()];
        b.readBytes(bytes);
        return bytes;
    }

    private static DatagramPacket receive(DatagramSocket s) throws IOException {
        DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
        s.receive(p);
        return p;
    }

    @Test
    void speaksFlannelsWireFormatWithAPeerAndNobodyElse() throws Exception {
        String prefix = "/udp/network";
        try (EtcdSubnetManager admin = new EtcdSubnetManager(dev.railyard.overlay.lease.EtcdOptions.plain(etcd.clientUrls(), prefix))) {
            admin.putNetworkConfig("{\"Network\":\"10.77.0.0/16\"}"); // no Backend: udp
        }
        try (OverlayHosts hosts = OverlayHosts.etcd(etcd, prefix, Duration.ofMinutes(5), true, false, 3)) {
            OverlayHosts.Host railyard = hosts.host(0);
            OverlayHosts.Host flanneld = hosts.host(1);
            OverlayHosts.Host stranger = hosts.host(2);
            // the hand-made peer holds a lease like any flanneld would
            try (EtcdSubnetManager fake = new EtcdSubnetManager(hosts.etcdOptions());
                 DatagramSocket peer = socketIn(flanneld.ns().name(), flanneld.link.ipv4(), 8285);
                 DatagramSocket strangerSocket = socketIn(stranger.ns().name(), stranger.link.ipv4(), 8285)) {
                Lease fakeLease = fake.acquire(new LeaseAttrs(Ip4Net.parseAddress(flanneld.link.ipv4()), "udp", null), null);
                railyard.start(false);
                railyard.addPod();
                railyard.agent.udpServe(7000, "pod0");
                UdpBackend backend = (UdpBackend) railyard.daemon.backend();
                Eventually.eventually(Duration.ofSeconds(10), () -> assertThat(backend.programmedPeers()).hasSize(1));
                String fakePod = Ip4Net.formatAddress(fakeLease.subnet().addressAt(2));
                int podIp = Ip4Net.parseAddress(railyard.podIp);

                // pod -> peer: the datagram carries the bare IPv4 packet, TTL decremented on the way
                railyard.agent.udpGet(fakePod, 7001, Duration.ofMillis(300));
                DatagramPacket out = receive(peer);
                ByteBuf inner = Unpooled.wrappedBuffer(out.getData(), 0, out.getLength());
                assertThat(((InetSocketAddress) out.getSocketAddress()).getAddress().getHostAddress()).isEqualTo(railyard.link.ipv4());
                assertThat(((InetSocketAddress) out.getSocketAddress()).getPort()).isEqualTo(8285);
                assertThat(inner.getUnsignedByte(0) >> 4).isEqualTo(4);
                assertThat(inner.getInt(12)).isEqualTo(podIp);
                assertThat(Ip4Net.formatAddress(inner.getInt(16))).isEqualTo(fakePod);
                assertThat((int) inner.getUnsignedByte(9)).isEqualTo(17);
                assertThat(inner.getUnsignedShort(22)).isEqualTo(7001);
                assertThat((int) inner.getUnsignedByte(8)).isLessThan(64);
                assertThat(Ipv4PacketsAccess.checksum(inner, 0, 20)).isZero();

                // peer -> pod: the pod's server answers, and the answer comes back encapsulated to the peer
                byte[] request = ipv4Udp(Ip4Net.parseAddress(fakePod), 5555, podIp, 7000, 64,
                        "ping".getBytes(StandardCharsets.US_ASCII));
                InetSocketAddress railyardEndpoint = new InetSocketAddress(InetAddress.getByName(railyard.link.ipv4()), 8285);
                peer.send(new DatagramPacket(request, request.length, railyardEndpoint));
                DatagramPacket answer = receive(peer);
                ByteBuf reply = Unpooled.wrappedBuffer(answer.getData(), 0, answer.getLength());
                assertThat(Ip4Net.formatAddress(reply.getInt(16))).isEqualTo(fakePod);
                assertThat(reply.getUnsignedShort(22)).isEqualTo(5555);
                assertThat(reply.toString(28, reply.readableBytes() - 28, StandardCharsets.US_ASCII))
                        .isEqualTo("pod0 " + fakePod + ":5555");

                // a stranger's datagram is dropped: nothing answers, the drop is counted
                long droppedBefore = backend.droppedPackets();
                strangerSocket.send(new DatagramPacket(request, request.length, railyardEndpoint));
                Eventually.eventually(Duration.ofSeconds(5), () -> assertThat(backend.droppedPackets()).isGreaterThan(droppedBefore));
                peer.setSoTimeout(500);
                try {
                    DatagramPacket unexpected = receive(peer);
                    throw new AssertionError("the stranger's packet was delivered: " + unexpected.getLength() + " bytes came back");
                } catch (SocketTimeoutException expected) {
                    // dropped
                }

                // a subnet nobody holds: ICMP net unreachable from flannel0, so the pod fails fast
                ProbeResult nobody = railyard.agent.tcpGet("10.77.250.2", 80, Duration.ofSeconds(3));
                assertThat(nobody.outcome()).as("%s", nobody).isEqualTo(ProbeResult.Outcome.UNREACHABLE);

                // flannel0 deleted behind our back: the resync opens a new device and traffic flows again
                railyard.ns().execChecked("ip", "link", "del", "flannel0");
                peer.setSoTimeout(300);
                Eventually.eventually(Duration.ofSeconds(15), () -> {
                    railyard.agent.udpGet(fakePod, 7002, Duration.ofMillis(100));
                    try {
                        DatagramPacket again = receive(peer);
                        assertThat(Unpooled.wrappedBuffer(again.getData(), 0, again.getLength()).getUnsignedShort(22)).isEqualTo(7002);
                    } catch (IOException e) {
                        throw new AssertionError("nothing arrived yet", e);
                    }
                });
            }
        }
    }
}
