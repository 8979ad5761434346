package dev.railyard.proxy.inspect.nftables;

import dev.railyard.nftables.NftCommand;
import dev.railyard.nftables.NftException;
import dev.railyard.proxy.apply.IptablesException;
import dev.railyard.proxy.apply.ProcessRunner;
import dev.railyard.proxy.inspect.LocalAddresses;
import dev.railyard.proxy.inspect.RulesetInputException;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.render.nftables.NftablesLayout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * This node's nftables rules and addresses, read as {@code railyard trace --live} does for an nftables node:
 * {@code nft list ruleset} (every table: a drop in another program's table counts too) and the kernel's
 * {@code local} routing table, which is what {@code fib daddr type local} and local delivery go by.
 */
public final class LiveNftNode {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final IpFamily family;
    private final List<String> commandPrefix;

    private LiveNftNode(IpFamily family, List<String> commandPrefix) {
        this.family = Objects.requireNonNull(family, "family");
        this.commandPrefix = List.copyOf(commandPrefix);
    }

    public static LiveNftNode of(IpFamily family) {
        return new LiveNftNode(family, List.of());
    }

    /** Run every command behind {@code prefix}, e.g. {@code ip netns exec NAME}. */
    public LiveNftNode withCommandPrefix(List<String> prefix) {
        return new LiveNftNode(family, prefix);
    }

    /** {@code nft list ruleset}. */
    public String listRuleset() throws NftException, InterruptedException {
        return NftCommand.create().withCommandPrefix(commandPrefix).withTimeout(TIMEOUT).listRuleset();
    }

    /**
     * Whether {@code listing} holds kube-proxy's table of this node's family ({@code table ip kube-proxy} or
     * {@code table ip6 kube-proxy}), i.e. the node runs the nftables mode.
     */
    public boolean hasProxyTable(String listing) {
        String table = "table " + (family == IpFamily.V4 ? "ip" : "ip6") + " " + NftablesLayout.TABLE + " {";
        return Pattern.compile("^" + Pattern.quote(table), Pattern.MULTILINE).matcher(listing).find();
    }

    /** The node's addresses, from its local routing table. */
    public LocalAddresses localAddresses() throws RulesetInputException, InterruptedException {
        List<String> command = new ArrayList<>(commandPrefix);
        command.addAll(List.of("ip", family == IpFamily.V4 ? "-4" : "-6", "route", "show", "table", "local"));
        ProcessRunner.Result result;
        try {
            result = ProcessRunner.run(command, null, TIMEOUT);
        } catch (IptablesException e) {
            throw new RulesetInputException(String.join(" ", command), 0, e.getMessage());
        }
        if (result.exitCode() != 0) {
            throw new RulesetInputException(String.join(" ", command), 0,
                    LocalAddresses.whyUnreadable(result.exitCode(), result.stderr()));
        }
        return LocalAddresses.fromLocalRouteTable(result.stdout());
    }

    /** The rules of {@code listing} (this node's {@code nft list ruleset}) with the node's addresses. */
    public NftablesServiceRuleset read(String listing) throws RulesetInputException, InterruptedException {
        return NftablesServiceRuleset.fromText("live rules (nft list ruleset)", "nft list ruleset", listing,
                localAddresses());
    }

    /** The rules and addresses, ready to trace. */
    public NftablesServiceRuleset read() throws NftException, RulesetInputException, InterruptedException {
        return read(listRuleset());
    }
}
