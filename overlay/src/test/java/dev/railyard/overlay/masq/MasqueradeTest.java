package dev.railyard.overlay.masq;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.nftables.Family;
import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.config.Ip6Net;
import dev.railyard.overlay.config.NetworkConfig;
import dev.railyard.overlay.ip.IpRunner;
import dev.railyard.overlay.lease.Lease;
import dev.railyard.overlay.lease.LeaseAttrs;
import dev.railyard.overlay.lease.LeaseSubnets;
import dev.railyard.testkit.AgentHandle;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.ProbeResult;
import dev.railyard.testkit.RequiresPrivileges;
import dev.railyard.testkit.VethLink;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * {@code --ip-masq} on a real node namespace between a pod and the outside world, in both modes: flannel's nftables
 * tables with {@code EnableNFTables}, iptables and ip6tables without; pod traffic leaving the pod network is
 * masqueraded in both families, and starting in one mode removes the other's rules.
 */
@RequiresPrivileges(commands = {"ip", "nft", "iptables", "ip6tables", "iptables-restore", "ip6tables-restore"})
class MasqueradeTest {
    private static final NetworkConfig NFT = NetworkConfig.parse("{\"Network\":\"10.244.0.0/16\",\"EnableIPv6\":true,"
            + "\"IPv6Network\":\"fd00:244::/56\",\"EnableNFTables\":true,\"Backend\":{\"Type\":\"host-gw\"}}");
    private static final NetworkConfig IPT = NetworkConfig.parse(NFT.toJson().replace("\"EnableNFTables\":true,", ""));
    private static final Lease OWN = new Lease(new LeaseSubnets(Ip4Net.parse("10.244.7.0/24"),
            Ip6Net.parse("fd00:244:0:7::/64")), new LeaseAttrs(1, "host-gw", null), 0, Instant.MAX);

    @Test
    void flannelsNftablesTablesHoldItsRulesInItsOrder() throws Exception {
        String v4 = NftablesMasquerade.transaction(Family.IP, "10.244.0.0/16", "10.244.7.0/24").script();
        assertThat(v4).isEqualTo("""
                add table ip flannel-ipv4 { comment "rules for flannel-ipv4" ; }
                add chain ip flannel-ipv4 forward { type filter hook forward priority 0 ; comment "chain to accept flannel traffic" ; }
                flush chain ip flannel-ipv4 forward
                add rule ip flannel-ipv4 forward ip saddr 10.244.0.0/16 accept
                add rule ip flannel-ipv4 forward ip daddr 10.244.0.0/16 accept
                add chain ip flannel-ipv4 postrtg { type nat hook postrouting priority 100 ; comment "chain to manage traffic masquerading by flannel" ; }
                flush chain ip flannel-ipv4 postrtg
                add rule ip flannel-ipv4 postrtg meta mark 0x4000 return
                add rule ip flannel-ipv4 postrtg ip saddr 10.244.7.0/24 ip daddr 10.244.0.0/16 return
                add rule ip flannel-ipv4 postrtg ip saddr 10.244.0.0/16 ip daddr 10.244.7.0/24 return
                add rule ip flannel-ipv4 postrtg ip saddr != 10.244.7.0/24 ip daddr 10.244.0.0/16 return
                add rule ip flannel-ipv4 postrtg ip saddr 10.244.0.0/16 ip daddr != 224.0.0.0/4 masquerade fully-random
                add rule ip flannel-ipv4 postrtg ip saddr != 10.244.0.0/16 ip daddr 10.244.0.0/16 masquerade fully-random
                """);
    }

    @Test
    void podTrafficToTheOutsideIsMasqueradedInBothModesAndFamilies() {
        try (NetworkNamespace node = NetworkNamespace.create();
             NetworkNamespace pod = NetworkNamespace.create();
             NetworkNamespace outside = NetworkNamespace.create()) {
            node.sysctl("net.ipv4.ip_forward", "1");
            node.sysctl("net.ipv6.conf.all.forwarding", "1");
            VethLink.between(node, pod).names("cni0", "eth0").ipv4("10.244.7.1/24", "10.244.7.2/24")
                    .ipv6("fd00:244:0:7::1/64", "fd00:244:0:7::2/64").create();
            VethLink.between(node, outside).names("eth0", "eth0").ipv4("192.168.80.1/24", "192.168.80.2/24")
                    .ipv6("fd80::1/64", "fd80::2/64").create();
            pod.execChecked("ip", "route", "add", "default", "via", "10.244.7.1");
            pod.execChecked("ip", "-6", "route", "add", "default", "via", "fd00:244:0:7::1");
            IpRunner ip = new IpRunner(node.name());
            try (AgentHandle client = AgentHandle.start(pod); AgentHandle server = AgentHandle.start(outside)) {
                server.tcpServe(9090, "outside");
                // no masquerading: the outside sees the pod (and, having no route back, cannot answer)
                assertThat(client.tcpGet("192.168.80.2", 9090, Duration.ofSeconds(1)).isOk()).isFalse();

                new NftablesMasquerade(ip).apply(NFT, OWN);
                assertSeenAs(client, "192.168.80.2", "192.168.80.1");
                assertSeenAs(client, "fd80::2", "fd80::1");
                String nft = node.execChecked("nft", "list", "table", "ip6", "flannel-ipv6").stdout();
                assertThat(nft).contains("ip6 saddr fd00:244::/56 ip6 daddr != ff00::/8 masquerade fully-random");

                // the daemon in iptables mode cleans up the nftables tables first, then installs its chains
                Masquerade.otherThan(IPT, ip).cleanUp();
                assertThat(node.execChecked("nft", "list", "tables").stdout()).doesNotContain("flannel-ipv");
                new IptablesMasquerade(ip).apply(IPT, OWN);
                new IptablesMasquerade(ip).apply(IPT, OWN); // re-applied by the resync: no duplicates
                assertSeenAs(client, "192.168.80.2", "192.168.80.1");
                assertSeenAs(client, "fd80::2", "fd80::1");
                for (String tool : new String[] {"iptables-save", "ip6tables-save"}) {
                    String saved = node.execChecked(tool, "-t", "nat").stdout();
                    assertThat(saved.lines().filter(l -> l.contains("-j RAILYARD-POSTRTG")).count()).as(tool).isEqualTo(1);
                }

                // and back: nftables mode removes the iptables chains and jumps
                Masquerade.otherThan(NFT, ip).cleanUp();
                for (String tool : new String[] {"iptables-save", "ip6tables-save"}) {
                    assertThat(node.execChecked(tool).stdout()).as(tool).doesNotContain("RAILYARD-");
                }
                assertThat(client.tcpGet("192.168.80.2", 9090, Duration.ofSeconds(1)).isOk()).isFalse();
            }
        }
    }

    private static void assertSeenAs(AgentHandle client, String server, String expectedSource) {
        ProbeResult r = client.tcpGet(server, 9090, Duration.ofSeconds(3));
        assertThat(r.isOk()).as("%s: %s", server, r).isTrue();
        assertThat(r.serverReply().clientIp()).isEqualTo(expectedSource);
    }
}
