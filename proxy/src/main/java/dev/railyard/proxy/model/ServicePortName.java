package dev.railyard.proxy.model;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.Objects;

/**
 * Identity of one port of one Service: namespace/name:port over a protocol, as kube-proxy's ServicePortName.
 * The hashes that name its iptables chains are derived once here, because every sync needs them.
 */
public final class ServicePortName implements Comparable<ServicePortName> {
    private static final Comparator<ServicePortName> ORDER = Comparator.comparing(ServicePortName::namespace)
            .thenComparing(ServicePortName::name)
            .thenComparing(ServicePortName::port)
            .thenComparing(ServicePortName::protocol);

    private final String namespace;
    private final String name;
    private final String port;
    private final Protocol protocol;
    private final String text;
    /** Kept rather than built per call: a partial render asks it of every service port. */
    private final String serviceKey;
    private final String hash;
    /** kube-proxy's nftables chain base; computed on first use, since only nftables mode needs it. */
    private String nftablesChainBase;

    private ServicePortName(String namespace, String name, String port, Protocol protocol) {
        this.namespace = Names.requireLabel(namespace, "namespace");
        if (!Names.isDns1035Label(name)) {
            throw new IllegalArgumentException("service name \"" + name + "\" is not a valid DNS-1035 label");
        }
        this.name = name;
        this.port = port.isEmpty() ? port : Names.requireLabel(port, "port name");
        this.protocol = Objects.requireNonNull(protocol, "protocol");
        this.serviceKey = namespace + "/" + name;
        this.text = serviceKey + (port.isEmpty() ? "" : ":" + port);
        this.hash = kubeHash(text + protocol.lowerCase());
    }

    /** @param port the port's name, empty for the single unnamed port a Service may have */
    public static ServicePortName of(String namespace, String name, String port, Protocol protocol) {
        return new ServicePortName(namespace, name, port == null ? "" : port, protocol);
    }

    public String namespace() {
        return namespace;
    }

    public String name() {
        return name;
    }

    public String port() {
        return port;
    }

    public Protocol protocol() {
        return protocol;
    }

    /** "namespace/name" — the unit a change tracker reports. */
    public String serviceKey() {
        return serviceKey;
    }

    /** kube-proxy's portProtoHash: the 16 characters after KUBE-SVC-, KUBE-EXT- and friends. */
    public String hash() {
        return hash;
    }

    /**
     * kube-proxy's nftables name for this port's chains after their prefix ({@code service-}, {@code local-},
     * {@code external-}, {@code firewall-}): {@code HASH-namespace/name/protocol/port}, e.g.
     * {@code ULMVA6XW-ns1/svc1/tcp/p80}. Computed once; a racy first use computes the same string twice.
     */
    public String nftablesChainBase() {
        String base = nftablesChainBase;
        if (base == null) {
            base = nftablesHashAndTruncate(nftablesName());
            nftablesChainBase = base;
        }
        return base;
    }

    /** "namespace/name/protocol/port", what kube-proxy's nftables names are built from. */
    String nftablesName() {
        return namespace + "/" + name + "/" + protocol.lowerCase() + "/" + port;
    }

    /**
     * kube-proxy's hashAndTruncate: the first 8 base32 characters of sha256(name), '-', name; cut to 237
     * characters plus "..." when longer than 240, so that a prefix of up to 16 still fits nft's 256.
     */
    static String nftablesHashAndTruncate(String name) {
        byte[] digest = sha256().digest(name.getBytes(StandardCharsets.UTF_8));
        String hashed = Base32.encodePrefix(digest, 8) + "-" + name;
        return hashed.length() > 240 ? hashed.substring(0, 237) + "..." : hashed;
    }

    /** Hash of one endpoint of this port ("ip:port", brackets around IPv6), as kube-proxy's KUBE-SEP- names. */
    public String endpointHash(String endpoint) {
        return kubeHash(text + protocol.lowerCase() + endpoint);
    }

    /** sha256, base32 (RFC 4648 alphabet), first 16 characters: what kube-proxy does to fit iptables' 28-char names. */
    static String kubeHash(String input) {
        byte[] digest = sha256().digest(input.getBytes(StandardCharsets.UTF_8));
        return Base32.encodePrefix(digest, 16);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime ships SHA-256", e);
        }
    }

    @Override
    public int compareTo(ServicePortName other) {
        // A render compares each service with its previous self, usually the very same object.
        if (this == other) {
            return 0;
        }
        return ORDER.compare(this, other);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof ServicePortName)) {
            return false;
        }
        ServicePortName that = (ServicePortName) o;
        return text.equals(that.text) && protocol == that.protocol;
    }

    @Override
    public int hashCode() {
        return text.hashCode() * 31 + protocol.hashCode();
    }

    /** "namespace/name:port", the form kube-proxy prints in rule comments. */
    @Override
    public String toString() {
        return text;
    }

    /** Base32 without padding, only as many characters as asked for (java.util has no Base32). */
    static final class Base32 {
        private static final char[] ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".toCharArray();

        private Base32() {
        }

        static String encodePrefix(byte[] data, int characters) {
            char[] out = new char[characters];
            int buffer = 0;
            int bits = 0;
            int in = 0;
            for (int i = 0; i < characters; i++) {
                if (bits < 5) {
                    buffer = (buffer << 8) | (in < data.length ? data[in++] & 0xff : 0);
                    bits += 8;
                }
                out[i] = ALPHABET[(buffer >>> (bits - 5)) & 31];
                bits -= 5;
            }
            return new String(out);
        }
    }

}
