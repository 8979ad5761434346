package dev.railyard.proxy.render.nftables;

import dev.railyard.nftables.BaseChain;
import dev.railyard.nftables.Chain;
import dev.railyard.nftables.NftMap;
import dev.railyard.nftables.NftSet;

import java.util.List;

/**
 * The names kube-proxy's nftables mode gives its table, chains, sets and maps (pkg/proxy/nftables/proxier.go),
 * which Railyard keeps so that dashboards, runbooks and diffs written for kube-proxy read the same.
 */
public final class NftablesLayout {
    /** One table per family: {@code table ip kube-proxy} and {@code table ip6 kube-proxy}. */
    public static final String TABLE = "kube-proxy";
    public static final String TABLE_COMMENT = "rules for kube-proxy";

    static final String FILTER_PREROUTING_PRE_DNAT = "filter-prerouting-pre-dnat";
    static final String FILTER_OUTPUT_PRE_DNAT = "filter-output-pre-dnat";
    static final String FILTER_INPUT = "filter-input";
    static final String FILTER_FORWARD = "filter-forward";
    static final String FILTER_OUTPUT = "filter-output";
    static final String NAT_PREROUTING = "nat-prerouting";
    static final String NAT_OUTPUT = "nat-output";
    static final String NAT_POSTROUTING = "nat-postrouting";

    static final String SERVICES = "services";
    static final String SERVICE_IPS = "service-ips";
    static final String SERVICE_NODEPORTS = "service-nodeports";
    static final String NODEPORT_IPS = "nodeport-ips";
    static final String CLUSTER_IPS = "cluster-ips";
    static final String SERVICE_ENDPOINTS_CHECK = "service-endpoints-check";
    static final String NODEPORT_ENDPOINTS_CHECK = "nodeport-endpoints-check";
    static final String NO_ENDPOINT_SERVICES = "no-endpoint-services";
    static final String NO_ENDPOINT_NODEPORTS = "no-endpoint-nodeports";
    static final String REJECT_CHAIN = "reject-chain";
    static final String CLUSTER_IPS_CHECK = "cluster-ips-check";
    static final String FIREWALL_IPS = "firewall-ips";
    static final String FIREWALL_CHECK = "firewall-check";
    static final String MARK_MASQ = "mark-for-masquerade";
    static final String MASQUERADING = "masquerading";
    /** The flat layout's set of (endpoint address . endpoint address), for hairpin masquerading. */
    static final String HAIRPIN_IPS = "hairpin-ips";

    /** Per-service chain prefixes; what follows is the port's or endpoint's nftables chain base. */
    public static final String SERVICE_PREFIX = "service-";
    public static final String LOCAL_PREFIX = "local-";
    public static final String EXTERNAL_PREFIX = "external-";
    public static final String FIREWALL_PREFIX = "firewall-";
    public static final String ENDPOINT_PREFIX = dev.railyard.proxy.model.Endpoint.NFTABLES_CHAIN_PREFIX;
    public static final String AFFINITY_PREFIX = "affinity-";
    private static final java.util.regex.Pattern ENDPOINT_MAP = java.util.regex.Pattern.compile(
            "endpoints-(tcp|udp|sctp)-[0-9]{1,10}");

    /** The base chains, in kube-proxy's order: filter before DNAT (source ranges), filter, nat. */
    static final List<Chain> BASE_CHAINS = List.of(
            base(FILTER_PREROUTING_PRE_DNAT, "filter", "prerouting", BaseChain.DSTNAT - 10),
            base(FILTER_OUTPUT_PRE_DNAT, "filter", "output", BaseChain.DSTNAT - 10),
            base(FILTER_INPUT, "filter", "input", BaseChain.FILTER),
            base(FILTER_FORWARD, "filter", "forward", BaseChain.FILTER),
            base(FILTER_OUTPUT, "filter", "output", BaseChain.FILTER),
            base(NAT_PREROUTING, "nat", "prerouting", BaseChain.DSTNAT),
            base(NAT_OUTPUT, "nat", "output", BaseChain.DSTNAT),
            base(NAT_POSTROUTING, "nat", "postrouting", BaseChain.SRCNAT));

    /** A jump from a base chain to one of ours, with the match that guards it ("" for none). */
    record Jump(String to, String from, String match) {
    }

    /**
     * kube-proxy's nftablesJumpChains, in its order. The endpoint checks reject, which kernels before 5.9 only
     * allow in input, forward and output, hence not from prerouting.
     */
    static final List<Jump> JUMPS = List.of(
            new Jump(NODEPORT_ENDPOINTS_CHECK, FILTER_INPUT, "ct state new"),
            new Jump(SERVICE_ENDPOINTS_CHECK, FILTER_INPUT, "ct state new"),
            new Jump(SERVICE_ENDPOINTS_CHECK, FILTER_FORWARD, "ct state new"),
            new Jump(SERVICE_ENDPOINTS_CHECK, FILTER_OUTPUT, "ct state new"),
            new Jump(FIREWALL_CHECK, FILTER_PREROUTING_PRE_DNAT, "ct state new"),
            new Jump(FIREWALL_CHECK, FILTER_OUTPUT_PRE_DNAT, "ct state new"),
            new Jump(SERVICES, NAT_OUTPUT, ""),
            new Jump(SERVICES, NAT_PREROUTING, ""),
            new Jump(MASQUERADING, NAT_POSTROUTING, ""),
            new Jump(CLUSTER_IPS_CHECK, FILTER_FORWARD, "ct state new"),
            new Jump(CLUSTER_IPS_CHECK, FILTER_OUTPUT, "ct state new"));

    private NftablesLayout() {
    }

    private static Chain base(String name, String type, String hook, int priority) {
        return new Chain(name, new BaseChain(type, hook, priority), null);
    }

    /** Per-service chains (and only they) have a '/' in their name, as kube-proxy's isServiceChainName. */
    public static boolean isServiceChain(String name) {
        return name.indexOf('/') >= 0;
    }

    /**
     * The flat layout's endpoint data map holding the block of keys that starts at {@code base}, for a protocol
     * ({@code tcp}, {@code udp}, {@code sctp}: the map's value types the port, and nft will not mix a
     * {@code th dport} map into a {@code meta l4proto tcp} rule). One map per protocol and shard of
     * {@link EndpointKeyBlocks#SHARD_KEYS} keys.
     */
    public static String endpointMap(String protocol, long base) {
        return "endpoints-" + protocol + "-" + (base / EndpointKeyBlocks.SHARD_KEYS);
    }

    /** Whether {@code name} is one of the flat layout's endpoint data maps. */
    public static boolean isEndpointMap(String name) {
        return ENDPOINT_MAP.matcher(name).matches();
    }

    /** The declaration of endpoint map {@code name} ({@link #isEndpointMap}) in a family's syntax. */
    static NftMap endpointMapDeclaration(String name, FamilySyntax syntax) {
        String protocol = name.substring("endpoints-".length(), name.lastIndexOf('-'));
        return NftMap.typeOf(name, "numgen random mod 1 : " + syntax.ipX() + " daddr . " + protocol + " dport",
                "endpoints of service ports, each port in its own range of keys");
    }

    /**
     * A per-endpoint affinity set: kube-proxy's ({@code affinity-HASH-ns/name/...}) or an earlier flat layout's
     * ({@code affinity-HASH}), which a restart finds and deletes.
     */
    public static boolean isAffinitySet(String name) {
        return name.startsWith(AFFINITY_PREFIX);
    }

    /**
     * The flat layout's one session-affinity set: (client address . endpoint key) pairs, each expiring its
     * service's timeout after the client's last new connection. One set rather than kube-proxy's set per endpoint
     * because the kernel finds a set by name by walking the table's list of sets: with a set per endpoint that walk
     * made a full sync quadratic (7.5 s of kernel time at 10,000 services, 2.0 s without affinity).
     */
    static final String CLIENT_AFFINITY = "client-affinity";
    /** Client and endpoint pairs the affinity set holds at most: kube-proxy's sets hold 65,535 each. */
    static final int CLIENT_AFFINITY_SIZE = 1 << 20;

    static NftSet clientAffinityDeclaration(FamilySyntax syntax) {
        return new NftSet(CLIENT_AFFINITY, syntax.ipX() + " saddr . numgen random mod 1", true,
                List.of("dynamic", "timeout"), 0, CLIENT_AFFINITY_SIZE,
                "clients of services with ClientIP affinity, with the key of their endpoint");
    }

    /**
     * The endpoint's key in the flat layout's affinity set, as the set's key expression writes it: a numgen that
     * always gives the key, because nft refuses a constant in a concatenation. The key is 32 bits of the
     * endpoint's KUBE-SEP hash (a SHA-256 of service port and endpoint), so it stays the same across restarts and
     * a client remembered before one is still remembered after it.
     */
    static String clientAffinityKey(FamilySyntax syntax, dev.railyard.proxy.model.Endpoint endpoint) {
        return syntax.ipX() + " saddr . numgen random mod 1 offset " + Long.toString(affinityKey(endpoint.hash()));
    }

    /** The first 32 bits of a base32 KUBE-SEP hash (A-Z, 2-7), unsigned. */
    static long affinityKey(String hash) {
        long bits = 0;
        for (int i = 0; i < 7; i++) {
            char c = hash.charAt(i);
            bits = bits << 5 | (c >= 'A' && c <= 'Z' ? c - 'A' : c - '2' + 26);
        }
        return bits >>> 3;
    }

    /**
     * Sets and maps of one service: kube-proxy's per-service names have a '/' in them, as their chains; an earlier
     * flat layout's affinity sets were named by hash alone.
     */
    public static boolean isServiceContainer(String name) {
        return name.indexOf('/') >= 0 || isAffinitySet(name);
    }
}
