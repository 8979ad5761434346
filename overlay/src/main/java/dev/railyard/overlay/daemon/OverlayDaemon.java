package dev.railyard.overlay.daemon;

import dev.railyard.overlay.backend.Backend;
import dev.railyard.overlay.backend.HostGwBackend;
import dev.railyard.overlay.backend.UdpBackend;
import dev.railyard.overlay.backend.VxlanBackend;
import dev.railyard.overlay.config.ConfigException;
import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.config.MissingConfigException;
import dev.railyard.overlay.config.NetworkConfig;
import dev.railyard.overlay.ip.ExternalInterface;
import dev.railyard.overlay.ip.InterfaceSelector;
import dev.railyard.overlay.ip.IpRunner;
import dev.railyard.overlay.lease.Lease;
import dev.railyard.overlay.lease.LeaseAttrs;
import dev.railyard.overlay.lease.LeaseEvent;
import dev.railyard.overlay.lease.LeaseException;
import dev.railyard.overlay.lease.LeaseListener;
import dev.railyard.overlay.lease.LeaseSubnets;
import dev.railyard.overlay.lease.NetworkFullException;
import dev.railyard.overlay.lease.StoredNodeState;
import dev.railyard.overlay.lease.SubnetManager;
import dev.railyard.overlay.masq.Masquerade;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node agent: lease a subnet, publish subnet.env, program peers from the lease watch, and keep
 * the lease alive. Losing etcd never tears anything down: routes stay as they are and renewal
 * simply retries until etcd answers again.
 */
public final class OverlayDaemon implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(OverlayDaemon.class);
    private static final Duration MIN_RETRY = Duration.ofMillis(500);
    private static final Duration MAX_RETRY = Duration.ofSeconds(10);

    private final DaemonOptions options;
    private final SubnetManager manager;
    private final IpRunner ip;
    private final Semaphore renewNow = new Semaphore(0);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean closing;
    private volatile Lease lease;
    private NetworkConfig config;
    private Backend backend;
    private Masquerade masquerade;
    private AutoCloseable watch;
    private Thread renewer;
    private Thread resyncer;

    public OverlayDaemon(DaemonOptions options, SubnetManager manager) {
        this.options = options;
        this.manager = manager;
        this.ip = new IpRunner(options.netns());
    }

    /**
     * Blocks until this host holds a lease and the data plane is set up, retrying while etcd is
     * unreachable or holds no config yet. A config that does not parse and a full network are not
     * retried: they need an operator, so they fail with their message.
     */
    public OverlayDaemon start() {
        config = retrying("read network config", manager::networkConfig);
        StoredNodeState stored = manager.storedState();
        ExternalInterface ext = new InterfaceSelector(ip).select(interfaceOptions(stored), config.enableIPv4(),
                config.enableIPv6());
        log.info("using interface {} ({}), public IP {}, network {}, backend {}", ext.name(),
                both(ext.hasIpv4() ? Ip4Net.formatAddress(ext.address()) : null, ext.hasIpv6() ? ext.address6() : null),
                both(ext.hasIpv4() ? Ip4Net.formatAddress(ext.publicIp()) : null,
                        ext.hasIpv6() ? ext.publicIpv6() : null),
                both(config.enableIPv4() ? config.network() : null, config.enableIPv6() ? config.ipv6Network() : null),
                config.backend().type().flannelName());
        backend = switch (config.backend().type()) {
            case HOST_GW -> new HostGwBackend(ip, ext, config);
            case VXLAN -> new VxlanBackend(ip, ext, config.backend(), stored).prepare();
            case UDP -> new UdpBackend(ip, ext, config).prepare();
        };
        try {
            LeaseAttrs attrs = new LeaseAttrs(ext.hasIpv4() ? ext.publicIp() : 0, ext.publicIpv6(), backend.type(),
                    backend.backendDataJson(), backend.backendV6DataJson());
            LeaseSubnets previous = SubnetEnv.previousSubnets(options.subnetFile());
            lease = retrying("acquire subnet lease", () -> manager.acquire(attrs, previous));
            if (lease.etcdLeaseId() != 0) {
                log.info("leased subnet {} (etcd lease {})", lease.subnets(), Long.toHexString(lease.etcdLeaseId()));
            } else { // the Node's pod CIDRs in kube mode, or an etcd reservation: no etcd lease to name
                log.info("leased subnet {}", lease.subnets());
            }
            if (options.ipMasq()) {
                // as flannel: starting in one mode removes what the other mode left
                Masquerade.otherThan(config, ip).cleanUp();
                masquerade = Masquerade.forConfig(config, ip);
            }
            useLease(lease);
            manager.leaseInUse(lease);
        } catch (RuntimeException e) {
            backend.close();
            throw e;
        }
        watch = manager.watch(new OwnLeaseFilter());
        renewer = new Thread(this::renewLoop, "overlay-lease-renew");
        renewer.setDaemon(true);
        renewer.start();
        resyncer = new Thread(this::resyncLoop, "overlay-resync");
        resyncer.setDaemon(true);
        resyncer.start();
        return this;
    }

    /** Puts back whatever was removed behind our back; needs no etcd, so it also runs during outages. */
    private void resyncLoop() {
        while (!closing) {
            try {
                Thread.sleep(options.resyncInterval().toMillis());
                backend.reconcile();
                if (masquerade != null) {
                    masquerade.apply(config, lease);
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                if (!closing) {
                    log.warn("re-applying routes and rules failed: {}", e.getMessage());
                }
            }
        }
    }

    /** The interface options, with the addresses an operator put on the Node (kube mode) taking precedence. */
    private InterfaceSelector.Options interfaceOptions(StoredNodeState stored) {
        InterfaceSelector.Options o = options.interfaces();
        return new InterfaceSelector.Options(o.ifaces(), o.ifaceRegexes(), o.canReach(),
                stored.publicIp() != null ? stored.publicIp() : o.publicIp(),
                stored.publicIpv6() != null ? stored.publicIpv6() : o.publicIpv6());
    }

    private void useLease(Lease l) {
        backend.localLease(l);
        if (masquerade != null) {
            masquerade.apply(config, l);
        }
        SubnetEnv.of(config, l, backend.mtu(), options.ipMasq()).write(options.subnetFile());
    }

    public NetworkConfig config() {
        return config;
    }

    public Lease lease() {
        return lease;
    }

    public Backend backend() {
        return backend;
    }

    /** Blocks until {@link #close()}. */
    public void awaitStop() throws InterruptedException {
        stopped.await();
    }

    private void renewLoop() {
        Duration retry = MIN_RETRY;
        Instant next = nextRenewal(lease);
        while (!closing) {
            try {
                long waitMillis = Math.max(0, Duration.between(Instant.now(), next).toMillis());
                if (renewNow.tryAcquire(waitMillis, TimeUnit.MILLISECONDS)) {
                    renewNow.drainPermits();
                }
                if (closing) {
                    return;
                }
                Lease before = lease;
                Lease after = manager.renew(before);
                lease = after;
                if (!after.subnets().equals(before.subnets())) {
                    // Pods already running keep addresses from the old subnet; they need restarting.
                    log.warn("subnet changed from {} to {}: the old one was taken while our lease was expired",
                            before.subnets(), after.subnets());
                    useLease(after);
                } else if (after.etcdLeaseId() != before.etcdLeaseId()) {
                    log.info("re-acquired subnet {} with a new etcd lease", after.subnets());
                }
                retry = MIN_RETRY;
                next = nextRenewal(after);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.warn("renewing the lease on {} failed, retrying in {} ms: {}", lease.subnets(), retry.toMillis(),
                        e.getMessage());
                next = Instant.now().plus(retry);
                retry = retry.multipliedBy(2).compareTo(MAX_RETRY) > 0 ? MAX_RETRY : retry.multipliedBy(2);
            }
        }
    }

    private Instant nextRenewal(Lease l) {
        if (l.isReservation()) {
            return Instant.now().plus(Duration.ofHours(1)); // nothing to renew; just check it still exists
        }
        Duration left = Duration.between(Instant.now(), l.expiration());
        // a margin larger than half the TTL (short test TTLs) would renew in a tight loop
        Duration margin = options.renewMargin().compareTo(left.dividedBy(2)) > 0 ? left.dividedBy(2) : options.renewMargin();
        return l.expiration().minus(margin);
    }

    private <T> T retrying(String what, java.util.function.Supplier<T> action) {
        Duration retry = MIN_RETRY;
        while (true) {
            try {
                return action.get();
            } catch (MissingConfigException e) {
                if (closing) {
                    throw e;
                }
                log.warn("{}; waiting for it", e.getMessage());
                sleep(retry, e);
                retry = MAX_RETRY.compareTo(retry.multipliedBy(2)) < 0 ? MAX_RETRY : retry.multipliedBy(2);
            } catch (ConfigException | NetworkFullException e) {
                throw e;
            } catch (LeaseException e) {
                if (closing) {
                    throw e;
                }
                log.warn("{} failed, retrying in {} ms: {}", what, retry.toMillis(), e.getMessage());
                sleep(retry, e);
                retry = MAX_RETRY.compareTo(retry.multipliedBy(2)) < 0 ? MAX_RETRY : retry.multipliedBy(2);
            }
        }
    }

    /** "v4 v6", "v4" or "v6": the families a node has, without the gap of a missing one. */
    private static String both(Object ipv4, Object ipv6) {
        return ipv4 == null ? String.valueOf(ipv6) : ipv6 == null ? ipv4.toString() : ipv4 + " " + ipv6;
    }

    private static void sleep(Duration d, RuntimeException cause) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw cause;
        }
    }

    /**
     * Passes peer events to the backend, and wakes the renewer if our own key disappears. A lease whose subnet lies
     * outside the configured network is not passed on: programming it would route someone else's addresses (a
     * stray key for 192.168.0.0/24 would send the hosts' own LAN into the overlay).
     */
    private final class OwnLeaseFilter implements LeaseListener {
        private final Set<LeaseSubnets> refused = new HashSet<>();

        @Override
        public void reset(List<Lease> leases) {
            Lease me = lease;
            if (leases.stream().noneMatch(l -> l.subnets().equals(me.subnets()))) {
                renewNow.release();
            }
            backend.reset(leases.stream().filter(this::inNetwork).toList());
        }

        @Override
        public void changed(List<LeaseEvent> events) {
            Lease me = lease;
            for (LeaseEvent e : events) {
                if (e.type() == LeaseEvent.Type.REMOVED && e.lease().subnets().equals(me.subnets())) {
                    log.warn("our lease on {} was removed; acquiring it again", me.subnets());
                    renewNow.release();
                }
            }
            backend.changed(events.stream()
                    .filter(e -> e.type() == LeaseEvent.Type.REMOVED || inNetwork(e.lease())).toList());
        }

        private boolean inNetwork(Lease l) {
            boolean inside = (l.subnet() == null || config.network() == null || config.network().contains(l.subnet()))
                    && (l.ipv6Subnet() == null || config.ipv6Network() == null
                    || config.ipv6Network().contains(l.ipv6Subnet()));
            if (!inside && refused.add(l.subnets())) {
                log.warn("ignoring lease {} of {}: outside the network {}", l.subnets(), l.attrs().hostName(),
                        both(config.network(), config.ipv6Network()));
            }
            return inside;
        }
    }

    /** Stops renewing and watching. Routes and devices are left in place, as flannel leaves them. */
    @Override
    public void close() {
        closing = true;
        for (Thread t : new Thread[] {renewer, resyncer}) {
            if (t != null) {
                t.interrupt();
                try {
                    t.join(5000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        if (watch != null) {
            try {
                watch.close();
            } catch (Exception e) {
                log.warn("closing the lease watch failed", e);
            }
        }
        if (backend != null) {
            backend.close();
        }
        stopped.countDown();
    }
}
