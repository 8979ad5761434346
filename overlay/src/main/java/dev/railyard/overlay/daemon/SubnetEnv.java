package dev.railyard.overlay.daemon;

import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.config.Ip6Net;
import dev.railyard.overlay.config.NetworkConfig;
import dev.railyard.overlay.lease.Lease;
import dev.railyard.overlay.lease.LeaseSubnets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * flannel's subnet.env, the contract with the flannel CNI plugin. Written to a temp file beside the target and
 * renamed over it, so the plugin never reads half a file.
 *
 * @param network FLANNEL_NETWORK, or null without IPv4
 * @param subnet this host's IPv4 subnet, or null without IPv4
 * @param network6 FLANNEL_IPV6_NETWORK, or null without IPv6
 * @param subnet6 this host's IPv6 subnet, or null without IPv6
 */
public record SubnetEnv(Ip4Net network, Ip4Net subnet, Ip6Net network6, Ip6Net subnet6, int mtu, boolean ipMasq) {

    /** An IPv4-only file. */
    public SubnetEnv(Ip4Net network, Ip4Net subnet, int mtu, boolean ipMasq) {
        this(network, subnet, null, null, mtu, ipMasq);
    }

    public static SubnetEnv of(NetworkConfig config, Lease lease, int mtu, boolean ipMasq) {
        return new SubnetEnv(config.network(), config.enableIPv4() ? lease.subnet() : null, config.ipv6Network(),
                config.enableIPv6() ? lease.ipv6Subnet() : null, mtu, ipMasq);
    }

    /** The file's text, each subnet written as its first host address, as flannel writes it. */
    public String render() {
        StringBuilder sb = new StringBuilder();
        if (subnet != null) {
            sb.append("FLANNEL_NETWORK=").append(network).append('\n')
                    .append("FLANNEL_SUBNET=").append(Ip4Net.formatAddress(subnet.addressAt(1))).append('/')
                    .append(subnet.prefixLength()).append('\n');
        }
        if (subnet6 != null) {
            sb.append("FLANNEL_IPV6_NETWORK=").append(network6).append('\n')
                    .append("FLANNEL_IPV6_SUBNET=").append(subnet6.addressAt(1)).append('/')
                    .append(subnet6.prefixLength()).append('\n');
        }
        return sb.append("FLANNEL_MTU=").append(mtu).append('\n')
                .append("FLANNEL_IPMASQ=").append(ipMasq).append('\n').toString();
    }

    public void write(Path file) {
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
            try {
                Files.writeString(tmp, render(), StandardCharsets.UTF_8);
                try {
                    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write subnet file " + file + ": " + e.getMessage(), e);
        }
    }

    /** The IPv4 subnet recorded in an existing file; null if absent or unreadable. */
    public static Ip4Net previousSubnet(Path file) {
        LeaseSubnets s = previousSubnets(file);
        return s == null ? null : s.ipv4();
    }

    /** The subnets recorded in an existing file, for reuse after a restart; null if absent or unreadable. */
    public static LeaseSubnets previousSubnets(Path file) {
        try {
            if (!Files.isRegularFile(file)) {
                return null;
            }
            Map<String, String> vars = new LinkedHashMap<>();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    vars.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
                }
            }
            Ip4Net four = null;
            String s = vars.get("FLANNEL_SUBNET");
            if (s != null) {
                int slash = s.indexOf('/');
                int len = Integer.parseInt(s.substring(slash + 1));
                four = new Ip4Net(Ip4Net.parseAddress(s.substring(0, slash)) & Ip4Net.mask(len), len);
            }
            Ip6Net six = null;
            String s6 = vars.get("FLANNEL_IPV6_SUBNET");
            if (s6 != null) {
                int slash = s6.indexOf('/');
                int len = Integer.parseInt(s6.substring(slash + 1));
                six = new Ip6Net(dev.railyard.overlay.config.Ip6Address.parse(s6.substring(0, slash)).mask(len), len);
            }
            return four == null && six == null ? null : new LeaseSubnets(four, six);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
