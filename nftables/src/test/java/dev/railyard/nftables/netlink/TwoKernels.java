package dev.railyard.nftables.netlink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.nftables.NftCommand;
import dev.railyard.nftables.Transaction;
import dev.railyard.testkit.NetworkNamespace;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Two fresh network namespaces: transactions go into one through {@link NetlinkApplier} and into the other through
 * {@link NftCommand} ({@code nft -f}); what nft then lists of both must be the same, as text and as the expressions
 * and registers underneath ({@code nft --debug=netlink}). nft is the oracle; nothing is formatted by the test.
 */
final class TwoKernels implements AutoCloseable {
    final NetworkNamespace ours = NetworkNamespace.create();
    final NetworkNamespace theirs = NetworkNamespace.create();
    final NftCommand nft = NftCommand.create().withCommandPrefix(theirs.commandPrefix());
    NetlinkApplier netlink = NetlinkApplier.open(ours.name());

    /** Empties both rulesets and starts a new applier (one that knows nothing of either). */
    void reset() {
        ours.execChecked("nft", "flush", "ruleset");
        theirs.execChecked("nft", "flush", "ruleset");
        netlink.close();
        netlink = NetlinkApplier.open(ours.name());
    }

    /** Applies {@code tx} to both; both must accept it. */
    void apply(Transaction tx) throws Exception {
        netlink.apply(tx);
        nft.apply(tx);
    }

    /** Applies {@code tx} to both and asserts nft lists the two rulesets alike. */
    void assertSame(Transaction tx) throws Exception {
        apply(tx);
        assertListedAlike();
    }

    void assertListedAlike() {
        String expected = listed(theirs);
        assertThat(expected).isNotBlank();
        assertThat(listed(ours)).isEqualTo(expected);
        assertThat(lowLevel(ours)).isEqualTo(lowLevel(theirs));
    }

    static String listed(NetworkNamespace ns) {
        return ns.execChecked("nft", "list", "ruleset").stdout();
    }

    /** {@code nft --debug=netlink list ruleset}, each run of set elements sorted (hash sets list in hash order). */
    static String lowLevel(NetworkNamespace ns) {
        String text = ns.execChecked("nft", "--debug=netlink", "list", "ruleset").stdout();
        List<String> out = new ArrayList<>();
        List<String> run = new ArrayList<>();
        for (String line : text.split("\n", -1)) {
            if (line.strip().startsWith("element ")) {
                run.add(line);
                continue;
            }
            Collections.sort(run);
            out.addAll(run);
            run.clear();
            out.add(line);
        }
        Collections.sort(run);
        out.addAll(run);
        return String.join("\n", out);
    }

    @Override
    public void close() {
        try {
            netlink.close();
        } finally {
            try {
                ours.close();
            } finally {
                theirs.close();
            }
        }
    }
}
