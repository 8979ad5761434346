package dev.railyard.overlay.lease;

import dev.railyard.overlay.config.ConfigException;
import dev.railyard.overlay.config.MissingConfigException;
import dev.railyard.overlay.config.NetworkConfig;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Subnet leases in etcd, in flannel's layout. Uniqueness rests on one rule: a subnet key is only
 * ever created by a transaction that requires it to be absent, so two hosts can never both win it,
 * whichever etcd member they talk to. Beside flannel's keys it keeps a host index (public IP to
 * subnet, see {@link SubnetKeys#hostKey}) so that a host finds its own subnet, and a new host picks
 * one, without listing every lease; the full listing is kept for crowded networks.
 */
public final class EtcdSubnetManager implements SubnetManager {
    private static final Logger log = LoggerFactory.getLogger(EtcdSubnetManager.class);
    // Lost create races are retried with a fresh pick; more than this many means something is wrong.
    private static final int MAX_ATTEMPTS = 20;
    // Random create attempts before falling back to listing every lease.
    private static final int OPTIMISTIC_PICKS = 4;
    // Picks among the subnets a full listing showed free, before looking again.
    private static final int CROWDED_PICKS = 8;

    private final EtcdOptions options;
    private final SubnetKeys keys;
    private final Client client;
    private final boolean ownsClient;
    // The config the caller just read (the daemon reads it before acquiring, to pick its backend);
    // like flannel, a running host does not follow config changes.
    private volatile NetworkConfig lastConfig;

    public EtcdSubnetManager(EtcdOptions options) {
        this(options, EtcdClients.create(options), true);
    }

    /** Shares {@code client} (e.g. many simulated hosts in a benchmark); closing does not close it. */
    public EtcdSubnetManager(EtcdOptions options, Client client) {
        this(options, client, false);
    }

    private EtcdSubnetManager(EtcdOptions options, Client client, boolean ownsClient) {
        this.options = options;
        this.keys = new SubnetKeys(options.prefix());
        this.client = client;
        this.ownsClient = ownsClient;
    }

    public static Client newClient(EtcdOptions options) {
        return EtcdClients.create(options);
    }

    public SubnetKeys keys() {
        return keys;
    }

    Client client() {
        return client;
    }

    @Override
    public NetworkConfig networkConfig() {
        GetResponse r = await("read network config " + keys.configKey(), client.getKVClient().get(bytes(keys.configKey())));
        if (r.getKvs().isEmpty()) {
            throw new MissingConfigException("network config not found at " + keys.configKey()
                    + " in etcd; create it with 'railyard overlay config put FILE'");
        }
        NetworkConfig config = NetworkConfig.parse(r.getKvs().get(0).getValue().toString(StandardCharsets.UTF_8));
        lastConfig = config;
        return config;
    }

    /** Stores {@code json} as the network config after validating it, so a bad config never lands. */
    public NetworkConfig putNetworkConfig(String json) {
        NetworkConfig parsed = NetworkConfig.parse(json);
        await("write network config " + keys.configKey(),
                client.getKVClient().put(bytes(keys.configKey()), bytes(json)));
        return parsed;
    }

    /** The raw config text as stored, or null when there is none. */
    public String rawNetworkConfig() {
        GetResponse r = await("read network config " + keys.configKey(), client.getKVClient().get(bytes(keys.configKey())));
        return r.getKvs().isEmpty() ? null : r.getKvs().get(0).getValue().toString(StandardCharsets.UTF_8);
    }

    @Override
    public Lease acquire(LeaseAttrs attrs, LeaseSubnets previous) {
        // Granted while the first read is in flight, and reused across lost races: one grant per acquisition.
        CompletableFuture<Long> grant = client.getLeaseClient().grant(options.leaseTtl().toSeconds()).thenApply(g -> g.getID());
        Lease acquired = null;
        try {
            for (int attempt = 0; attempt < MAX_ATTEMPTS && acquired == null; attempt++) {
                NetworkConfig known = lastConfig;
                // Common case, a host without a recorded subnet: assume it has no host index entry and go
                // straight to a create transaction, which checks that assumption and sends us back here if wrong.
                Probe probe = attempt == 0 && previous == null && known != null
                        ? new Probe(known, null, 0, null)
                        : probe(attrs, previous);
                acquired = attempt(attrs, previous, probe, await("grant lease", grant));
            }
            if (acquired == null) {
                throw new LeaseException("could not acquire a subnet after " + MAX_ATTEMPTS
                        + " attempts: every chosen subnet was taken by another host first");
            }
            return acquired;
        } finally {
            if (acquired == null || acquired.isReservation()) {
                grant.thenAccept(this::revokeQuietly); // a reservation keeps no TTL: the granted lease is unused
            }
        }
    }

    /**
     * One look at etcd and the transactions it suggests, cheapest first; null when something changed under us
     * (another host won every subnet tried, our host index or subnet key moved) and it is worth looking again.
     */
    private Lease attempt(LeaseAttrs attrs, LeaseSubnets previous, Probe probe, long id) {
        SubnetSpace space = new SubnetSpace(probe.config);
        // 1. the subnet our host index points at, if it is still ours
        Stored mine = probe.indexed != null ? probe.indexed : ours(probe.previous, attrs, space);
        if (mine != null) {
            return takeOver(mine, attrs, id);
        }
        SubnetAllocator allocator = new SubnetAllocator(space, ThreadLocalRandom.current());
        CreateTries tries = new CreateTries(attrs, id, probe.indexModRevision);
        // 2. the subnet recorded locally, when free
        if (previous != null && space.isAllocatable(previous)) {
            if (probe.previous == null) {
                Lease lease = tries.at(previous, allocator);
                if (lease != null || tries.indexMoved) {
                    return lease;
                }
            } else {
                allocator.markTaken(previous);
            }
        }
        // 3. optimistic random picks: in a sparse network one transaction wins without listing anything
        Lease lease = tries.random(allocator, (int) Math.min(OPTIMISTIC_PICKS, allocator.freeCount()));
        if (lease != null || tries.indexMoved) {
            return lease;
        }
        // 4. crowded: list everything, as flannel always does, and choose among what is really free
        Snapshot snapshot = list();
        for (Stored s : snapshot.stored) {
            if (ours(s, attrs, space) != null) {
                return takeOver(s, attrs, id);
            }
        }
        allocator = new SubnetAllocator(space, ThreadLocalRandom.current());
        for (Stored s : snapshot.stored) {
            allocator.markTaken(s.lease.subnets());
        }
        return tries.random(allocator, CROWDED_PICKS); // throws NetworkFullException when nothing is free
    }

    /**
     * The create-if-absent transactions of one attempt, which share its etcd lease and the host index revision it
     * read: a subnet another host won is marked taken; a moved host index ends the attempt.
     */
    private final class CreateTries {
        private final LeaseAttrs attrs;
        private final long id;
        private final long indexModRevision;
        private boolean indexMoved;

        CreateTries(LeaseAttrs attrs, long id, long indexModRevision) {
            this.attrs = attrs;
            this.id = id;
            this.indexModRevision = indexModRevision;
        }

        /** Our new lease of {@code subnet}, or null when it was taken or the index moved. */
        Lease at(LeaseSubnets subnet, SubnetAllocator allocator) {
            switch (createIfAbsent(subnet, attrs, id, indexModRevision)) {
                case CREATED:
                    return new Lease(subnet, attrs, id, Instant.now().plus(options.leaseTtl()));
                case INDEX_CHANGED:
                    indexMoved = true;
                    return null;
                default:
                    allocator.markTaken(subnet);
                    return null;
            }
        }

        /** Up to {@code picks} random free subnets, stopping at the first won or when the index moves. */
        Lease random(SubnetAllocator allocator, int picks) {
            for (int i = 0; i < picks && !indexMoved; i++) {
                Lease lease = at(allocator.pick(), allocator);
                if (lease != null) {
                    return lease;
                }
            }
            return null;
        }
    }

    private static Stored ours(Stored s, LeaseAttrs attrs, SubnetSpace space) {
        return s != null && s.lease.attrs().hostName().equals(attrs.hostName()) && space.isAllocatable(s.lease.subnets())
                ? s : null;
    }

    /** What one read transaction tells us: the config, our host index entry, and the previous subnet's key. */
    private record Probe(NetworkConfig config, Stored indexed, long indexModRevision, Stored previous) {
    }

    private Probe probe(LeaseAttrs attrs, LeaseSubnets previous) {
        ByteSequence hostKey = bytes(keys.hostKey(attrs.hostName()));
        // Serializable (possibly stale) reads are safe here: every write that acts on them compares the
        // revision it saw, so staleness costs a retry, never a duplicate. They skip a raft round trip.
        GetOption local = GetOption.builder().withSerializable(true).build();
        List<Op> gets = new ArrayList<>(List.of(Op.get(bytes(keys.configKey()), local), Op.get(hostKey, local)));
        if (previous != null) {
            gets.add(Op.get(bytes(keys.subnetKey(previous)), local));
        }
        TxnResponse r = await("read network config and host index", client.getKVClient().txn().Then(gets.toArray(Op[]::new)).commit());
        List<GetResponse> got = r.getGetResponses();
        if (got.get(0).getKvs().isEmpty()) {
            throw new MissingConfigException("network config not found at " + keys.configKey()
                    + " in etcd; create it with 'railyard overlay config put FILE'");
        }
        NetworkConfig config = NetworkConfig.parse(got.get(0).getKvs().get(0).getValue().toString(StandardCharsets.UTF_8));
        Stored prev = previous == null ? null : stored(got.get(2));
        long indexModRevision = 0;
        Stored indexed = null;
        if (!got.get(1).getKvs().isEmpty()) {
            KeyValue index = got.get(1).getKvs().get(0);
            indexModRevision = index.getModRevision();
            LeaseSubnets subnet = keys.parseSubnetKey(keys.subnetsPrefix() + index.getValue().toString(StandardCharsets.UTF_8));
            if (subnet != null) {
                Stored target = subnet.equals(previous) ? prev
                        : stored(await("read indexed subnet", client.getKVClient().get(bytes(keys.subnetKey(subnet)))));
                indexed = ours(target, attrs, new SubnetSpace(config));
            }
        }
        return new Probe(config, indexed, indexModRevision, prev);
    }

    private Stored stored(GetResponse r) {
        if (r.getKvs().isEmpty()) {
            return null;
        }
        KeyValue kv = r.getKvs().get(0);
        Lease l = toLease(kv);
        return l == null ? null : new Stored(l, kv.getModRevision());
    }

    private enum Outcome { CREATED, TAKEN, INDEX_CHANGED }

    /**
     * flannel's create-if-absent: the transaction only puts the subnet key when its version is 0, and
     * writes our host index entry with it on the same etcd lease so both expire together.
     */
    private Outcome createIfAbsent(LeaseSubnets subnet, LeaseAttrs attrs, long id, long indexModRevision) {
        ByteSequence key = bytes(keys.subnetKey(subnet));
        ByteSequence hostKey = bytes(keys.hostKey(attrs.hostName()));
        PutOption withLease = PutOption.builder().withLeaseId(id).build();
        TxnResponse r = await("create subnet lease " + keys.subnetKey(subnet), client.getKVClient().txn()
                .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.version(0)),
                        new Cmp(hostKey, Cmp.Op.EQUAL, CmpTarget.modRevision(indexModRevision)))
                .Then(Op.put(key, bytes(attrs.toJson()), withLease),
                        Op.put(hostKey, bytes(subnet.keyName()), withLease))
                .Else(Op.get(hostKey, GetOption.DEFAULT))
                .commit());
        if (r.isSucceeded()) {
            return Outcome.CREATED;
        }
        List<KeyValue> index = r.getGetResponses().get(0).getKvs();
        long now = index.isEmpty() ? 0 : index.get(0).getModRevision();
        return now == indexModRevision ? Outcome.TAKEN : Outcome.INDEX_CHANGED;
    }

    /**
     * Re-binds this host's existing subnet to etcd lease {@code id} (a reservation stays without
     * TTL) and points our host index at it; null if the subnet key changed meanwhile.
     */
    private Lease takeOver(Stored s, LeaseAttrs attrs, long id) {
        ByteSequence key = bytes(keys.subnetKey(s.lease.subnets()));
        ByteSequence hostKey = bytes(keys.hostKey(attrs.hostName()));
        PutOption put = s.lease.isReservation() ? PutOption.DEFAULT : PutOption.builder().withLeaseId(id).build();
        TxnResponse r = await("reuse subnet " + s.lease.subnet(), client.getKVClient().txn()
                .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(s.modRevision)))
                .Then(Op.put(key, bytes(attrs.toJson()), put), Op.put(hostKey, bytes(s.lease.subnets().keyName()), put))
                .commit());
        if (!r.isSucceeded()) {
            return null;
        }
        if (s.lease.isReservation()) {
            return new Lease(s.lease.subnets(), attrs, 0, Instant.MAX);
        }
        // The old etcd lease now holds no key; drop it rather than let it linger for a day.
        if (s.lease.etcdLeaseId() != id) {
            revokeQuietly(s.lease.etcdLeaseId());
        }
        log.info("reusing subnet {} previously leased to {}", s.lease.subnets(), attrs.hostName());
        return new Lease(s.lease.subnets(), attrs, id, Instant.now().plus(options.leaseTtl()));
    }

    @Override
    public Lease renew(Lease lease) {
        if (lease.isReservation()) {
            return lease;
        }
        LeaseKeepAliveResponse ka;
        try {
            ka = await("renew lease of " + lease.subnets(), client.getLeaseClient().keepAliveOnce(lease.etcdLeaseId()));
        } catch (LeaseException e) {
            if (!isLeaseNotFound(e)) {
                throw e;
            }
            ka = null;
        }
        if (ka != null && ka.getTTL() > 0) {
            GetResponse r = await("check subnet key", client.getKVClient().get(bytes(keys.subnetKey(lease.subnets()))));
            if (!r.getKvs().isEmpty() && r.getKvs().get(0).getLease() == lease.etcdLeaseId()) {
                return new Lease(lease.subnets(), lease.attrs(), lease.etcdLeaseId(), Instant.now().plusSeconds(ka.getTTL()));
            }
        }
        log.warn("lease on {} expired or was removed; acquiring again, preferring the same subnet", lease.subnets());
        return acquire(lease.attrs(), lease.subnets());
    }

    private static boolean isLeaseNotFound(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && t.getMessage().contains("requested lease not found")) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    /** All subnet leases and the revision they were read at. */
    public Snapshot list() {
        GetResponse r = await("list subnet leases under " + keys.subnetsPrefix(), client.getKVClient().get(
                bytes(keys.subnetsPrefix()), GetOption.builder().isPrefix(true).build()));
        List<Stored> stored = new ArrayList<>(r.getKvs().size());
        for (KeyValue kv : r.getKvs()) {
            Lease l = toLease(kv);
            if (l != null) {
                stored.add(new Stored(l, kv.getModRevision()));
            }
        }
        return new Snapshot(List.copyOf(stored), r.getHeader().getRevision());
    }

    /** Parses a subnet key-value; a malformed one is logged and skipped so it cannot stall everyone. */
    Lease toLease(KeyValue kv) {
        String key = kv.getKey().toString(StandardCharsets.UTF_8);
        LeaseSubnets subnet = keys.parseSubnetKey(key);
        if (subnet == null) {
            log.warn("ignoring {}: not a subnet key", key);
            return null;
        }
        try {
            LeaseAttrs attrs = LeaseAttrs.fromJson(key, kv.getValue().toString(StandardCharsets.UTF_8));
            return new Lease(subnet, attrs, kv.getLease(), Instant.MAX);
        } catch (IllegalArgumentException e) {
            log.warn("ignoring {}", e.getMessage());
            return null;
        }
    }

    @Override
    public AutoCloseable watch(LeaseListener listener) {
        return new EtcdLeaseWatch(this, listener);
    }

    /** Deletes this host's key and revokes its lease, for a host leaving the network for good. */
    public void release(Lease lease) {
        if (lease.isReservation()) {
            return;
        }
        await("revoke lease of " + lease.subnets(), client.getLeaseClient().revoke(lease.etcdLeaseId()));
    }

    private void revokeQuietly(long id) {
        if (id == 0) {
            return;
        }
        client.getLeaseClient().revoke(id).exceptionally(t -> null);
    }

    <T> T await(String what, CompletableFuture<T> f) {
        try {
            return f.get(options.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            f.cancel(true);
            throw new LeaseException(what + ": interrupted", e);
        } catch (ExecutionException e) {
            throw new LeaseException(what + " failed (etcd " + options.endpoints() + "): "
                    + EtcdClients.rootMessage(e.getCause()), e.getCause());
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new LeaseException(what + " timed out after " + options.requestTimeout().toMillis()
                    + " ms (etcd " + options.endpoints() + " unreachable?)", e);
        }
    }

    static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        if (ownsClient) {
            client.close();
        }
    }

    /** A lease with the revision its key was last written at, for compare-and-swap. */
    public record Stored(Lease lease, long modRevision) {
    }

    public record Snapshot(List<Stored> stored, long revision) {
        public List<Lease> leases() {
            return stored.stream().map(Stored::lease).toList();
        }
    }
}
