package dev.railyard.overlay.ip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.config.Ip6Address;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.RequiresPrivileges;
import dev.railyard.testkit.SharedLink;
import dev.railyard.testkit.VethLink;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * flannel's interface choice on a real namespace with two interfaces: eth0 (dual-stack, the LAN) and ext1 (IPv4
 * and IPv6, a second link), the IPv4 default route through ext1 and the IPv6 one through eth0.
 */
@RequiresPrivileges(commands = {"ip"})
class InterfaceSelectorTest {

    private static InterfaceSelector.Options options(List<String> ifaces, List<String> regexes, String canReach,
                                                     String publicIp, String publicIpv6) {
        return new InterfaceSelector.Options(ifaces, regexes, canReach, publicIp, publicIpv6);
    }

    @Test
    void choosesAsFlannelDoes() {
        try (SharedLink lan = SharedLink.builder().hosts(1).ipv4Subnet("192.168.91.0/24").ipv6Subnet("fd91::/64").create();
             NetworkNamespace other = NetworkNamespace.create()) {
            NetworkNamespace host = lan.host(0).namespace();
            VethLink.between(host, other).names("ext1", "peer1").ipv4("10.91.0.1/24", "10.91.0.2/24")
                    .ipv6("fd92::1/64", "fd92::2/64").create();
            host.execChecked("ip", "route", "add", "default", "via", "10.91.0.2");
            host.execChecked("ip", "-6", "route", "add", "default", "via", "fd91::99", "dev", "eth0");
            InterfaceSelector selector = new InterfaceSelector(new IpRunner(host.name()));

            // nothing given: the default route's interface, per family
            assertThat(selector.select(options(null, null, null, null, null), true, false).name()).isEqualTo("ext1");
            assertThat(selector.select(options(null, null, null, null, null), false, true).name()).isEqualTo("eth0");
            // dual-stack needs both default routes on one interface
            assertThatThrownBy(() -> selector.select(options(null, null, null, null, null), true, true))
                    .hasMessageContaining("IPv6 default route's interface eth0 is not the IPv4 default route's ext1");
            // the public IP's interface, when it is local
            ExternalInterface byPublic = selector.select(options(null, null, null, "192.168.91.1", null), true, true);
            assertThat(byPublic.name()).isEqualTo("eth0");
            assertThat(byPublic.address6()).isEqualTo(Ip6Address.parse("fd91::1"));
            assertThat(byPublic.network6()).hasToString("fd91::/64");
            assertThat(byPublic.publicIpv6()).isEqualTo(Ip6Address.parse("fd91::1"));

            // --iface in order: the first that exists wins; an address picks that address
            ExternalInterface first = selector.select(options(List.of("eth9", "10.91.0.1", "eth0"), null, null, null, null), true, false);
            assertThat(first.name()).isEqualTo("ext1");
            assertThat(first.address()).isEqualTo(Ip4Net.parseAddress("10.91.0.1"));
            ExternalInterface v6 = selector.select(options(List.of("fd92::1"), null, null, null, "2001:db8::7"), false, true);
            assertThat(v6.name()).isEqualTo("ext1");
            assertThat(v6.hasIpv4()).isFalse();
            assertThat(v6.publicIpv6()).isEqualTo(Ip6Address.parse("2001:db8::7"));

            // --iface-regex: addresses first (dual-stack: one of each family on one interface), then names
            assertThat(selector.select(options(null, List.of("^10\\.91\\."), null, null, null), true, false).name()).isEqualTo("ext1");
            assertThat(selector.select(options(null, List.of("^(192\\.168|fd91)"), null, null, null), true, true).name())
                    .isEqualTo("eth0");
            assertThat(selector.select(options(null, List.of("^eth"), null, null, null), true, false).name()).isEqualTo("eth0");
            assertThat(selector.select(options(List.of("eth7"), List.of("nomatch", "^ext"), null, null, null), true, false).name())
                    .isEqualTo("ext1");

            // --iface-can-reach: the interface and source address of the route to it
            ExternalInterface reach = selector.select(options(null, null, "192.168.91.77", null, null), true, false);
            assertThat(reach.name()).isEqualTo("eth0");
            assertThat(reach.address()).isEqualTo(Ip4Net.parseAddress("192.168.91.1"));
            assertThat(selector.select(options(null, null, "fd92::9", null, null), false, true).name()).isEqualTo("ext1");

            // selectors that match nothing: one message naming each and what the host has
            host.execChecked("ip", "route", "del", "default");
            assertThatThrownBy(() -> selector.select(options(List.of("eth9"), List.of("^wlan"), "203.0.113.1", null, null), true, false))
                    .isInstanceOf(IpException.class)
                    .hasMessageContaining("no interface matches --iface eth9: no interface with that name or address; "
                            + "--iface-regex ^wlan: no interface address or name matches; --iface-can-reach 203.0.113.1: no route to it")
                    .hasMessageContaining("eth0 [192.168.91.1 fd91::1")
                    .hasMessageContaining("ext1 [10.91.0.1 fd92::1");
            assertThatThrownBy(() -> selector.select(options(null, List.of("(["), null, null, null), true, false))
                    .hasMessageContaining("--iface-regex ([: not a regular expression");
            // an interface without an address of a needed family
            host.execChecked("ip", "-6", "addr", "flush", "dev", "ext1");
            assertThatThrownBy(() -> selector.select(options(List.of("ext1"), null, null, null, null), true, true))
                    .hasMessageContaining("interface ext1 has no IPv6 address");
        }
    }
}
