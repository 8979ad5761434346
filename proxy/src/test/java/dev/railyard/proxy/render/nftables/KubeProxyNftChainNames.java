package dev.railyard.proxy.render.nftables;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The test side's own statement of kube-proxy's nftables chain-name bases ({@code servicePortChainNameBase},
 * {@code servicePortEndpointChainNameBase}, {@code hashAndTruncate} in pkg/proxy/nftables/proxier.go), used to check
 * chain-name-hashes.tsv: {@code base32(sha256(name))[:8] + "-" + name}, where name is
 * {@code namespace/service/protocol/port} (plus {@code __ip/port} with IPv6 colons as dots for endpoints), and a result
 * longer than 240 characters is cut to 237 plus "...". Chains and sets add a prefix: service-, external-, local-,
 * firewall-, endpoint-, affinity-.
 */
final class KubeProxyNftChainNames {
    /** knftables.NameLengthMax (256) minus the longest prefix kube-proxy adds (16). */
    static final int MAX_BASE_LENGTH = 240;
    private static final char[] BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".toCharArray();

    private KubeProxyNftChainNames() {
    }

    static String servicePortChainNameBase(String namespace, String name, String port, String protocol) {
        return hashAndTruncate(namespace + "/" + name + "/" + protocol + "/" + port);
    }

    /** {@code endpoint} as net.JoinHostPort writes it: "10.180.0.1:80" or "[fd00::1]:80". */
    static String servicePortEndpointChainNameBase(String namespace, String name, String port, String protocol,
            String endpoint) {
        int colon = endpoint.lastIndexOf(':');
        String host = endpoint.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        String endpointPort = endpoint.substring(colon + 1);
        return hashAndTruncate(namespace + "/" + name + "/" + protocol + "/" + port + "__" + host.replace(':', '.')
                + "/" + endpointPort);
    }

    static String hashAndTruncate(String name) {
        String hashed = base32(sha256(name)).substring(0, 8) + "-" + name;
        if (hashed.length() > MAX_BASE_LENGTH) {
            hashed = hashed.substring(0, MAX_BASE_LENGTH - 3) + "...";
        }
        return hashed;
    }

    /** RFC 4648 base32 with padding (Go's base32.StdEncoding). */
    static String base32(byte[] data) {
        StringBuilder out = new StringBuilder();
        int buffer = 0;
        int bits = 0;
        for (byte b : data) {
            buffer = (buffer << 8) | (b & 0xff);
            bits += 8;
            while (bits >= 5) {
                out.append(BASE32[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }
        if (bits > 0) {
            out.append(BASE32[(buffer << (5 - bits)) & 31]);
        }
        while (out.length() % 8 != 0) {
            out.append('=');
        }
        return out.toString();
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
