package dev.railyard.proxy.apply;

import dev.railyard.proxy.model.IpFamily;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * Feeds a rendered ruleset to {@code iptables-restore} / {@code ip6tables-restore} the way kube-proxy does:
 * {@code -w 5 --noflush --counters}, rules on stdin.
 *
 * <ul>
 *   <li>{@code -w 5}: wait up to 5 s for the xtables lock instead of failing when kubelet, a CNI plugin or
 *       firewalld is running iptables at the same moment.</li>
 *   <li>{@code --noflush}: only the chains declared in the input are replaced; tables and built-in chains we
 *       do not own (and the jump rules in them, see {@link JumpRules}) are left alone.</li>
 *   <li>{@code --counters}: accept {@code [packets:bytes]} counters in the input.</li>
 * </ul>
 *
 * Instances are immutable and thread-safe. On failure an {@link IptablesRestoreException} carries stderr
 * and, when iptables-restore named the failed line, that line and its neighbours.
 *
 * <pre>{@code
 * IptablesRestore restore = IptablesRestore.of(IpFamily.V4);
 * restore.restore(rules);                       // on the host
 * restore.withCommandPrefix(List.of("ip", "netns", "exec", "ry-k3x9qa")).restore(rules);   // in a namespace
 * }</pre>
 */
public final class IptablesRestore {

    /** Seconds to wait for the xtables lock; kube-proxy's value. */
    public static final String LOCK_WAIT_SECONDS = "5";
    /** Lines of context on each side of the failed line in error reports. */
    public static final int EXCERPT_CONTEXT = 1;
    /** Generous: a 100k-rule restore on a loaded node can take tens of seconds, plus the lock wait. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(2);

    private final IpFamily family;
    private final IptablesBackend backend;
    private final List<String> commandPrefix;
    private final Duration timeout;

    private IptablesRestore(IpFamily family, IptablesBackend backend, List<String> commandPrefix, Duration timeout) {
        this.family = Objects.requireNonNull(family);
        this.backend = Objects.requireNonNull(backend);
        this.commandPrefix = List.copyOf(commandPrefix);
        this.timeout = Objects.requireNonNull(timeout);
    }

    /** The node's default backend ({@code iptables-restore}). */
    public static IptablesRestore of(IpFamily family) {
        return of(family, IptablesBackend.AUTO);
    }

    public static IptablesRestore of(IpFamily family, IptablesBackend backend) {
        return new IptablesRestore(family, backend, List.of(), DEFAULT_TIMEOUT);
    }

    /** The same restorer running every command behind {@code prefix}, e.g. {@code ip netns exec NAME}. */
    public IptablesRestore withCommandPrefix(List<String> prefix) {
        return new IptablesRestore(family, backend, prefix, timeout);
    }

    public IptablesRestore withTimeout(Duration timeout) {
        return new IptablesRestore(family, backend, commandPrefix, timeout);
    }

    public IpFamily family() {
        return family;
    }

    public Duration timeout() {
        return timeout;
    }

    public IptablesBackend backend() {
        return backend;
    }

    /**
     * Applies {@code rules} (iptables-save format) to the kernel, atomically per table.
     *
     * @throws IptablesRestoreException if iptables-restore rejected the input (with the failed line if known)
     * @throws IptablesException if iptables-restore could not be run or timed out
     */
    public void restore(byte[] rules) throws IptablesException, InterruptedException {
        restore(rules, rules.length);
    }

    /** Applies the first {@code length} bytes of {@code rules}, so a reused render buffer need not be copied. */
    public void restore(byte[] rules, int length) throws IptablesException, InterruptedException {
        run(false, RestoreInput.of(rules, length));
    }

    /** Applies what {@code rules} writes, e.g. a render buffer's segments one after another. */
    public void restore(RestoreInput rules) throws IptablesException, InterruptedException {
        run(false, rules);
    }

    /** Checks {@code rules} with {@code --test}: parsed and validated, nothing is committed. */
    public void test(byte[] rules) throws IptablesException, InterruptedException {
        test(rules, rules.length);
    }

    public void test(byte[] rules, int length) throws IptablesException, InterruptedException {
        run(true, RestoreInput.of(rules, length));
    }

    /** Checks what {@code rules} writes with {@code --test}. */
    public void test(RestoreInput rules) throws IptablesException, InterruptedException {
        run(true, rules);
    }

    /** The full argv, for logs and tests. */
    public List<String> command(boolean testOnly) {
        List<String> command = new ArrayList<>(commandPrefix);
        command.add(IptablesBinaries.restore(family, backend));
        command.addAll(List.of("-w", LOCK_WAIT_SECONDS, "--noflush", "--counters"));
        if (testOnly) {
            command.add("--test");
        }
        return command;
    }

    private void run(boolean testOnly, RestoreInput rules) throws IptablesException, InterruptedException {
        List<String> command = command(testOnly);
        ProcessRunner.Result result = ProcessRunner.run(command, rules, timeout);
        if (result.exitCode() != 0) {
            // iptables-restore prints some errors on stdout (nft backend), so look at both.
            String output = (result.stderr() + "\n" + result.stdout()).strip();
            OptionalInt line = RestoreErrors.failedLine(output);
            List<InputLine> excerpt = line.isPresent()
                    ? RestoreErrors.extractLines(rules, line.getAsInt(), EXCERPT_CONTEXT)
                    : List.of();
            throw new IptablesRestoreException(command, result.exitCode(), output, line, excerpt);
        }
    }

    @Override
    public String toString() {
        return String.join(" ", command(false));
    }
}
