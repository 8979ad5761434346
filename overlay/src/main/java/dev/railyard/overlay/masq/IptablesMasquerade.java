package dev.railyard.overlay.masq;

import dev.railyard.overlay.config.NetworkConfig;
import dev.railyard.overlay.ip.IpException;
import dev.railyard.overlay.ip.IpRunner;
import dev.railyard.overlay.lease.Lease;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The {@code --ip-masq} rules in iptables (and ip6tables for IPv6), in chains of our own replaced atomically with
 * iptables-restore, so re-applying never duplicates them and nothing else in the tables is touched.
 */
public final class IptablesMasquerade implements Masquerade {
    static final String NAT_CHAIN = "RAILYARD-POSTRTG";
    static final String FWD_CHAIN = "RAILYARD-FWD";
    private static final String COMMENT = "railyard overlay";

    private final IpRunner runner;

    public IptablesMasquerade(IpRunner runner) {
        this.runner = runner;
    }

    /** The iptables-restore input for one family: {@code network} the pod network, {@code subnet} this host's. */
    static String rules(String network, String subnet, String multicast) {
        return "*nat\n"
                + ":" + NAT_CHAIN + " - [0:0]\n"
                + "-A " + NAT_CHAIN + " -s " + network + " -d " + network + " -m comment --comment \"pod to pod: keep source\" -j RETURN\n"
                + "-A " + NAT_CHAIN + " -s " + network + " ! -d " + multicast + " -m comment --comment \"pod to outside\" -j MASQUERADE --random-fully\n"
                + "-A " + NAT_CHAIN + " ! -s " + network + " -d " + subnet + " -m comment --comment \"outside to local pods\" -j RETURN\n"
                + "-A " + NAT_CHAIN + " ! -s " + network + " -d " + network + " -m comment --comment \"outside to remote pods\" -j MASQUERADE --random-fully\n"
                + "COMMIT\n"
                + "*filter\n"
                + ":" + FWD_CHAIN + " - [0:0]\n"
                + "-A " + FWD_CHAIN + " -s " + network + " -j ACCEPT\n"
                + "-A " + FWD_CHAIN + " -d " + network + " -j ACCEPT\n"
                + "COMMIT\n";
    }

    @Override
    public void apply(NetworkConfig config, Lease own) {
        if (config.enableIPv4()) {
            apply("iptables", rules(config.network().toString(), own.subnet().toString(), "224.0.0.0/4"));
        }
        if (config.enableIPv6()) {
            apply("ip6tables", rules(config.ipv6Network().toString(), own.ipv6Subnet().toString(), "ff00::/8"));
        }
    }

    private void apply(String tool, String rules) {
        IpRunner.Output out = runner.exec(runner.inNamespace(List.of(tool + "-restore", "--noflush", "-w", "5")), rules);
        if (out.exitCode() != 0) {
            throw new IpException(tool + "-restore of the --ip-masq rules failed: " + out.stderr().strip());
        }
        ensureJump(tool, "nat", "POSTROUTING", NAT_CHAIN);
        ensureJump(tool, "filter", "FORWARD", FWD_CHAIN);
    }

    private void ensureJump(String tool, String table, String from, String to) {
        IpRunner.Output check = runner.exec(runner.inNamespace(jump(tool, table, "-C", from, to)), null);
        if (check.exitCode() == 0) {
            return;
        }
        IpRunner.Output insert = runner.exec(runner.inNamespace(jump(tool, table, "-I", from, to)), null);
        if (insert.exitCode() != 0) {
            throw new IpException("cannot add jump from " + table + "/" + from + " to " + to + ": " + insert.stderr().strip());
        }
    }

    private static List<String> jump(String tool, String table, String op, String from, String to) {
        return Stream.concat(Stream.of(tool, "-w", "5", "-t", table, op),
                Stream.of(from, "-m", "comment", "--comment", COMMENT, "-j", to)).toList();
    }

    @Override
    public void cleanUp() {
        for (String tool : new String[] {"iptables", "ip6tables"}) {
            for (String[] t : new String[][] {{"nat", "POSTROUTING", NAT_CHAIN}, {"filter", "FORWARD", FWD_CHAIN}}) {
                // every copy of the jump, then the chain; absent ones fail quietly
                for (int i = 0; i < 10 && runner.exec(runner.inNamespace(jump(tool, t[0], "-D", t[1], t[2])), null).exitCode() == 0; i++) {
                    // removed one
                }
                List<String> flush = new ArrayList<>(List.of(tool, "-w", "5", "-t", t[0], "-F", t[2]));
                runner.exec(runner.inNamespace(flush), null);
                runner.exec(runner.inNamespace(List.of(tool, "-w", "5", "-t", t[0], "-X", t[2])), null);
            }
        }
    }
}
