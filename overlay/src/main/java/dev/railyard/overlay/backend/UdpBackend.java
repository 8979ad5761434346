package dev.railyard.overlay.backend;

import dev.railyard.netlink.NetlinkException;
import dev.railyard.netlink.NetworkNamespaces;
import dev.railyard.netlink.TunDevice;
import dev.railyard.overlay.config.BackendConfig;
import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.config.NetworkConfig;
import dev.railyard.overlay.ip.ExternalInterface;
import dev.railyard.overlay.ip.IpException;
import dev.railyard.overlay.ip.IpRunner;
import dev.railyard.overlay.lease.Lease;
import dev.railyard.overlay.lease.LeaseEvent;
import dev.railyard.overlay.lease.LeaseSubnets;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.socket.nio.NioDatagramChannel;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * flannel's udp backend, its default when the config names none: a TUN device {@code flannel0} holds our subnet's
 * first address and the route to the whole network; IP packets the kernel routes into it are sent as UDP datagrams
 * (port 8285 unless {@code Port} says otherwise) to the public IP of the peer holding their destination, and
 * datagrams from peers are written back into the device. The wire format is flannel's (the bare IP packet as the
 * datagram's payload), so flanneld and Railyard hosts exchange traffic. IPv4 only; MTU = interface MTU - 28.
 *
 * <p>One thread reads the TUN device (JNA, through the netlink module) into pooled direct buffers and hands them to
 * a Netty datagram channel; the channel's event loop writes received packets straight from its buffers into the
 * device. Like flannel's proxy, both directions decrement the TTL and a packet for a subnet no peer holds is
 * answered with ICMP net unreachable (sent from the network's address, where flannel's comes from flannel0's own and
 * is dropped by the kernel as a martian). Unlike it, datagrams from addresses that are not a peer's are dropped.
 */
public final class UdpBackend implements Backend {
    private static final Logger log = LoggerFactory.getLogger(UdpBackend.class);
    private static final int UDP_OVERHEAD = 28; // IPv4 header + UDP header
    private static final String TUN_NAME = "flannel0";

    private final IpRunner ip;
    private final ExternalInterface external;
    private final NetworkConfig config;
    private final int port;
    private final Map<LeaseSubnets, Lease> peers = new HashMap<>();
    private final AtomicLong dropped = new AtomicLong();
    private volatile UdpRoutes routes = UdpRoutes.EMPTY;
    private volatile TunDevice tun;
    private volatile boolean stopping;
    private EventLoopGroup group;
    private Channel channel;
    private Thread reader;
    private Lease own;

    public UdpBackend(IpRunner ip, ExternalInterface external, NetworkConfig config) {
        if (!external.hasIpv4()) {
            throw new IpException("the udp backend needs an IPv4 address on the external interface");
        }
        this.ip = ip;
        this.external = external;
        this.config = config;
        this.port = config.backend().port() == 0 ? BackendConfig.DEFAULT_UDP_PORT : config.backend().port();
    }

    /** Opens the TUN device and the UDP socket (in the backend's network namespace). */
    public synchronized UdpBackend prepare() {
        openTun();
        boolean epoll = Epoll.isAvailable();
        group = new MultiThreadIoEventLoopGroup(1, epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        Bootstrap bootstrap = new Bootstrap().group(group)
                // an IPv4 socket, as flannel's udp4 (a dual-stack one would bind ::ffff:a.b.c.d)
                .channelFactory(epoll ? () -> new EpollDatagramChannel(SocketProtocolFamily.INET)
                        : () -> new NioDatagramChannel(SocketProtocolFamily.INET))
                .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .option(ChannelOption.SO_RCVBUF, 4 << 20)
                .option(ChannelOption.SO_SNDBUF, 4 << 20)
                .handler(new FromPeers());
        InetSocketAddress local = new InetSocketAddress(Ip4Net.toInetAddress(external.address()), port);
        try {
            // the socket belongs to the namespace of the thread that creates it
            channel = NetworkNamespaces.callIn(ip.netns(), () -> bootstrap.bind(local).syncUninterruptibly().channel());
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
            tun.close();
            throw new IpException("udp backend: cannot listen on " + local + ": " + e.getMessage(), e);
        }
        log.info("udp backend: {} on UDP {} ({} transport)", tun.name(), local, epoll ? "epoll" : "NIO");
        return this;
    }

    private void openTun() {
        try {
            tun = TunDevice.open(TUN_NAME, ip.netns());
        } catch (NetlinkException e) {
            throw new IpException("udp backend: " + e.getMessage(), e);
        }
    }

    /** The TUN device's name ({@code flannel0}). */
    public String device() {
        return TUN_NAME;
    }

    /** Packets dropped so far: no peer for their destination, TTL ran out, a full socket, or a stranger's datagram. */
    public long droppedPackets() {
        return dropped.get();
    }

    @Override
    public String type() {
        return "udp";
    }

    @Override
    public String backendDataJson() {
        return "null";
    }

    @Override
    public int mtu() {
        return external.mtu() - UDP_OVERHEAD;
    }

    @Override
    public synchronized void localLease(Lease own) {
        this.own = own;
        configureTun();
        if (reader == null) {
            reader = new Thread(this::readTun, "overlay-udp-tun");
            reader.setDaemon(true);
            reader.start();
        }
    }

    /** As flannel: our subnet's first address as a host route (no broadcast routes), and the network via the device. */
    private void configureTun() {
        ip.run("ip", "addr", "replace", own.subnet().addressString() + "/32", "dev", TUN_NAME);
        ip.run("ip", "link", "set", TUN_NAME, "mtu", String.valueOf(mtu()), "up");
        ip.run("ip", "route", "replace", config.network().toString(), "dev", TUN_NAME);
    }

    @Override
    public synchronized void reset(List<Lease> leases) {
        peers.clear();
        for (Lease l : leases) {
            if (relevant(l)) {
                peers.put(l.subnets(), l);
            }
        }
        publish();
    }

    @Override
    public synchronized void changed(List<LeaseEvent> events) {
        for (LeaseEvent e : events) {
            if (e.type() == LeaseEvent.Type.ADDED && relevant(e.lease())) {
                peers.put(e.lease().subnets(), e.lease());
            } else {
                peers.remove(e.lease().subnets());
            }
        }
        publish();
    }

    private boolean relevant(Lease l) {
        if (l.subnet() == null || !l.attrs().hasPublicIp()) {
            return false;
        }
        if (own != null && (l.subnets().equals(own.subnets()) || l.attrs().publicIp() == own.attrs().publicIp())) {
            return false;
        }
        if (!type().equals(l.attrs().backendType())) {
            log.warn("ignoring lease {} of {}: backend {} is not udp", l.subnets(), l.attrs().hostName(), l.attrs().backendType());
            return false;
        }
        return true;
    }

    private void publish() {
        Map<Ip4Net, InetSocketAddress> table = new HashMap<>();
        for (Lease l : peers.values()) {
            table.put(l.subnet(), new InetSocketAddress(Ip4Net.toInetAddress(l.attrs().publicIp()), port));
        }
        routes = new UdpRoutes(table);
        log.info("udp backend: {} peer(s)", table.size());
    }

    /** The peers the forwarding table holds now. */
    public synchronized List<Lease> programmedPeers() {
        return List.copyOf(peers.values());
    }

    // ---- TUN -> UDP, on the reader thread ----

    private void readTun() {
        PooledByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
        int capacity = Math.max(external.mtu(), 1500) + 64;
        ByteBuf icmp = alloc.directBuffer(Ipv4Packets.HEADER + 8 + 68);
        try {
            while (!stopping) {
                TunDevice device = tun;
                if (!device.awaitReadable(200)) {
                    continue;
                }
                boolean wrote = false;
                while (!stopping) {
                    ByteBuf buf = alloc.directBuffer(capacity);
                    int n;
                    try {
                        n = device.read(buf.memoryAddress(), capacity);
                    } catch (NetlinkException e) {
                        buf.release();
                        if (!stopping) {
                            log.warn("udp backend: {}; re-opening at the next resync", e.getMessage());
                            sleepQuietly(200);
                        }
                        break;
                    }
                    if (n < 0) {
                        buf.release();
                        break;
                    }
                    buf.writerIndex(n);
                    wrote |= forward(buf, n, device, icmp);
                }
                if (wrote) {
                    channel.flush();
                }
            }
        } finally {
            icmp.release();
        }
    }

    /** Sends one packet to its peer; true when it was queued on the channel. Takes ownership of {@code buf}. */
    private boolean forward(ByteBuf buf, int n, TunDevice device, ByteBuf icmp) {
        if (!Ipv4Packets.isIpv4(buf, 0, n)) {
            buf.release();
            return false;
        }
        InetSocketAddress hop = routes.nextHop(Ipv4Packets.destination(buf, 0));
        if (hop == null) {
            dropped.incrementAndGet();
            // flannel answers from flannel0's own address, which the kernel drops as a martian (a local source on a
            // non-loopback device); the network's address is not local and routes back through flannel0
            if (Ipv4Packets.netUnreachable(buf, 0, n, config.network().address(), icmp)) {
                device.write(icmp.memoryAddress(), icmp.readableBytes());
            }
            buf.release();
            return false;
        }
        if (!Ipv4Packets.decrementTtl(buf, 0) || !channel.isWritable()) {
            dropped.incrementAndGet();
            buf.release();
            return false;
        }
        channel.write(new DatagramPacket(buf, hop), channel.voidPromise());
        return true;
    }

    // ---- UDP -> TUN, on the channel's event loop ----

    private final class FromPeers extends SimpleChannelInboundHandler<DatagramPacket> {
        private ByteBuf scratch;

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            ByteBuf content = packet.content();
            int index = content.readerIndex();
            int n = content.readableBytes();
            InetSocketAddress sender = packet.sender();
            byte[] from = sender.getAddress().getAddress();
            int source = from.length == 4
                    ? (from[0] & 0xff) << 24 | (from[1] & 0xff) << 16 | (from[2] & 0xff) << 8 | (from[3] & 0xff) : 0;
            if (!routes.isPeer(source) || !Ipv4Packets.isIpv4(content, index, n)
                    || !Ipv4Packets.decrementTtl(content, index)) {
                dropped.incrementAndGet();
                return;
            }
            long address;
            if (content.hasMemoryAddress()) {
                address = content.memoryAddress() + index;
            } else {
                if (scratch == null) {
                    scratch = PooledByteBufAllocator.DEFAULT.directBuffer(65536);
                }
                scratch.clear().writeBytes(content, index, n);
                address = scratch.memoryAddress();
            }
            try {
                tun.write(address, n);
            } catch (NetlinkException e) {
                dropped.incrementAndGet();
            }
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            if (scratch != null) {
                scratch.release();
                scratch = null;
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("udp backend: receive failed", cause);
        }
    }

    @Override
    public synchronized void reconcile() {
        if (own == null) {
            return;
        }
        if (!linkExists()) {
            // someone deleted flannel0: the kernel detached our descriptor; open a new device
            log.warn("{} disappeared; re-creating it", TUN_NAME);
            TunDevice old = tun;
            openTun();
            old.close();
        }
        configureTun();
    }

    private boolean linkExists() {
        try {
            ip.run("ip", "link", "show", TUN_NAME);
            return true;
        } catch (IpException e) {
            // interrupted (the daemon is stopping) says nothing about the device
            return Thread.currentThread().isInterrupted();
        }
    }

    /** Stops forwarding and closes the device (the kernel removes it and its routes) and the socket. */
    @Override
    public synchronized void teardown() {
        stopping = true;
        if (reader != null) {
            reader.interrupt();
            try {
                reader.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            reader = null;
        }
        if (channel != null) {
            channel.close().syncUninterruptibly();
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (tun != null) {
            tun.close();
        }
        peers.clear();
        routes = UdpRoutes.EMPTY;
    }

    /** The TUN device and the socket go with the process, and with them everything they carried. */
    @Override
    public void close() {
        teardown();
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
