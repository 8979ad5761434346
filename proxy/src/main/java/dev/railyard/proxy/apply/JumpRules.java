package dev.railyard.proxy.apply;

import dev.railyard.proxy.model.IpFamily;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The fixed rules that hook Railyard's chains into the kernel's built-in chains. They cannot go through
 * {@link IptablesRestore}: a {@code --noflush} restore that declared INPUT or PREROUTING would flush those
 * built-in chains, wiping rules that belong to the host's firewall, Docker, the CNI plugin... So, like
 * kube-proxy's EnsureRule, each is checked with {@code iptables -C} and prepended with {@code -I} only if
 * absent, after making sure the target chain exists ({@code -N}).
 *
 * <pre>{@code
 * JumpRules.of(IpFamily.V4).ensure();   // idempotent; returns the rules it had to insert
 * JumpRules.of(IpFamily.V4).remove();   // deletes exactly these rules, nothing else
 * }</pre>
 */
public final class JumpRules {

    private static final List<String> NEW_CONNECTIONS = List.of("-m", "conntrack", "--ctstate", "NEW");
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    /** A rule can only be duplicated by someone else's bug; deleting copies is bounded all the same. */
    private static final int MAX_COPIES_TO_DELETE = 100;

    /** kube-proxy's iptablesJumpChains, in its order. */
    public static final List<JumpRule> KUBE_PROXY = List.of(
            new JumpRule("filter", "INPUT", "KUBE-EXTERNAL-SERVICES", NEW_CONNECTIONS, "kubernetes externally-visible service portals"),
            new JumpRule("filter", "FORWARD", "KUBE-EXTERNAL-SERVICES", NEW_CONNECTIONS, "kubernetes externally-visible service portals"),
            new JumpRule("filter", "INPUT", "KUBE-NODEPORTS", List.of(), "kubernetes health check service ports"),
            new JumpRule("filter", "FORWARD", "KUBE-SERVICES", NEW_CONNECTIONS, "kubernetes service portals"),
            new JumpRule("filter", "OUTPUT", "KUBE-SERVICES", NEW_CONNECTIONS, "kubernetes service portals"),
            new JumpRule("filter", "FORWARD", "KUBE-FORWARD", List.of(), "kubernetes forwarding rules"),
            new JumpRule("filter", "INPUT", "KUBE-PROXY-FIREWALL", NEW_CONNECTIONS, "kubernetes load balancer firewall"),
            new JumpRule("filter", "OUTPUT", "KUBE-PROXY-FIREWALL", NEW_CONNECTIONS, "kubernetes load balancer firewall"),
            new JumpRule("filter", "FORWARD", "KUBE-PROXY-FIREWALL", NEW_CONNECTIONS, "kubernetes load balancer firewall"),
            new JumpRule("nat", "OUTPUT", "KUBE-SERVICES", List.of(), "kubernetes service portals"),
            new JumpRule("nat", "PREROUTING", "KUBE-SERVICES", List.of(), "kubernetes service portals"),
            new JumpRule("nat", "POSTROUTING", "KUBE-POSTROUTING", List.of(), "kubernetes postrouting rules"));

    /**
     * kubelet's KUBE-FIREWALL jumps, which kube-proxy also ensures so that a node without a kubelet-managed
     * firewall chain behaves the same.
     */
    public static final List<JumpRule> KUBELET = List.of(
            new JumpRule("filter", "INPUT", "KUBE-FIREWALL", List.of(), null),
            new JumpRule("filter", "OUTPUT", "KUBE-FIREWALL", List.of(), null));

    /**
     * Userspace mode's hooks, kube-proxy's old userspace proxier's: service addresses from PREROUTING and
     * OUTPUT, NodePorts only for packets to a local address. Not part of {@link #ALL}: that mode installs these
     * instead.
     */
    public static final List<JumpRule> USERSPACE_CAPTURE = List.of(
            new JumpRule("nat", "PREROUTING", "KUBE-PORTALS-CONTAINER", List.of(), "handle ClusterIPs"),
            new JumpRule("nat", "OUTPUT", "KUBE-PORTALS-HOST", List.of(), "handle ClusterIPs"),
            new JumpRule("nat", "PREROUTING", "KUBE-NODEPORT-CONTAINER", List.of("-m", "addrtype", "--dst-type",
                    "LOCAL"), "handle service NodePorts"),
            new JumpRule("nat", "OUTPUT", "KUBE-NODEPORT-HOST", List.of("-m", "addrtype", "--dst-type", "LOCAL"),
                    "handle service NodePorts"));

    /** Everything {@link #ensure()} installs. */
    public static final List<JumpRule> ALL = concat(KUBE_PROXY, KUBELET);

    private final IpFamily family;
    private final IptablesBackend backend;
    private final List<String> commandPrefix;
    private final List<JumpRule> rules;
    private final Duration timeout;

    private JumpRules(IpFamily family, IptablesBackend backend, List<String> commandPrefix, List<JumpRule> rules,
                      Duration timeout) {
        this.family = Objects.requireNonNull(family);
        this.backend = Objects.requireNonNull(backend);
        this.commandPrefix = List.copyOf(commandPrefix);
        this.rules = List.copyOf(rules);
        this.timeout = Objects.requireNonNull(timeout);
    }

    /** All of {@link #ALL} for one IP family. */
    public static JumpRules of(IpFamily family) {
        return of(family, IptablesBackend.AUTO);
    }

    /** All of {@link #ALL} for one IP family, written with {@code backend}'s iptables. */
    public static JumpRules of(IpFamily family, IptablesBackend backend) {
        return new JumpRules(family, backend, List.of(), ALL, DEFAULT_TIMEOUT);
    }

    /** Run every iptables command behind {@code prefix}, e.g. {@code ip netns exec NAME}. */
    public JumpRules withCommandPrefix(List<String> prefix) {
        return new JumpRules(family, backend, prefix, rules, timeout);
    }

    /** A different rule list (e.g. only {@link #KUBE_PROXY}). */
    public JumpRules withRules(List<JumpRule> rules) {
        return new JumpRules(family, backend, commandPrefix, rules, timeout);
    }

    public JumpRules withTimeout(Duration timeout) {
        return new JumpRules(family, backend, commandPrefix, rules, timeout);
    }

    public List<JumpRule> rules() {
        return rules;
    }

    /**
     * Creates missing target chains and prepends missing jump rules. Idempotent.
     *
     * @return the rules that were missing and have been inserted (empty when all were present)
     */
    public List<JumpRule> ensure() throws IptablesException, InterruptedException {
        Set<String> ensuredChains = new LinkedHashSet<>();
        List<JumpRule> inserted = new ArrayList<>();
        for (JumpRule rule : rules) {
            if (ensuredChains.add(rule.table() + "/" + rule.target())) {
                ensureChain(rule.table(), rule.target());
            }
            if (!exists(rule)) {
                runChecked(iptables(rule.table(), "-I", rule.chain(), rule.spec()));
                inserted.add(rule);
            }
        }
        return inserted;
    }

    /**
     * Deletes these rules (every copy) and nothing else; the chains themselves are left for whoever flushes
     * and deletes them.
     *
     * @return the rules that were present and have been deleted
     */
    public List<JumpRule> remove() throws IptablesException, InterruptedException {
        List<JumpRule> removed = new ArrayList<>();
        for (JumpRule rule : rules) {
            if (!chainExists(rule.table(), rule.target())) {
                continue; // No chain, so no rule can jump to it, and -C would fail with "does not exist".
            }
            boolean found = false;
            for (int copy = 0; copy < MAX_COPIES_TO_DELETE && exists(rule); copy++) {
                runChecked(iptables(rule.table(), "-D", rule.chain(), rule.spec()));
                found = true;
            }
            if (found) {
                removed.add(rule);
            }
        }
        return removed;
    }

    /** Whether {@code rule} is in the kernel ({@code iptables -C}). */
    public boolean exists(JumpRule rule) throws IptablesException, InterruptedException {
        ProcessRunner.Result result = run(iptables(rule.table(), "-C", rule.chain(), rule.spec()));
        if (result.exitCode() == 0) {
            return true;
        }
        if (result.exitCode() == 1) {
            return false; // "Bad rule (does a matching rule exist in that chain?)"
        }
        // -C exits 2 when the jump target does not exist; then the rule cannot exist either.
        if (!chainExists(rule.table(), rule.target())) {
            return false;
        }
        throw failure("checking " + rule, result);
    }

    /** Creates {@code chain} in {@code table} unless it exists. */
    public void ensureChain(String table, String chain) throws IptablesException, InterruptedException {
        if (chainExists(table, chain)) {
            return;
        }
        ProcessRunner.Result created = run(iptables(table, "-N", chain, List.of()));
        // Someone else may have created it between our check and -N; only a still-missing chain is an error.
        if (created.exitCode() != 0 && !chainExists(table, chain)) {
            throw failure("creating chain " + chain + " in table " + table, created);
        }
    }

    /** Whether {@code table} has a chain named {@code chain}. */
    public boolean chainExists(String table, String chain) throws IptablesException, InterruptedException {
        ProcessRunner.Result result = run(iptables(table, "-S", chain, List.of()));
        if (result.exitCode() == 0) {
            return true;
        }
        if (result.exitCode() == 1) {
            // Legacy says "No chain/target/match by that name."; iptables-nft 1.8.9 says, misleadingly,
            // "chain `X' in table `t' is incompatible, use 'nft' tool". Both exit 1 for a missing chain.
            return false;
        }
        throw failure("listing chain " + chain + " in table " + table, result);
    }

    private List<String> iptables(String table, String operation, String chain, List<String> spec) {
        List<String> command = new ArrayList<>(commandPrefix);
        command.addAll(List.of(IptablesBinaries.iptables(family, backend), "-w", IptablesRestore.LOCK_WAIT_SECONDS, "-t", table, operation, chain));
        command.addAll(spec);
        return command;
    }

    private ProcessRunner.Result run(List<String> command) throws IptablesException, InterruptedException {
        return ProcessRunner.run(command, null, timeout);
    }

    private void runChecked(List<String> command) throws IptablesException, InterruptedException {
        ProcessRunner.Result result = run(command);
        if (result.exitCode() != 0) {
            throw failure(String.join(" ", command), result);
        }
    }

    private static IptablesException failure(String what, ProcessRunner.Result result) {
        return new IptablesException("iptables failed " + what + " (exit code " + result.exitCode() + "): "
                + result.stderr().strip(), result.command(), result.exitCode(), result.stderr());
    }

    private static List<JumpRule> concat(List<JumpRule> first, List<JumpRule> second) {
        List<JumpRule> all = new ArrayList<>(first);
        all.addAll(second);
        return List.copyOf(all);
    }
}
