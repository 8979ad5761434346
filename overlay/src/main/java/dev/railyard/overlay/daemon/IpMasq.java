package dev.railyard.overlay.daemon;

import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.ip.IpException;
import dev.railyard.overlay.ip.IpRunner;
import java.util.List;

/**
 * flannel's {@code --ip-masq} rules: pod-to-pod traffic keeps its source address, traffic from pods
 * to anywhere else is masqueraded, and forwarding of pod traffic is accepted even where the FORWARD
 * policy is DROP. The rules live in our own chains, replaced atomically with iptables-restore, so
 * re-applying never duplicates them and nothing else in the tables is touched.
 */
public final class IpMasq {
    static final String NAT_CHAIN = "RAILYARD-POSTRTG";
    static final String FWD_CHAIN = "RAILYARD-FWD";
    private static final String COMMENT = "railyard overlay";

    private final IpRunner runner;

    public IpMasq(IpRunner runner) {
        this.runner = runner;
    }

    /** The iptables-restore input for {@code network}, with {@code subnet} being this host's. */
    static String rules(Ip4Net network, Ip4Net subnet) {
        String n = network.toString();
        return "*nat\n"
                + ":" + NAT_CHAIN + " - [0:0]\n"
                + "-A " + NAT_CHAIN + " -s " + n + " -d " + n + " -m comment --comment \"pod to pod: keep source\" -j RETURN\n"
                + "-A " + NAT_CHAIN + " -s " + n + " ! -d 224.0.0.0/4 -m comment --comment \"pod to outside\" -j MASQUERADE --random-fully\n"
                + "-A " + NAT_CHAIN + " ! -s " + n + " -d " + subnet + " -m comment --comment \"outside to local pods\" -j RETURN\n"
                + "-A " + NAT_CHAIN + " ! -s " + n + " -d " + n + " -m comment --comment \"outside to remote pods\" -j MASQUERADE --random-fully\n"
                + "COMMIT\n"
                + "*filter\n"
                + ":" + FWD_CHAIN + " - [0:0]\n"
                + "-A " + FWD_CHAIN + " -s " + n + " -j ACCEPT\n"
                + "-A " + FWD_CHAIN + " -d " + n + " -j ACCEPT\n"
                + "COMMIT\n";
    }

    public void apply(Ip4Net network, Ip4Net subnet) {
        IpRunner.Output out = runner.exec(runner.inNamespace(List.of("iptables-restore", "--noflush", "-w", "5")),
                rules(network, subnet));
        if (out.exitCode() != 0) {
            throw new IpException("iptables-restore of the --ip-masq rules failed: " + out.stderr().strip());
        }
        ensureJump("nat", "POSTROUTING", NAT_CHAIN);
        ensureJump("filter", "FORWARD", FWD_CHAIN);
    }

    private void ensureJump(String table, String from, String to) {
        List<String> rule = List.of(from, "-m", "comment", "--comment", COMMENT, "-j", to);
        IpRunner.Output check = runner.exec(runner.inNamespace(concat(List.of("iptables", "-w", "5", "-t", table, "-C"), rule)), null);
        if (check.exitCode() == 0) {
            return;
        }
        IpRunner.Output insert = runner.exec(runner.inNamespace(concat(List.of("iptables", "-w", "5", "-t", table, "-I"), rule)), null);
        if (insert.exitCode() != 0) {
            throw new IpException("cannot add jump from " + table + "/" + from + " to " + to + ": " + insert.stderr().strip());
        }
    }

    private static List<String> concat(List<String> a, List<String> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
    }
}
