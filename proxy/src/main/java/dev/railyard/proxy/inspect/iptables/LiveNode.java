package dev.railyard.proxy.inspect.iptables;

import dev.railyard.proxy.apply.IptablesBackend;
import dev.railyard.proxy.apply.IptablesException;
import dev.railyard.proxy.apply.IptablesSave;
import dev.railyard.proxy.apply.ProcessRunner;
import dev.railyard.proxy.inspect.LocalAddresses;
import dev.railyard.proxy.inspect.RulesetInputException;
import dev.railyard.proxy.model.IpFamily;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * This node's own rules and addresses, read as {@code railyard trace --live} does: {@code iptables-save} of the
 * chosen backend for the rules, and the kernel's {@code local} routing table ({@code ip route show table local}),
 * which is exactly what {@code -m addrtype --dst-type LOCAL} and local delivery go by.
 */
public final class LiveNode {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final IpFamily family;
    private final IptablesBackend backend;
    private final List<String> commandPrefix;

    private LiveNode(IpFamily family, IptablesBackend backend, List<String> commandPrefix) {
        this.family = Objects.requireNonNull(family, "family");
        this.backend = Objects.requireNonNull(backend, "backend");
        this.commandPrefix = List.copyOf(commandPrefix);
    }

    public static LiveNode of(IpFamily family, IptablesBackend backend) {
        return new LiveNode(family, backend, List.of());
    }

    /** Run every command behind {@code prefix}, e.g. {@code ip netns exec NAME}. */
    public LiveNode withCommandPrefix(List<String> prefix) {
        return new LiveNode(family, backend, prefix);
    }

    /** The node's addresses, from its local routing table. */
    public LocalAddresses localAddresses() throws IptablesException, InterruptedException {
        List<String> command = new ArrayList<>(commandPrefix);
        command.addAll(family == IpFamily.V4 ? List.of("ip", "-4", "route", "show", "table", "local")
                : List.of("ip", "-6", "route", "show", "table", "local"));
        ProcessRunner.Result result = ProcessRunner.run(command, null, TIMEOUT);
        if (result.exitCode() != 0) {
            throw new IptablesException(String.join(" ", command) + ": "
                    + LocalAddresses.whyUnreadable(result.exitCode(), result.stderr()), command, result.exitCode(),
                    result.stderr());
        }
        return LocalAddresses.fromLocalRouteTable(result.stdout());
    }

    /** The rules and addresses, ready to trace. */
    public IptablesServiceRuleset read() throws IptablesException, InterruptedException, RulesetInputException {
        IptablesSave save = IptablesSave.of(family, backend).withCommandPrefix(commandPrefix);
        String rules = save.save();
        LocalAddresses local = localAddresses();
        if (rules.isBlank()) {
            throw new RulesetInputException(save.program(), 0, "printed no rules (no tables loaded; is the "
                    + "backend right? try --iptables-backend legacy or nft)");
        }
        return IptablesServiceRuleset.fromText("live rules (" + save.program() + ")", save.program(), rules, local);
    }
}
