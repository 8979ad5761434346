package dev.railyard.proxy.apply;

import dev.railyard.proxy.model.IpFamily;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Reads the kernel's rules with {@code iptables-save} / {@code ip6tables-save} of the chosen backend, as
 * {@code railyard trace --live} does.
 *
 * <pre>{@code
 * String rules = IptablesSave.of(IpFamily.V4, IptablesBackend.NFT).withCommandPrefix(List.of("ip", "netns", "exec", "n1")).save();
 * }</pre>
 */
public final class IptablesSave {
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    private final IpFamily family;
    private final IptablesBackend backend;
    private final List<String> commandPrefix;
    private final Duration timeout;

    private IptablesSave(IpFamily family, IptablesBackend backend, List<String> commandPrefix, Duration timeout) {
        this.family = Objects.requireNonNull(family, "family");
        this.backend = Objects.requireNonNull(backend, "backend");
        this.commandPrefix = List.copyOf(commandPrefix);
        this.timeout = Objects.requireNonNull(timeout, "timeout");
    }

    public static IptablesSave of(IpFamily family, IptablesBackend backend) {
        return new IptablesSave(family, backend, List.of(), DEFAULT_TIMEOUT);
    }

    /** Run the command behind {@code prefix}, e.g. {@code ip netns exec NAME}. */
    public IptablesSave withCommandPrefix(List<String> prefix) {
        return new IptablesSave(family, backend, prefix, timeout);
    }

    public IptablesSave withTimeout(Duration timeout) {
        return new IptablesSave(family, backend, commandPrefix, timeout);
    }

    /** The program this runs, e.g. {@code iptables-nft-save}. */
    public String program() {
        return IptablesBinaries.save(family, backend);
    }

    /** Every table's rules, as iptables-save prints them. */
    public String save() throws IptablesException, InterruptedException {
        List<String> command = new ArrayList<>(commandPrefix);
        command.add(program());
        ProcessRunner.Result result = ProcessRunner.run(command, null, timeout);
        if (result.exitCode() != 0) {
            throw new IptablesException(String.join(" ", command) + " failed (exit code " + result.exitCode() + "): "
                    + result.stderr().strip(), command, result.exitCode(), result.stderr());
        }
        return result.stdout();
    }
}
