package dev.railyard.overlay.backend;

import dev.railyard.overlay.ip.BatchResult;
import dev.railyard.overlay.ip.ExternalInterface;
import dev.railyard.overlay.ip.IpRunner;
import dev.railyard.overlay.lease.Lease;
import dev.railyard.overlay.lease.LeaseEvent;
import dev.railyard.overlay.lease.LeaseSubnets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bookkeeping shared by backends: which peer leases are programmed, what a reset or a batch of
 * events changes, and turning that difference into one batch of commands. Subclasses only say how
 * one peer is added or removed.
 */
abstract class PeerBackend implements Backend {
    private static final Logger log = LoggerFactory.getLogger(PeerBackend.class);

    protected final IpRunner ip;
    protected final ExternalInterface external;
    private final Map<LeaseSubnets, Lease> programmed = new HashMap<>();
    private volatile Lease own;
    private boolean straysChecked;

    PeerBackend(IpRunner ip, ExternalInterface external) {
        this.ip = ip;
        this.external = external;
    }

    @Override
    public void localLease(Lease own) {
        this.own = own;
    }

    /** Commands to program one peer, appended to the ip and bridge batches. */
    protected abstract void add(Lease peer, List<String> ipLines, List<String> bridgeLines);

    /** Commands to remove one previously programmed peer. */
    protected abstract void remove(Lease peer, List<String> ipLines, List<String> bridgeLines);

    /** Whether this backend can program {@code peer} at all (e.g. the VXLAN backend needs a VTEP MAC). */
    protected abstract boolean accepts(Lease peer);

    private boolean relevant(Lease l) {
        Lease me = own;
        if (me != null && (l.subnets().equals(me.subnets()) || l.attrs().hostName().equals(me.attrs().hostName()))) {
            return false;
        }
        if (!type().equals(l.attrs().backendType())) {
            log.warn("ignoring lease {} of {}: backend {} is not {}", l.subnets(), l.attrs().hostName(),
                    l.attrs().backendType(), type());
            return false;
        }
        if (external.hasIpv4() && (l.subnet() == null || !l.attrs().hasPublicIp())
                || external.hasIpv6() && (l.ipv6Subnet() == null || l.attrs().publicIpv6() == null)) {
            log.warn("ignoring lease {} of {}: it lacks a subnet or public address of a family this network uses",
                    l.subnets(), l.attrs().hostName());
            return false;
        }
        return accepts(l);
    }

    @Override
    public synchronized void reset(List<Lease> leases) {
        Map<LeaseSubnets, Lease> desired = new HashMap<>();
        for (Lease l : leases) {
            if (relevant(l)) {
                desired.put(l.subnets(), l);
            }
        }
        List<Lease> removals = new ArrayList<>();
        for (Lease p : programmed.values()) {
            if (!same(p, desired.get(p.subnets()))) {
                removals.add(p);
            }
        }
        List<Lease> additions = new ArrayList<>();
        for (Lease d : desired.values()) {
            if (!same(d, programmed.get(d.subnets()))) {
                additions.add(d);
            }
        }
        if (!straysChecked) {
            // the first complete lease set: whatever an earlier run programmed for hosts that left since goes
            straysChecked = true;
            List<String> ipLines = new ArrayList<>();
            List<String> bridgeLines = new ArrayList<>();
            removeStrays(desired.values(), ipLines, bridgeLines);
            if (!ipLines.isEmpty() || !bridgeLines.isEmpty()) {
                log.info("removing {} entries an earlier run left for hosts that are gone", ipLines.size() + bridgeLines.size());
                report(ip.bridgeBatch(bridgeLines), Integer.MAX_VALUE);
                report(ip.ipBatch(ipLines), Integer.MAX_VALUE);
            }
        }
        apply(removals, additions);
    }

    /**
     * Commands removing what the kernel holds for peers not among {@code desired}: entries a previous run of the
     * daemon programmed for hosts that left while it was down. Called once, with the first complete lease set.
     */
    protected void removeStrays(java.util.Collection<Lease> desired, List<String> ipLines, List<String> bridgeLines) {
    }

    @Override
    public synchronized void changed(List<LeaseEvent> events) {
        // Collapse the batch to its net effect per subnet so one subnet is touched once.
        Map<LeaseSubnets, Lease> last = new HashMap<>();
        for (LeaseEvent e : events) {
            last.put(e.lease().subnets(), e.type() == LeaseEvent.Type.ADDED && relevant(e.lease()) ? e.lease() : null);
        }
        List<Lease> removals = new ArrayList<>();
        List<Lease> additions = new ArrayList<>();
        last.forEach((subnet, lease) -> {
            Lease current = programmed.get(subnet);
            if (current != null && !same(current, lease)) {
                removals.add(current);
            }
            if (lease != null && !same(lease, current)) {
                additions.add(lease);
            }
        });
        apply(removals, additions);
    }

    /** Only what is programmed matters; a new etcd lease ID for the same peer changes nothing. */
    private static boolean same(Lease a, Lease b) {
        return a != null && b != null && a.subnets().equals(b.subnets()) && a.attrs().equals(b.attrs());
    }

    private void apply(List<Lease> removals, List<Lease> additions) {
        if (removals.isEmpty() && additions.isEmpty()) {
            return;
        }
        List<String> ipLines = new ArrayList<>();
        List<String> bridgeLines = new ArrayList<>();
        for (Lease r : removals) {
            remove(r, ipLines, bridgeLines);
            programmed.remove(r.subnets());
        }
        int removalIpLines = ipLines.size();
        int removalBridgeLines = bridgeLines.size();
        for (Lease a : additions) {
            add(a, ipLines, bridgeLines);
            programmed.put(a.subnets(), a);
        }
        // FDB first: a route to a VTEP without its forwarding entry would blackhole briefly.
        report(ip.bridgeBatch(bridgeLines), removalBridgeLines);
        report(ip.ipBatch(ipLines), removalIpLines);
        log.info("programmed {} peer(s), removed {} ({} total)", additions.size(), removals.size(), programmed.size());
    }

    private static void report(BatchResult r, int removalLines) {
        for (BatchResult.Failure f : r.failures()) {
            if (f.lineNumber() <= removalLines) {
                // removing what is already gone (e.g. the kernel dropped the route with its link) is fine
                log.debug("removal '{}' failed: {}", f.line(), f.message());
            } else {
                log.error("failed to program '{}': {}", f.line(), f.message());
            }
        }
    }

    /** The peers programmed now, for tests and status. */
    public synchronized List<Lease> programmedPeers() {
        return List.copyOf(programmed.values());
    }

    @Override
    public synchronized void reconcile() {
        List<String> ipLines = new ArrayList<>();
        List<String> bridgeLines = new ArrayList<>();
        for (Lease p : programmed.values()) {
            add(p, ipLines, bridgeLines);
        }
        report(ip.bridgeBatch(bridgeLines), 0);
        report(ip.ipBatch(ipLines), 0);
    }

    @Override
    public synchronized void teardown() {
        apply(List.copyOf(programmed.values()), List.of());
    }
}
