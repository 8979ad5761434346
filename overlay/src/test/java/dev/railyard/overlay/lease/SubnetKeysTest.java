package dev.railyard.overlay.lease;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.config.Ip6Address;
import dev.railyard.overlay.config.Ip6Net;
import org.junit.jupiter.api.Test;

class SubnetKeysTest {
    @Test
    void usesFlannelLayout() {
        SubnetKeys k = new SubnetKeys("/coreos.com/network/");
        assertThat(k.configKey()).isEqualTo("/coreos.com/network/config");
        assertThat(k.subnetKey(Ip4Net.parse("10.1.2.0/24"))).isEqualTo("/coreos.com/network/subnets/10.1.2.0-24");
        assertThat(k.parseSubnetKey("/coreos.com/network/subnets/10.1.2.0-24"))
                .isEqualTo(LeaseSubnets.of(Ip4Net.parse("10.1.2.0/24")));
        assertThat(k.parseSubnetKey("/coreos.com/network/subnets/garbage")).isNull();
        assertThat(k.parseSubnetKey("/coreos.com/network/subnets/10.1.2.0-24&zz::-64")).isNull();
        assertThat(k.parseSubnetKey("/coreos.com/network/config")).isNull();
        assertThat(new SubnetKeys(null).prefix()).isEqualTo("/coreos.com/network");
    }

    @Test
    void dualStackAndIpv6OnlyKeysAreFlannels() {
        SubnetKeys k = new SubnetKeys("/coreos.com/network");
        LeaseSubnets dual = new LeaseSubnets(Ip4Net.parse("10.1.2.0/24"), Ip6Net.parse("fc00:0:0:3::/64"));
        // flannel's MakeSubnetKey: sn.StringSep(".", "-") + "&" + sn6.StringSep(":", "-"), Go's IPv6 text
        assertThat(k.subnetKey(dual)).isEqualTo("/coreos.com/network/subnets/10.1.2.0-24&fc00:0:0:3::-64");
        assertThat(k.parseSubnetKey(k.subnetKey(dual))).isEqualTo(dual);
        LeaseSubnets six = new LeaseSubnets(null, Ip6Net.parse("fd00:10:244:1::/64"));
        assertThat(k.subnetKey(six)).isEqualTo("/coreos.com/network/subnets/0.0.0.0-0&fd00:10:244:1::-64");
        assertThat(k.parseSubnetKey(k.subnetKey(six))).isEqualTo(six);
        assertThatThrownBy(() -> new LeaseSubnets(null, null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void ipv6TextIsGosNetIpString() {
        assertThat(Ip6Address.parse("FC00:0000:0000:0003:0000:0000:0000:0000")).hasToString("fc00:0:0:3::");
        assertThat(Ip6Address.parse("2001:db8:0:0:1:0:0:1")).hasToString("2001:db8::1:0:0:1"); // first of equal runs
        assertThat(Ip6Address.parse("2001:db8:0:1:1:1:1:1")).hasToString("2001:db8:0:1:1:1:1:1"); // one zero group stays
        assertThat(Ip6Address.parse("::")).hasToString("::");
        assertThat(Ip6Address.parse("::1")).hasToString("::1");
        assertThat(Ip6Address.parse("fe80::")).hasToString("fe80::");
        assertThat(Ip6Address.parse("fd00::ff").plus(1)).hasToString("fd00::100");
        assertThat(new Ip6Address(0, -1L).plus(1)).hasToString("0:0:0:1::");
        for (String bad : new String[] {"1:2:3", "1::2::3", "12345::", "g::", "1.2.3.4", "1:2:3:4:5:6:7:8:9", ":"}) {
            assertThatThrownBy(() -> Ip6Address.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> Ip6Net.parse("fd00::1/64")).hasMessageContaining("has host bits set; did you mean fd00::/64?");
        assertThat(Ip6Net.parse("fd00::/48").contains(Ip6Net.parse("fd00:0:0:ff::/64"))).isTrue();
        assertThat(Ip6Net.parse("fd00::/48").contains(Ip6Net.parse("fd00:1::/64"))).isFalse();
    }

    @Test
    void leaseAttrsRoundTripFlannelJson() {
        String flannel = "{\"PublicIP\":\"192.168.1.5\",\"PublicIPv6\":null,\"BackendType\":\"vxlan\","
                + "\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"aa:bb:cc:dd:ee:ff\"}}";
        LeaseAttrs a = LeaseAttrs.fromJson("k", flannel);
        assertThat(a.publicIpString()).isEqualTo("192.168.1.5");
        assertThat(a.publicIpv6()).isNull();
        assertThat(a.backendData().getAsJsonObject().get("VtepMAC").getAsString()).isEqualTo("aa:bb:cc:dd:ee:ff");
        assertThat(a.toJson()).isEqualTo(flannel);
        assertThat(LeaseAttrs.fromJson("k", a.toJson())).isEqualTo(a);
        assertThatThrownBy(() -> LeaseAttrs.fromJson("/x/subnets/1.2.3.0-24", "{\"BackendType\":\"vxlan\"}"))
                .hasMessageContaining("lease /x/subnets/1.2.3.0-24 field PublicIP: missing");
    }

    @Test
    void dualStackLeaseAttrsCarryTheIpv6AddressAndData() {
        String flannel = "{\"PublicIP\":\"192.168.1.5\",\"PublicIPv6\":\"fd77::5\",\"BackendType\":\"vxlan\","
                + "\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"aa:bb:cc:dd:ee:ff\"},"
                + "\"BackendV6Data\":{\"VNI\":1,\"VtepMAC\":\"aa:bb:cc:dd:ee:00\"}}";
        LeaseAttrs a = LeaseAttrs.fromJson("k", flannel);
        assertThat(a.publicIpv6()).isEqualTo(Ip6Address.parse("fd77::5"));
        assertThat(a.backendV6Data().getAsJsonObject().get("VtepMAC").getAsString()).isEqualTo("aa:bb:cc:dd:ee:00");
        assertThat(a.toJson()).isEqualTo(flannel);
        assertThat(a.hostName()).isEqualTo("192.168.1.5");
        // IPv6-only: flannel writes the zero IPv4 address; the host is named by its IPv6 one
        LeaseAttrs six = LeaseAttrs.fromJson("k", "{\"PublicIP\":\"0.0.0.0\",\"PublicIPv6\":\"fd77::6\",\"BackendType\":\"host-gw\"}");
        assertThat(six.hasPublicIp()).isFalse();
        assertThat(six.hostName()).isEqualTo("fd77::6");
        assertThatThrownBy(() -> LeaseAttrs.fromJson("k", "{\"PublicIP\":\"0.0.0.0\",\"BackendType\":\"host-gw\"}"))
                .hasMessageContaining("field PublicIP: 0.0.0.0 and no PublicIPv6");
        assertThatThrownBy(() -> LeaseAttrs.fromJson("k", "{\"PublicIP\":\"1.2.3.4\",\"PublicIPv6\":\"x\",\"BackendType\":\"v\"}"))
                .hasMessageContaining("field PublicIPv6: 'x' is not an IPv6 address");
    }
}
