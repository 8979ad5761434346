package dev.railyard.overlay.lease;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.overlay.config.Ip4Net;
import org.junit.jupiter.api.Test;

class SubnetKeysTest {
    @Test
    void usesFlannelLayout() {
        SubnetKeys k = new SubnetKeys("/coreos.com/network/");
        assertThat(k.configKey()).isEqualTo("/coreos.com/network/config");
        assertThat(k.subnetKey(Ip4Net.parse("10.1.2.0/24"))).isEqualTo("/coreos.com/network/subnets/10.1.2.0-24");
        assertThat(k.parseSubnetKey("/coreos.com/network/subnets/10.1.2.0-24")).isEqualTo(Ip4Net.parse("10.1.2.0/24"));
        assertThat(k.parseSubnetKey("/coreos.com/network/subnets/10.1.2.0-24-fc00::-64")).isEqualTo(Ip4Net.parse("10.1.2.0/24"));
        assertThat(k.parseSubnetKey("/coreos.com/network/subnets/garbage")).isNull();
        assertThat(k.parseSubnetKey("/coreos.com/network/config")).isNull();
        assertThat(new SubnetKeys(null).prefix()).isEqualTo("/coreos.com/network");
    }

    @Test
    void leaseAttrsRoundTripFlannelJson() {
        String flannel = "{\"PublicIP\":\"192.168.1.5\",\"PublicIPv6\":null,\"BackendType\":\"vxlan\","
                + "\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"aa:bb:cc:dd:ee:ff\"}}";
        LeaseAttrs a = LeaseAttrs.fromJson("k", flannel);
        assertThat(a.publicIpString()).isEqualTo("192.168.1.5");
        assertThat(a.backendData().getAsJsonObject().get("VtepMAC").getAsString()).isEqualTo("aa:bb:cc:dd:ee:ff");
        assertThat(LeaseAttrs.fromJson("k", a.toJson())).isEqualTo(a);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> LeaseAttrs.fromJson("/x/subnets/1.2.3.0-24", "{\"BackendType\":\"vxlan\"}"))
                .hasMessageContaining("lease /x/subnets/1.2.3.0-24 field PublicIP: missing");
    }
}
