package dev.railyard.overlay.masq;

import dev.railyard.nftables.BaseChain;
import dev.railyard.nftables.Chain;
import dev.railyard.nftables.Family;
import dev.railyard.nftables.NftCommand;
import dev.railyard.nftables.NftException;
import dev.railyard.nftables.Rule;
import dev.railyard.nftables.Table;
import dev.railyard.nftables.Transaction;
import dev.railyard.overlay.config.NetworkConfig;
import dev.railyard.overlay.ip.IpException;
import dev.railyard.overlay.ip.IpRunner;
import dev.railyard.overlay.lease.Lease;
import java.util.List;

/**
 * {@code EnableNFTables}: the {@code --ip-masq} rules in flannel's own tables, named and ordered as flannel's
 * pkg/trafficmngr/nftables writes them, so a node can move between flanneld and Railyard: table
 * {@code ip flannel-ipv4} (and {@code ip6 flannel-ipv6}) with chain {@code forward} (filter, forward hook) accepting
 * pod traffic and chain {@code postrtg} (nat, postrouting, srcnat) that leaves kube-proxy's masquerade mark and
 * pod-to-pod traffic alone and masquerades the rest. Each family is one {@code nft -f} transaction that flushes
 * and refills both chains.
 */
public final class NftablesMasquerade implements Masquerade {
    static final String IPV4_TABLE = "flannel-ipv4";
    static final String IPV6_TABLE = "flannel-ipv6";
    static final String FORWARD_CHAIN = "forward";
    static final String POSTRTG_CHAIN = "postrtg";

    private final NftCommand nft;

    public NftablesMasquerade(IpRunner ip) {
        this.nft = NftCommand.create().withCommandPrefix(ip.inNamespace(List.of()));
    }

    /** One family's transaction: {@code network} the pod network, {@code subnet} this host's. */
    static Transaction transaction(Family family, String network, String subnet) {
        String table = family == Family.IP ? IPV4_TABLE : IPV6_TABLE;
        String f = family == Family.IP ? "ip" : "ip6";
        String multicast = family == Family.IP ? "224.0.0.0/4" : "ff00::/8";
        Transaction tx = new Transaction(family, table);
        tx.add(new Table("rules for " + table));
        Chain forward = new Chain(FORWARD_CHAIN, new BaseChain("filter", "forward", BaseChain.FILTER),
                "chain to accept flannel traffic");
        tx.add(forward).flush(forward);
        tx.add(Rule.of(FORWARD_CHAIN, f + " saddr " + network + " accept"));
        tx.add(Rule.of(FORWARD_CHAIN, f + " daddr " + network + " accept"));
        Chain postrtg = new Chain(POSTRTG_CHAIN, new BaseChain("nat", "postrouting", BaseChain.SRCNAT),
                "chain to manage traffic masquerading by flannel");
        tx.add(postrtg).flush(postrtg);
        // kube-proxy's masquerade mark: kube-proxy masquerades that traffic itself
        tx.add(Rule.of(POSTRTG_CHAIN, "meta mark 0x4000 return"));
        tx.add(Rule.of(POSTRTG_CHAIN, f + " saddr " + subnet + " " + f + " daddr " + network + " return"));
        tx.add(Rule.of(POSTRTG_CHAIN, f + " saddr " + network + " " + f + " daddr " + subnet + " return"));
        tx.add(Rule.of(POSTRTG_CHAIN, f + " saddr != " + subnet + " " + f + " daddr " + network + " return"));
        tx.add(Rule.of(POSTRTG_CHAIN, f + " saddr " + network + " " + f + " daddr != " + multicast + " masquerade fully-random"));
        tx.add(Rule.of(POSTRTG_CHAIN, f + " saddr != " + network + " " + f + " daddr " + network + " masquerade fully-random"));
        return tx;
    }

    @Override
    public void apply(NetworkConfig config, Lease own) {
        if (config.enableIPv4()) {
            run(transaction(Family.IP, config.network().toString(), own.subnet().toString()));
        }
        if (config.enableIPv6()) {
            run(transaction(Family.IP6, config.ipv6Network().toString(), own.ipv6Subnet().toString()));
        }
    }

    private void run(Transaction tx) {
        try {
            nft.apply(tx);
        } catch (NftException e) {
            throw new IpException("nft: the --ip-masq rules of table " + tx.family() + " " + tx.table()
                    + " were not applied: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IpException("interrupted applying the --ip-masq rules", e);
        }
    }

    @Override
    public void cleanUp() {
        try {
            nft.deleteTableIfExists(Family.IP, IPV4_TABLE);
            nft.deleteTableIfExists(Family.IP6, IPV6_TABLE);
        } catch (NftException e) {
            throw new IpException("nft: cannot remove flannel's nftables tables: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IpException("interrupted removing flannel's nftables tables", e);
        }
    }
}
