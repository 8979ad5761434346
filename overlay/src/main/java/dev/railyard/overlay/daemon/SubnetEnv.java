package dev.railyard.overlay.daemon;

import dev.railyard.overlay.config.Ip4Net;
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
 * flannel's subnet.env, the contract with the flannel CNI plugin. Written to a temp file beside
 * the target and renamed over it, so the plugin never reads half a file.
 */
public record SubnetEnv(Ip4Net network, Ip4Net subnet, int mtu, boolean ipMasq) {

    /** The file's text, with FLANNEL_SUBNET as the subnet's first host address, as flannel writes it. */
    public String render() {
        return "FLANNEL_NETWORK=" + network + "\n"
                + "FLANNEL_SUBNET=" + Ip4Net.formatAddress(subnet.addressAt(1)) + "/" + subnet.prefixLength() + "\n"
                + "FLANNEL_MTU=" + mtu + "\n"
                + "FLANNEL_IPMASQ=" + ipMasq + "\n";
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

    /** The subnet recorded in an existing file, for reuse after a restart; null if absent or unreadable. */
    public static Ip4Net previousSubnet(Path file) {
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
            String s = vars.get("FLANNEL_SUBNET");
            if (s == null) {
                return null;
            }
            int slash = s.indexOf('/');
            int len = Integer.parseInt(s.substring(slash + 1));
            return new Ip4Net(Ip4Net.parseAddress(s.substring(0, slash)) & Ip4Net.mask(len), len);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
