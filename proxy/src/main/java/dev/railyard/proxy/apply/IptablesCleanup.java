package dev.railyard.proxy.apply;

import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.render.Chains;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code railyard proxy --cleanup}, kube-proxy's CleanupLeftovers for iptables: removes the jump rules from the
 * built-in chains ({@link JumpRules#remove()}), then flushes and deletes every chain Railyard may have created in
 * the filter and nat tables, with one {@code iptables-restore --noflush} per family. Nothing else is touched:
 * built-in chains and other programs' chains are never declared in the restore input, so they keep their rules.
 *
 * <p>Which chains exist is read from {@code iptables-save}, because {@code -X} of a chain that is not there
 * fails the whole restore.
 */
public final class IptablesCleanup {
    private static final Duration TIMEOUT = Duration.ofMinutes(1);
    /** Fixed chains the renderer writes or {@link JumpRules#ensure()} creates, by table. */
    private static final Map<String, Set<String>> FIXED_CHAINS = Map.of(
            "filter", Set.of(Chains.SERVICES, Chains.EXTERNAL_SERVICES, Chains.NODE_PORTS, Chains.FORWARD,
                    Chains.PROXY_FIREWALL, Chains.KUBELET_FIREWALL, Chains.PROXY_CANARY),
            "nat", Set.of(Chains.SERVICES, Chains.NODE_PORTS, Chains.POSTROUTING, Chains.MARK_MASQ,
                    Chains.PORTALS_CONTAINER, Chains.PORTALS_HOST, Chains.NODEPORT_CONTAINER, Chains.NODEPORT_HOST,
                    Chains.PROXY_CANARY),
            "mangle", Set.of(Chains.PROXY_CANARY));

    private final IpFamily family;
    private final IptablesBackend backend;
    private final List<String> commandPrefix;

    private IptablesCleanup(IpFamily family, IptablesBackend backend, List<String> commandPrefix) {
        this.family = Objects.requireNonNull(family, "family");
        this.backend = Objects.requireNonNull(backend, "backend");
        this.commandPrefix = List.copyOf(commandPrefix);
    }

    public static IptablesCleanup of(IpFamily family) {
        return of(family, IptablesBackend.AUTO);
    }

    public static IptablesCleanup of(IpFamily family, IptablesBackend backend) {
        return new IptablesCleanup(family, backend, List.of());
    }

    /** Run every command behind {@code prefix}, e.g. {@code ip netns exec NAME}. */
    public IptablesCleanup withCommandPrefix(List<String> prefix) {
        return new IptablesCleanup(family, backend, prefix);
    }

    /**
     * Removes the jump rules and our chains.
     *
     * @return the chains deleted, as "table/chain"
     */
    public List<String> run() throws IptablesException, InterruptedException {
        JumpRules.of(family, backend).withCommandPrefix(commandPrefix).remove();
        JumpRules.of(family, backend).withRules(JumpRules.USERSPACE_CAPTURE).withCommandPrefix(commandPrefix).remove();
        Map<String, Set<String>> ours = ourChains(existingChains());
        StringBuilder input = new StringBuilder();
        List<String> deleted = new ArrayList<>();
        for (Map.Entry<String, Set<String>> table : ours.entrySet()) {
            if (table.getValue().isEmpty()) {
                continue;
            }
            input.append('*').append(table.getKey()).append('\n');
            // Declaring a chain flushes it, so that no rule of ours references another of ours at -X time.
            table.getValue().forEach(chain -> input.append(':').append(chain).append(" - [0:0]\n"));
            table.getValue().forEach(chain -> {
                input.append("-X ").append(chain).append('\n');
                deleted.add(table.getKey() + "/" + chain);
            });
            input.append("COMMIT\n");
        }
        if (!deleted.isEmpty()) {
            IptablesRestore.of(family, backend).withCommandPrefix(commandPrefix).withTimeout(TIMEOUT)
                    .restore(input.toString().getBytes(StandardCharsets.UTF_8));
        }
        return List.copyOf(deleted);
    }

    /** Chains in the filter, nat and mangle tables now, by table, from {@code iptables-save}. */
    public Map<String, Set<String>> existingChains() throws IptablesException, InterruptedException {
        Map<String, Set<String>> chains = new LinkedHashMap<>();
        for (String table : List.of("filter", "nat", "mangle")) {
            chains.put(table, chainsIn(table));
        }
        return chains;
    }

    /** Per-service nat chains now in the kernel, for a proxier taking over from an earlier run. */
    public Set<String> existingServiceNatChains() throws IptablesException, InterruptedException {
        Set<String> chains = new TreeSet<>();
        for (String chain : chainsIn("nat")) {
            if (Chains.isServiceChain(chain)) {
                chains.add(chain);
            }
        }
        return chains;
    }

    static Map<String, Set<String>> ourChains(Map<String, Set<String>> existing) {
        Map<String, Set<String>> ours = new LinkedHashMap<>();
        existing.forEach((table, chains) -> {
            Set<String> selected = new TreeSet<>();
            for (String chain : chains) {
                if (FIXED_CHAINS.getOrDefault(table, Set.of()).contains(chain) || Chains.isServiceChain(chain)) {
                    selected.add(chain);
                }
            }
            ours.put(table, selected);
        });
        return ours;
    }

    private Set<String> chainsIn(String table) throws IptablesException, InterruptedException {
        List<String> command = new ArrayList<>(commandPrefix);
        command.addAll(List.of(IptablesBinaries.save(family, backend), "-t", table));
        ProcessRunner.Result result = ProcessRunner.run(command, null, TIMEOUT);
        if (result.exitCode() != 0) {
            throw new IptablesException("listing the " + table + " table failed (exit code " + result.exitCode()
                    + "): " + result.stderr().strip(), command, result.exitCode(), result.stderr());
        }
        return parseChains(result.stdout());
    }

    /** The chain names declared (":NAME POLICY [p:b]") in iptables-save output. */
    static Set<String> parseChains(String saved) {
        Set<String> chains = new TreeSet<>();
        for (String line : saved.split("\n")) {
            if (line.startsWith(":")) {
                int space = line.indexOf(' ');
                chains.add(space < 0 ? line.substring(1) : line.substring(1, space));
            }
        }
        return chains;
    }
}
