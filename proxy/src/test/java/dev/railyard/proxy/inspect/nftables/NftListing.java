package dev.railyard.proxy.inspect.nftables;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.testkit.CommandResult;
import dev.railyard.testkit.NetworkNamespace;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/** The nft tool as the oracle of hand-written listings: what it lists after loading a script, in a namespace. */
final class NftListing {
    private NftListing() {
    }

    /** {@code nft list ruleset} after {@code nft -f -} of {@code script} in a fresh network namespace. */
    static String afterLoading(String script) {
        try (NetworkNamespace ns = NetworkNamespace.create()) {
            CommandResult load = ns.exec(List.of("nft", "-f", "-"), Duration.ofSeconds(60),
                    script.getBytes(StandardCharsets.UTF_8));
            assertThat(load.succeeded()).as(load.stderr()).isTrue();
            CommandResult list = ns.exec(List.of("nft", "list", "ruleset"), Duration.ofSeconds(60), null);
            assertThat(list.succeeded()).as(list.stderr()).isTrue();
            return list.stdout();
        }
    }
}
