package dev.railyard.netlink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.testkit.CommandResult;
import dev.railyard.testkit.NetworkNamespace;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Two fresh network namespaces: one written through this module's netlink code, one through {@code nft -f}.
 * Comparing {@code nft list ruleset} of both compares nft's reading of our bytes with nft's reading of its own,
 * so formatting is never hard-coded in a test.
 */
final class NftOracle implements AutoCloseable {

    final NetworkNamespace ours = NetworkNamespace.create();
    final NetworkNamespace theirs = NetworkNamespace.create();
    final NfTables nft = NfTables.open(ours.name());

    /** Empties both rulesets. */
    void reset() {
        ours.execChecked("nft", "flush", "ruleset");
        theirs.execChecked("nft", "flush", "ruleset");
    }

    CommitResult commit(NfTablesBatch batch) {
        return nft.commit(batch);
    }

    void commitOk(NfTablesBatch batch) {
        CommitResult result = nft.commit(batch);
        assertThat(result.committed()).as(result.describe()).isTrue();
    }

    void nftApply(String script) {
        nftApply(theirs, script);
    }

    static void nftApply(NetworkNamespace ns, String script) {
        CommandResult result = ns.exec(List.of("nft", "-f", "-"), Duration.ofSeconds(60), script.getBytes(StandardCharsets.UTF_8));
        assertThat(result.succeeded()).as("nft -f failed: %s\n%s", result.stderr(), script).isTrue();
    }

    String oursListed() {
        return ours.execChecked("nft", "list", "ruleset").stdout();
    }

    String theirsListed() {
        return theirs.execChecked("nft", "list", "ruleset").stdout();
    }

    /**
     * The kernel's objects as libnftnl prints them ({@code nft --debug=netlink}): every expression with its
     * registers, lengths and data, every set with its flags, key and data types and elements.
     */
    static String lowLevel(NetworkNamespace ns) {
        return sortElementRuns(ns.execChecked("nft", "--debug=netlink", "list", "ruleset").stdout());
    }

    /** Elements of hash sets come out in hash order, which differs between two kernels' sets; sort each run. */
    static String sortElementRuns(String text) {
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

    /**
     * Applies {@code batch} to ours and {@code script} to theirs and asserts nft lists them identically, both as
     * nft text and as the expressions and registers underneath.
     */
    void assertSame(NfTablesBatch batch, String script) {
        commitOk(batch);
        nftApply(script);
        String expected = theirsListed();
        assertThat(expected).as("nft printed nothing for:\n%s", script).isNotBlank();
        assertThat(oursListed()).isEqualTo(expected);
        assertThat(lowLevel(ours)).isEqualTo(lowLevel(theirs));
    }

    @Override
    public void close() {
        try {
            nft.close();
        } finally {
            try {
                ours.close();
            } finally {
                theirs.close();
            }
        }
    }
}
